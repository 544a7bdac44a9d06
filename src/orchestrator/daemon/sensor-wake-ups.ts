import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';

import { LOGGER } from '../../infra/logging/logging.module.js';
import type { WorkArrived } from '../work-arrived.js';
import { OrchestratorQueues } from './orchestrator-queues.js';

/** Arrivals within this window share one message per topic. */
const COALESCE_MS = 5;

/** {@link WorkArrived} on BullMQ: each topic becomes a de-duplicated `wake` message for the daemon. */
@Injectable()
export class SensorWakeUps implements WorkArrived {
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly queues: OrchestratorQueues,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  notify(topic: string): void {
    this.pending.add(topic);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      const topics = [...this.pending];
      this.pending = new Set();
      this.queues.enqueueWakes(topics).catch((error: unknown) => {
        // The work is safe in the databases; the sensors' interval ticks will find it.
        this.log.warn({ err: error, topics }, 'could not wake sensors; their next interval tick will');
      });
    }, COALESCE_MS);
  }
}
