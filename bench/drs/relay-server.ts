/**
 * The floor for any server that relays blob bytes from S3, for `bench:drs-s3`: node:http fetching the
 * presigned URL in UPSTREAM and piping its body to the client, with no framework, auth, lookup or
 * signature check. Pinned like the hub, it measures what one extra hop through a Node process costs
 * on this machine, which no relay can avoid.
 */
import { Agent, createServer, request } from 'node:http';

const port = Number(process.env.PORT);
const upstream = new URL(process.env.UPSTREAM ?? '');
const agent = new Agent({ keepAlive: true });

const server = createServer((incoming, response) => {
  if (incoming.url !== '/relay') {
    response.writeHead(200).end('ok');
    return;
  }
  request(upstream, { agent }, (body) => {
    response.writeHead(body.statusCode ?? 502, {
      'content-type': body.headers['content-type'] ?? 'application/octet-stream',
      ...(body.headers['content-length'] ? { 'content-length': body.headers['content-length'] } : {}),
    });
    body.pipe(response);
  })
    .on('error', (error) => response.destroy(error))
    .end();
});

server.listen(port, '127.0.0.1', () => process.stdout.write(`relay listening on ${port}\n`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
