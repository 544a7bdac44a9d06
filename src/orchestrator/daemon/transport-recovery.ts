import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { LOGGER } from '../../infra/logging/logging.module.js';
import { LockRepository } from '../storage/lock.repository.js';
import { RunRepository } from '../storage/run.repository.js';
import { OrchestratorQueues } from './orchestrator-queues.js';
import { SchedulerReconciler } from './scheduler-reconciler.js';

export interface RecoveryReport {
  /** Job schedulers created or changed (sensors, schedules, coordinator, monitor). */
  readonly schedulers: readonly string[];
  /** STARTING runs whose execution job had to be added again. */
  readonly executions: number;
  /** CANCELING runs whose cancellation was broadcast again. */
  readonly cancels: number;
}

const IN_FLIGHT_BATCH = 500;

/**
 * Rebuilds what Redis should hold from PostgreSQL, the source of truth: a job scheduler for every
 * RUNNING sensor and schedule (and the coordinator's and monitor's), an execution job for every run
 * handed to a worker but not started, the cancellation flag of every run being canceled, and a
 * coordinator pass for the queued runs. Everything is idempotent (scheduler ids, job ids, compare-and-set
 * in the processors), so running it when nothing was lost changes nothing. One process at a time.
 */
@Injectable()
export class TransportRecovery {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly reconciler: SchedulerReconciler,
    private readonly runs: RunRepository,
    private readonly queues: OrchestratorQueues,
    private readonly locks: LockRepository,
  ) {}

  /** Undefined when another process is recovering at this moment. */
  async recover(reason: string): Promise<RecoveryReport | undefined> {
    return this.locks.withTryLock('transport-recovery', async () => {
      const schedulers = (await this.reconciler.reconcileAll('recreated')) ?? [];
      const starting = await this.runs.findStale('STARTING', 0, IN_FLIGHT_BATCH);
      const executions = await this.queues.requeueExecutions(
        starting.map((run) => ({ runId: run.runId, attempt: run.resumeAttempts })),
      );
      const canceling = await this.runs.findStale('CANCELING', 0, IN_FLIGHT_BATCH);
      for (const run of canceling) {
        await this.queues.broadcastCancel(run.runId, this.config.orchestrator.cancelTimeoutMs);
      }
      await this.queues.wakeCoordinator();
      const report = { schedulers, executions, cancels: canceling.length };
      if (schedulers.length > 0 || executions > 0) {
        this.log.warn({ ...report, reason }, 'orchestrator rebuilt lost Redis state from PostgreSQL');
      }
      return report;
    });
  }
}
