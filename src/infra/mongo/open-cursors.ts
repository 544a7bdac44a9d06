import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { AbstractCursor, Document } from 'mongodb';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';

interface ParkedCursor {
  readonly cursor: AbstractCursor<Document>;
  /** Where the traversal stands: the marker the next request must present to continue here. */
  readonly marker: string;
  /** Documents already read from the cursor that the caller will ask for again. */
  readonly pending: Document[];
  lastUsed: number;
}

export interface ContinueRequest<T> {
  /** Identifies one traversal (a page-token session or a query cursor id). */
  readonly session: string;
  /** The marker the previous call parked the cursor at; undefined on the first call. */
  readonly marker: string | undefined;
  /** How many documents to return (fewer means the results are exhausted). */
  readonly count: number;
  /** How many of the returned documents are a look-ahead the caller will ask for again next time. */
  readonly lookAhead: number;
  /** The marker the next call will present, given the documents this call returns. */
  readonly markerAfter: (docs: readonly T[]) => string;
  /** Opens a cursor positioned at `marker` (used on the first call, and whenever no parked cursor fits). */
  readonly open: () => AbstractCursor<T>;
}

const MONGO_CURSOR_NOT_FOUND = 43;

/**
 * Keeps driver cursors open between the pages of one traversal, so paging through a large collection
 * costs one query instead of one per page (on FerretDB every keyset page is a full collection scan).
 *
 * This is only a cache: page tokens and query cursors carry enough to reopen the traversal where it
 * stopped, so a request that lands on another process, or after eviction, gets the same answer more
 * slowly. Nothing another process needs lives here.
 */
@Injectable()
export class OpenCursors implements OnApplicationShutdown {
  private readonly parked = new Map<string, ParkedCursor>();
  private readonly max: number;
  private readonly idleMs: number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.max = config.metadata.openCursorsMax;
    this.idleMs = config.metadata.openCursorIdleSeconds * 1000;
    this.sweeper = setInterval(() => this.sweep(), Math.min(this.idleMs, 30_000));
    this.sweeper.unref();
  }

  get size(): number {
    return this.parked.size;
  }

  async continue<T extends Document>(request: ContinueRequest<T>): Promise<T[]> {
    const found = this.parked.get(request.session);
    // Taken out while in use, so two concurrent requests for one session never share a cursor.
    this.parked.delete(request.session);
    let cursor: AbstractCursor<T>;
    let docs: T[];
    if (found && request.marker !== undefined && found.marker === request.marker) {
      cursor = found.cursor as unknown as AbstractCursor<T>;
      docs = found.pending.slice(0, request.count) as T[];
      try {
        await this.readInto(cursor, docs, request.count);
      } catch (error) {
        if ((error as { code?: unknown }).code !== MONGO_CURSOR_NOT_FOUND) {
          throw error;
        }
        // The server dropped the idle cursor; reopen from the marker instead.
        ({ cursor, docs } = await this.openAndRead(request));
      }
    } else {
      if (found) {
        this.close(found.cursor);
      }
      ({ cursor, docs } = await this.openAndRead(request));
    }

    if (docs.length < request.count || this.max === 0) {
      this.close(cursor);
      return docs;
    }
    const pending = request.lookAhead > 0 ? docs.slice(docs.length - request.lookAhead) : [];
    this.park(request.session, {
      cursor,
      marker: request.markerAfter(docs),
      pending,
      lastUsed: Date.now(),
    });
    return docs;
  }

  /** Closes the cursor parked for a traversal that its owner knows is finished. */
  discard(session: string): void {
    const entry = this.parked.get(session);
    if (entry) {
      this.parked.delete(session);
      this.close(entry.cursor);
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
    for (const entry of this.parked.values()) {
      this.close(entry.cursor);
    }
    this.parked.clear();
  }

  private async openAndRead<T extends Document>(
    request: ContinueRequest<T>,
  ): Promise<{ cursor: AbstractCursor<T>; docs: T[] }> {
    const cursor = request.open();
    const docs: T[] = [];
    try {
      await this.readInto(cursor, docs, request.count);
    } catch (error) {
      this.close(cursor);
      throw error;
    }
    return { cursor, docs };
  }

  private async readInto<T>(cursor: AbstractCursor<T>, docs: T[], count: number): Promise<void> {
    while (docs.length < count) {
      const next = await cursor.next();
      if (next === null) {
        return;
      }
      docs.push(next);
    }
  }

  private park(session: string, entry: ParkedCursor): void {
    this.parked.set(session, entry);
    while (this.parked.size > this.max) {
      const oldest = this.parked.keys().next().value;
      if (oldest === undefined) {
        break;
      }
      const evicted = this.parked.get(oldest);
      this.parked.delete(oldest);
      if (evicted) {
        this.close(evicted.cursor);
      }
    }
  }

  private sweep(): void {
    const cutoff = Date.now() - this.idleMs;
    for (const [session, entry] of this.parked) {
      if (entry.lastUsed < cutoff) {
        this.parked.delete(session);
        this.close(entry.cursor);
      }
    }
  }

  private close(cursor: AbstractCursor<unknown>): void {
    cursor.close().catch(() => undefined);
  }
}
