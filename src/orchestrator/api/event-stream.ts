import type { FastifyReply, FastifyRequest } from 'fastify';

import type { EventRecord } from '../storage/records.js';

const POLL_MS = 250;
const KEEPALIVE_MS = 15_000;
/** What an EventSource waits before reconnecting (with `Last-Event-ID`) after the stream ends early. */
const RETRY_MS = 1000;

export function wantsEventStream(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/event-stream');
}

/** The cursor a reconnecting EventSource sends (`Last-Event-ID`), or 0. */
export function lastEventId(request: FastifyRequest): number {
  const header = request.headers['last-event-id'];
  const value = Number(Array.isArray(header) ? header[0] : header);
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

/**
 * Streams a run's events as server-sent events by polling the event log (as Dagster's UI does), each
 * with its cursor as `id` so a client reconnects where it left off (`Last-Event-ID`), on this process
 * or any other; ends with an `end` event once the run has finished. The handler must not answer
 * itself (the reply is taken over here). It stops as soon as the client goes away, and when `stop` is
 * aborted (at shutdown, so a graceful close never waits for a tail; the client resumes elsewhere).
 */
export function streamEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  after: number,
  page: (cursor: number) => Promise<{ events: EventRecord[]; cursor: number; done: boolean }>,
  stop: AbortSignal,
): void {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    // Proxies must pass each event on as it comes, not buffer the stream.
    'x-accel-buffering': 'no',
    // The socket closes with the stream: a taken-over response leaves the server's connection tracking,
    // so a kept-alive socket would hold a graceful shutdown open until its keep-alive timeout.
    connection: 'close',
    'x-request-id': request.id,
  });
  const ended = new AbortController();
  const end = (): void => ended.abort();
  raw.once('close', end);
  stop.addEventListener('abort', end, { once: true });
  const write = (text: string): void => {
    if (!raw.destroyed && !raw.writableEnded) {
      raw.write(text);
    }
  };
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        ended.signal.removeEventListener('abort', done);
        resolve();
      }
      ended.signal.addEventListener('abort', done, { once: true });
    });
  const run = async (): Promise<void> => {
    write(`retry: ${RETRY_MS}\n\n`);
    let cursor = after;
    let lastWrite = Date.now();
    while (!ended.signal.aborted) {
      const next = await page(cursor);
      if (next.events.length > 0) {
        write(
          next.events
            .map((event) => `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`)
            .join(''),
        );
        lastWrite = Date.now();
      }
      cursor = next.cursor;
      if (next.done) {
        write(`event: end\ndata: ${JSON.stringify({ cursor })}\n\n`);
        return;
      }
      if (next.events.length === 0) {
        if (Date.now() - lastWrite >= KEEPALIVE_MS) {
          write(': keep-alive\n\n');
          lastWrite = Date.now();
        }
        await pause(POLL_MS);
      }
    }
  };
  run()
    .catch((error: unknown) => {
      write(`event: error\ndata: ${JSON.stringify({ message: (error as Error).message })}\n\n`);
    })
    .finally(() => {
      raw.off('close', end);
      stop.removeEventListener('abort', end);
      if (!raw.writableEnded) {
        raw.end();
      }
    });
}
