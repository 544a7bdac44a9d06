import { Injectable } from '@nestjs/common';

import { PostgresService } from '../../infra/postgres/postgres.service.js';
import { toEvent, type EventRecord, type Row } from './records.js';

/** Reads of the event log (writes go with the state changes they explain, in RunRepository). */
@Injectable()
export class EventRepository {
  constructor(private readonly postgres: PostgresService) {}

  /** A run's events after `cursor` (an event id), oldest first. */
  async list(runId: string, after: number, limit: number): Promise<EventRecord[]> {
    const { rows } = await this.postgres.query<Row>(
      'SELECT * FROM orch_event_logs WHERE run_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [runId, after, limit],
    );
    return rows.map(toEvent);
  }
}
