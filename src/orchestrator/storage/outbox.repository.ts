import { Injectable } from '@nestjs/common';

import { PostgresService } from '../../infra/postgres/postgres.service.js';
import type { Queryable } from './sql.js';

export type OutboxKind = 'execute-run' | 'cancel-run';

export interface OutboxMessage {
  readonly id: number;
  readonly kind: OutboxKind;
  readonly payload: { readonly runId: string; readonly attempt?: number };
}

/** Side effects on Redis decided inside a PostgreSQL transaction, relayed after it commits. */
@Injectable()
export class OutboxRepository {
  constructor(private readonly postgres: PostgresService) {}

  async add(
    kind: OutboxKind,
    payload: OutboxMessage['payload'],
    db: Queryable = this.postgres,
  ): Promise<number> {
    const { rows } = await db.query<{ id: string }>(
      'INSERT INTO orch_outbox (kind, payload) VALUES ($1, $2) RETURNING id',
      [kind, JSON.stringify(payload)],
    );
    return Number(rows[0]?.id);
  }

  async get(ids: readonly number[]): Promise<OutboxMessage[]> {
    if (ids.length === 0) {
      return [];
    }
    const { rows } = await this.postgres.query<{
      id: string;
      kind: OutboxKind;
      payload: OutboxMessage['payload'];
    }>(
      'SELECT id, kind, payload FROM orch_outbox WHERE id = ANY($1::bigint[]) AND dispatched_at IS NULL ORDER BY id',
      [ids],
    );
    return rows.map((r) => ({ id: Number(r.id), kind: r.kind, payload: r.payload }));
  }

  /** Messages nobody confirmed relaying within `olderThanMs` (the relaying process may have died). */
  async pending(olderThanMs: number, limit = 500): Promise<OutboxMessage[]> {
    const { rows } = await this.postgres.query<{
      id: string;
      kind: OutboxKind;
      payload: OutboxMessage['payload'];
    }>(
      `SELECT id, kind, payload FROM orch_outbox
       WHERE dispatched_at IS NULL AND created_at < now() - make_interval(secs => $1::double precision / 1000)
       ORDER BY id LIMIT $2`,
      [olderThanMs, limit],
    );
    return rows.map((r) => ({ id: Number(r.id), kind: r.kind, payload: r.payload }));
  }

  async markDispatched(ids: readonly number[]): Promise<void> {
    if (ids.length > 0) {
      await this.postgres.queryPrepared(
        'orch_outbox_dispatched',
        'UPDATE orch_outbox SET dispatched_at = now() WHERE id = ANY($1::bigint[])',
        [ids],
      );
    }
  }

  /** Relayed messages are only history; keep the table small. */
  async deleteDispatchedBefore(cutoff: Date): Promise<number> {
    const { rowCount } = await this.postgres.query(
      'DELETE FROM orch_outbox WHERE dispatched_at IS NOT NULL AND dispatched_at < $1',
      [cutoff],
    );
    return rowCount ?? 0;
  }
}
