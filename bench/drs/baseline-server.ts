/**
 * The bare baseline for the DRS read benchmark: node:http and the official mongodb driver, one findOne
 * per request on the same FerretDB collection the hub reads, and nothing else — no framework, no auth,
 * no cache, no rendering.
 */
import { createServer } from 'node:http';

import { MongoClient } from 'mongodb';

const port = Number(process.env.PORT);
const client = new MongoClient(process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017', { maxPoolSize: 50 });
const objects = client.db(process.env.MONGO_DB).collection('objects');
const PREFIX = '/ga4gh/drs/v1/objects/';

const server = createServer((request, response) => {
  const url = request.url ?? '';
  if (!url.startsWith(PREFIX)) {
    response.writeHead(404).end();
    return;
  }
  const id = decodeURIComponent(url.slice(PREFIX.length).split('?', 1)[0] ?? '');
  objects.findOne({ id }, { projection: { _id: 0 } }).then(
    (doc) => {
      const body = JSON.stringify(doc ?? { msg: 'not found', status_code: 404 });
      response
        .writeHead(doc ? 200 : 404, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        })
        .end(body);
    },
    () => response.writeHead(500).end(),
  );
});

await client.connect();
server.listen(port, '127.0.0.1', () => process.stdout.write(`baseline listening on ${port}\n`));
process.once('SIGTERM', () => {
  server.close();
  void client.close().then(() => process.exit(0));
});
