import { fileURLToPath } from 'node:url';

import { ROOT } from '../../test/support/process.js';
import { freePort, startNodeServer, TYPESCRIPT_LOADER, type ServerProcess } from './processes.js';

const SCRIPT = fileURLToPath(new URL('./bare-json-server.ts', import.meta.url));

/**
 * Starts a bare `node:http` server answering `body` as JSON, in its own process like the hub, so neither
 * shares an event loop with the load generator.
 */
export async function startBareJsonServer(body: string): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return startNodeServer({
    args: [...TYPESCRIPT_LOADER, SCRIPT],
    env: { BODY: body, PORT: String(port), HOST: '127.0.0.1' },
    cwd: ROOT,
    url,
    readyPath: '/',
    label: 'bare node:http server',
  });
}
