/**
 * The baseline's consumer, in its own process like the hub's run workers: a BullMQ worker completing
 * no-op jobs, and an HTTP /health for the launcher to wait on. Configured by REDIS_URL, REDIS_PREFIX,
 * QUEUE, CONCURRENCY and PORT.
 */
import { createServer } from 'node:http';

import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const env = (key: string): string => {
  const value = process.env[key];
  if (!value) {
    throw new Error(`${key} is required`);
  }
  return value;
};

const worker = new Worker(env('QUEUE'), () => Promise.resolve(null), {
  connection: new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null }),
  prefix: env('REDIS_PREFIX'),
  concurrency: Number(env('CONCURRENCY')),
});
await worker.waitUntilReady();
const server = createServer((_request, response) => response.writeHead(200).end('ok'));
server.listen(Number(env('PORT')), '127.0.0.1');
process.once('SIGTERM', () => {
  void worker.close().finally(() => server.close(() => process.exit(0)));
});
