/**
 * The bare baseline for the DRS read benchmark: node:http answering `GET /ga4gh/drs/v1/objects/{id}`
 * with the very bytes the hub answers for that id, held in memory, and nothing else — no framework, no
 * auth, no lookup beyond one Map. BODIES_FILE is a JSON object of id → DrsObject JSON text.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const port = Number(process.env.PORT);
const bodies = new Map<string, Buffer>(
  Object.entries(
    JSON.parse(readFileSync(process.env.BODIES_FILE ?? '', 'utf8')) as Record<string, string>,
  ).map(([id, body]) => [id, Buffer.from(body)]),
);
const PREFIX = '/ga4gh/drs/v1/objects/';
const NOT_FOUND = Buffer.from(JSON.stringify({ msg: 'not found', status_code: 404 }));

const server = createServer((request, response) => {
  const url = request.url ?? '';
  const body = url.startsWith(PREFIX) ? bodies.get(decodeURIComponent(url.slice(PREFIX.length))) : undefined;
  response
    .writeHead(body ? 200 : 404, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': (body ?? NOT_FOUND).length,
    })
    .end(body ?? NOT_FOUND);
});

server.listen(port, '127.0.0.1', () => process.stdout.write(`baseline listening on ${port}\n`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
