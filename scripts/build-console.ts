/**
 * Builds the web console (console/src) into dist/console-web: one hashed JS bundle and one CSS file,
 * each also written gzip- and brotli-compressed so the hub can send them compressed without work per
 * request. Prints the compressed sizes; `--check-size` fails when the first load exceeds its budget.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CONSOLE_OUT = join(ROOT, 'dist', 'console-web');

export interface ConsoleBuild {
  readonly files: { name: string; bytes: number; gzip: number; brotli: number }[];
}

/**
 * Builds into a directory of its own, then swaps it in, so that a hub starting meanwhile (tests run in
 * parallel) finds the previous build or the new one, never half of one.
 */
export async function buildConsole(outDir = CONSOLE_OUT): Promise<ConsoleBuild> {
  const building = `${outDir}.building-${process.pid}-${Date.now()}`;
  const built = await buildInto(building);
  const previous = `${outDir}.previous-${process.pid}-${Date.now()}`;
  await rename(outDir, previous).catch(() => undefined);
  await rename(building, outDir);
  await rm(previous, { recursive: true, force: true });
  return built;
}

async function buildInto(outDir: string): Promise<ConsoleBuild> {
  await rm(outDir, { recursive: true, force: true });
  const assets = join(outDir, 'assets');
  await mkdir(assets, { recursive: true });
  const result = await build({
    entryPoints: { app: join(ROOT, 'console', 'src', 'main.tsx') },
    bundle: true,
    format: 'esm',
    splitting: false,
    minify: true,
    sourcemap: false,
    target: ['chrome110', 'firefox110', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryNames: '[name]-[hash]',
    outdir: assets,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    absWorkingDir: ROOT,
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => join(ROOT, p));
  const js = outputs.find((p) => p.endsWith('.js'));
  const css = outputs.find((p) => p.endsWith('.css'));
  if (!js || !css) {
    throw new Error('the console build produced no JS or no CSS bundle');
  }
  const template = await readFile(join(ROOT, 'console', 'index.html'), 'utf8');
  await writeFile(
    join(outDir, 'index.html'),
    template.replace('%JS%', basename(js)).replace('%CSS%', basename(css)),
  );
  const files: ConsoleBuild['files'] = [];
  for (const file of [js, css]) {
    const bytes = await readFile(file);
    const gzip = gzipSync(bytes, { level: 9 });
    const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
    await writeFile(`${file}.gz`, gzip);
    await writeFile(`${file}.br`, brotli);
    files.push({ name: basename(file), bytes: bytes.length, gzip: gzip.length, brotli: brotli.length });
  }
  return { files };
}

const FIRST_LOAD_BUDGET_BYTES = 300 * 1024;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { files } = await buildConsole();
  const gzipTotal = files.reduce((sum, f) => sum + f.gzip, 0);
  for (const f of files) {
    console.log(`console: ${f.name} ${f.bytes} B (gzip ${f.gzip} B, brotli ${f.brotli} B)`);
  }
  if (process.argv.includes('--check-size') && gzipTotal > FIRST_LOAD_BUDGET_BYTES) {
    console.error(`console: first load is ${gzipTotal} B gzip, over the ${FIRST_LOAD_BUDGET_BYTES} B budget`);
    process.exit(1);
  }
}
