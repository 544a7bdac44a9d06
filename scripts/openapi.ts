/**
 * Writes the committed openapi.json from the code (`npm run openapi`), or with `--check` fails when the
 * committed file has drifted from what the code describes.
 */
import 'reflect-metadata';

import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';

import { pino } from 'pino';

import { createApp } from '../src/app.factory.js';
import { loadConfig } from '../src/config/app-config.js';
import { packageInfo } from '../src/config/package-info.js';
import { buildOpenApiDocument, serializeOpenApi } from '../src/docs/openapi.js';

const TARGET = new URL('../openapi.json', import.meta.url);

async function main(): Promise<void> {
  // Defaults only: the document must not depend on whoever runs the script.
  // Throwaway secrets: the app is built only to read its routes, and would otherwise warn about the
  // built-in ones.
  const config = loadConfig(
    {
      LOG_LEVEL: 'warn',
      JWT_SECRET: randomBytes(32).toString('hex'),
      URL_SIGNING_KEY: randomBytes(32).toString('hex'),
    },
    packageInfo().version,
  );
  const app = await createApp(config, { logger: pino({ level: 'warn' }) });
  const generated = serializeOpenApi(buildOpenApiDocument(app, config));
  await app.close();

  if (process.argv.includes('--check')) {
    const committed = await readFile(TARGET, 'utf8').catch(() => '');
    if (committed !== generated) {
      console.error(
        'openapi.json is out of date with the code. Run "npm run openapi" and commit the result.',
      );
      process.exit(1);
    }
    console.log('openapi.json is up to date');
    return;
  }
  await writeFile(TARGET, generated);
  console.log('wrote openapi.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
