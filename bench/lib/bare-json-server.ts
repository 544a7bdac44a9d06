/**
 * The baseline: the smallest `node:http` server that answers every request with one fixed JSON body.
 * Run as its own process by {@link startBareJsonServer}; reads BODY, PORT and HOST from its environment.
 */
import { createServer } from 'node:http';

const body = Buffer.from(process.env.BODY ?? '{}');
const headers = {
  'content-type': 'application/json; charset=utf-8',
  'content-length': String(body.length),
};

const server = createServer((_request, response) => {
  response.writeHead(200, headers);
  response.end(body);
});
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
