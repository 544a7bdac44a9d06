/**
 * The baseline, in its own process like the hub: a BullMQ worker completing no-op jobs and, on
 * `POST /produce?count=N&inFlight=M`, a producer adding N no-op jobs with M adds outstanding at a time
 * (answering once all are added). Producing here rather than in the load generator puts the enqueue on
 * the same CPU as the processing, as the hub's launches are. HTTP `/` answers for the launcher to wait
 * on. Configured by REDIS_URL, REDIS_PREFIX, QUEUE, CONCURRENCY and PORT; a missing setting, or a
 * CONCURRENCY or PORT that is not a positive integer, stops it before it connects to anything.
 */
import { createServer } from 'node:http';

import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

import { requiredSetting } from '../lib/settings.js';

/** `text` as an integer of at least `min`, or undefined: `Number` alone would take "", "2.5" or "abc". */
const integer = (text: string | null, min: number): number | undefined => {
  const value = text === null || text.trim() === '' ? Number.NaN : Number(text);
  return Number.isInteger(value) && value >= min ? value : undefined;
};

const positiveInteger = (key: string): number => {
  const value = integer(requiredSetting(key), 1);
  if (value === undefined) {
    throw new Error(`${key} must be a positive integer, not ${JSON.stringify(process.env[key])}`);
  }
  return value;
};

const settings = {
  redisUrl: requiredSetting('REDIS_URL'),
  prefix: requiredSetting('REDIS_PREFIX'),
  queue: requiredSetting('QUEUE'),
  concurrency: positiveInteger('CONCURRENCY'),
  port: positiveInteger('PORT'),
};

const connection = (): Redis => new Redis(settings.redisUrl, { maxRetriesPerRequest: null });
const worker = new Worker(settings.queue, () => Promise.resolve(null), {
  connection: connection(),
  prefix: settings.prefix,
  concurrency: settings.concurrency,
});
const queue = new Queue(settings.queue, { connection: connection(), prefix: settings.prefix });
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
    const jobs = integer(url.searchParams.get('count'), 0);
    const inFlight = integer(url.searchParams.get('inFlight'), 1);
    if (jobs === undefined || inFlight === undefined) {
      response.writeHead(400).end('count must be an integer ≥ 0 and inFlight one ≥ 1');
      return;
    }
    produce(jobs, inFlight).then(
      () => response.writeHead(200).end('ok'),
      (error: unknown) => response.writeHead(500).end(String(error)),
    );
    return;
  }
  response.writeHead(200).end('ok');
});
server.listen(settings.port, '127.0.0.1');
process.once('SIGTERM', () => {
  void Promise.allSettled([worker.close(), queue.close()]).finally(() => server.close(() => process.exit(0)));
});
