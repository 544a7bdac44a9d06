import type { AbstractCursor, Document } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../../config/app-config.js';
import { OpenCursors, type ContinueRequest } from './open-cursors.js';

/** A cursor over numbers from `from`, counting how often it was opened and whether it was closed. */
class FakeCursor {
  closed = false;
  constructor(
    private next_: number,
    private readonly end: number,
  ) {}
  next(): Promise<Document | null> {
    return Promise.resolve(this.next_ < this.end ? { n: this.next_++ } : null);
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

describe('OpenCursors', () => {
  let cursors: OpenCursors;
  const opened: FakeCursor[] = [];

  const make = (max = 2): OpenCursors =>
    new OpenCursors(
      loadConfig({ METADATA_OPEN_CURSORS_MAX: String(max), METADATA_OPEN_CURSOR_IDLE_SECONDS: '5' }),
    );

  /** Pages of `size` with one look-ahead, the way the Paginator asks; the marker is the last `n` served. */
  const page = (session: string, after: number | undefined, size = 3, end = 10): Promise<Document[]> => {
    const request: ContinueRequest<Document> = {
      session,
      marker: after === undefined ? undefined : String(after),
      count: size + 1,
      lookAhead: 1,
      markerAfter: (docs) => String((docs[docs.length - 2] as { n: number }).n),
      open: () => {
        const cursor = new FakeCursor(after === undefined ? 0 : after + 1, end);
        opened.push(cursor);
        return cursor as unknown as AbstractCursor<Document>;
      },
    };
    return cursors.continue(request);
  };

  afterEach(() => {
    cursors.onApplicationShutdown();
    opened.length = 0;
  });

  it('serves a whole traversal from one cursor, the look-ahead document included', async () => {
    cursors = make();
    const seen: number[] = [];
    let after: number | undefined;
    for (;;) {
      const docs = (await page('s', after)).map((d) => (d as { n: number }).n);
      seen.push(...docs.slice(0, 3));
      if (docs.length <= 3) {
        break;
      }
      after = docs[2];
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(opened).toHaveLength(1);
    expect(opened[0]?.closed).toBe(true);
    expect(cursors.size).toBe(0);
  });

  it('reopens from the marker when the parked cursor is elsewhere in the traversal', async () => {
    cursors = make();
    await page('s', undefined);
    const replayed = await page('s', 0);
    expect(replayed.map((d) => (d as { n: number }).n)).toEqual([1, 2, 3, 4]);
    expect(opened).toHaveLength(2);
    expect(opened[0]?.closed).toBe(true);
  });

  it('evicts the least recently used traversal beyond the limit, and parks nothing when the limit is 0', async () => {
    cursors = make(2);
    await page('a', undefined);
    await page('b', undefined);
    await page('c', undefined);
    expect(cursors.size).toBe(2);
    expect(opened[0]?.closed).toBe(true);
    await page('a', 2);
    expect(opened).toHaveLength(4);

    cursors.onApplicationShutdown();
    cursors = make(0);
    await page('z', undefined);
    expect(cursors.size).toBe(0);
    expect(opened.at(-1)?.closed).toBe(true);
  });

  it('closes a traversal its owner discards', async () => {
    cursors = make();
    await page('d', undefined);
    cursors.discard('d');
    expect(cursors.size).toBe(0);
    expect(opened[0]?.closed).toBe(true);
  });
});
