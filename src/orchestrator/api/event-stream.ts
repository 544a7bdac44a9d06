import type { FastifyReply, FastifyRequest } from 'fastify';

import type { EventRecord } from '../storage/records.js';

const POLL_MS = 250;
const KEEPALIVE_MS = 15_000;

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
 * with its cursor as `id` so a client can reconnect where it left off; ends with an `end` event once the
 * run has finished.
 */
export function streamEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  after: number,
  page: (cursor: number) => Promise<{ events: EventRecord[]; cursor: number; done: boolean }>,
): void {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-request-id': request.id,
  });
  let closed = false;
  request.raw.once('close', () => {
    closed = true;
  });
  const keepalive = setInterval(() => raw.write(': keep-alive\n\n'), KEEPALIVE_MS);
  const run = async (): Promise<void> => {
    let cursor = after;
    while (!closed) {
      const next = await page(cursor);
      for (const event of next.events) {
        raw.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      }
      cursor = next.cursor;
      if (next.done) {
        raw.write(`event: end\ndata: ${JSON.stringify({ cursor })}\n\n`);
        return;
      }
      if (next.events.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    }
  };
  run()
    .catch((error: unknown) => {
      raw.write(`event: error\ndata: ${JSON.stringify({ message: (error as Error).message })}\n\n`);
    })
    .finally(() => {
      clearInterval(keepalive);
      raw.end();
    });
}
