/**
 * The baseline, in its own process like the hub: a BullMQ worker completing no-op jobs and, on
 * `POST /produce?count=N&inFlight=M`, a producer adding N no-op jobs with M adds outstanding at a time
 * (answering once all are added). Producing here rather than in the load generator puts the enqueue on
 * the same CPU as the processing, as the hub's launches are. HTTP `/` answers for the launcher to wait
 * on. Configured by REDIS_URL, REDIS_PREFIX, QUEUE, CONCURRENCY and PORT.
 */
import { createServer } from 'node:http';

import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const env = (key: string): string => {
  const value = process.env[key];
  if (!value) {
    throw new Error(`${key} is required`);
  }
  return value;
};

const connection = (): Redis => new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null });
const worker = new Worker(env('QUEUE'), () => Promise.resolve(null), {
  connection: connection(),
  prefix: env('REDIS_PREFIX'),
  concurrency: Number(env('CONCURRENCY')),
});
const queue = new Queue(env('QUEUE'), { connection: connection(), prefix: env('REDIS_PREFIX') });
await worker.waitUntilReady();

async function produce(count: number, inFlight: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        next++;
        await queue.add('noop', {});
      }
    }),
  );
}

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (request.method === 'POST' && url.pathname === '/produce') {
    produce(Number(url.searchParams.get('count')), Number(url.searchParams.get('inFlight'))).then(
      () => response.writeHead(200).end('ok'),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
    return;
  }
  response.writeHead(200).end('ok');
});
server.listen(Number(env('PORT')), '127.0.0.1');
process.once('SIGTERM', () => {
  void Promise.allSettled([worker.close(), queue.close()]).finally(() => server.close(() => process.exit(0)));
});
