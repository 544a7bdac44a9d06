import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { LOGGER } from '../../infra/logging/logging.module.js';
import { makeEvent } from '../core/index.js';
import { LockRepository } from '../storage/lock.repository.js';
import { OutboxRepository } from '../storage/outbox.repository.js';
import { RunRepository } from '../storage/run.repository.js';
import { OrchestratorQueues } from './orchestrator-queues.js';
import { OutboxRelay } from './outbox-relay.js';

export interface MonitorReport {
  startTimeouts: number;
  resumed: number;
  workerFailures: number;
  forcedCancels: number;
  relayed: number;
}

const DAY_MS = 86_400_000;

/**
 * Dagster's run monitoring: runs stuck STARTING fail, runs whose worker stopped heartbeating are
 * resumed (up to the configured attempts) or fail, runs stuck CANCELING are marked CANCELED. One
 * process sweeps at a time; each change is a compare-and-set, so a racing worker wins cleanly.
 */
@Injectable()
export class RunMonitor {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly runs: RunRepository,
    private readonly outbox: OutboxRepository,
    private readonly locks: LockRepository,
    private readonly queues: OrchestratorQueues,
    private readonly relay: OutboxRelay,
  ) {}

  async sweep(): Promise<MonitorReport | undefined> {
    return this.locks.withTryLock('run-monitor', () => this.sweepLocked());
  }

  private async sweepLocked(): Promise<MonitorReport> {
    const settings = this.config.orchestrator;
    const report: MonitorReport = {
      startTimeouts: 0,
      resumed: 0,
      workerFailures: 0,
      forcedCancels: 0,
      relayed: 0,
    };

    for (const run of await this.runs.findStale('STARTING', settings.startTimeoutMs)) {
      // A worker holding the job is about to claim it; only an orphaned launch times out.
      if ((await this.queues.executionState(run.runId, run.resumeAttempts)) === 'active') {
        continue;
      }
      const failed = await this.runs.finish(run.runId, {
        from: ['STARTING'],
        to: 'FAILURE',
        failureReason: 'START_TIMEOUT',
        events: [
          makeEvent('RUN_FAILURE', `The run did not start within ${settings.startTimeoutMs} ms.`, {
            data: { reason: 'START_TIMEOUT' },
          }),
        ],
      });
      report.startTimeouts += failed ? 1 : 0;
    }

    for (const run of await this.runs.findStale('STARTED', settings.workerTimeoutMs)) {
      if (run.resumeAttempts < settings.maxResumeAttempts) {
        const next = run.resumeAttempts + 1;
        const resumed = await this.runs.resumeStalled(
          run.runId,
          run.resumeAttempts,
          settings.workerTimeoutMs,
          makeEvent(
            'ENGINE_EVENT',
            `Worker ${run.workerId ?? '(unknown)'} stopped heartbeating; resuming the run (attempt ${next} of ${settings.maxResumeAttempts}).`,
            { level: 'warning', data: { deadWorker: run.workerId, attempt: next } },
          ),
        );
        if (resumed) {
          report.resumed++;
          await this.relay.relay([resumed.outboxId]);
        }
        continue;
      }
      const failed = await this.runs.finish(run.runId, {
        from: ['STARTED'],
        to: 'FAILURE',
        fence: run.resumeAttempts,
        failureReason: 'RUN_WORKER_RESTART',
        events: [
          makeEvent(
            'RUN_FAILURE',
            `Worker ${run.workerId ?? '(unknown)'} stopped heartbeating and the run was resumed ${run.resumeAttempts} time(s) already; giving up.`,
            { data: { reason: 'RUN_WORKER_RESTART', deadWorker: run.workerId } },
          ),
        ],
      });
      report.workerFailures += failed ? 1 : 0;
    }

    for (const run of await this.runs.findStale('CANCELING', settings.cancelTimeoutMs)) {
      const canceled = await this.runs.finish(run.runId, {
        from: ['CANCELING'],
        to: 'CANCELED',
        events: [
          makeEvent(
            'RUN_CANCELED',
            `The worker did not confirm cancellation within ${settings.cancelTimeoutMs} ms.`,
            {
              level: 'warning',
            },
          ),
        ],
      });
      report.forcedCancels += canceled ? 1 : 0;
    }

    report.relayed = await this.relay.relayPending();
    await this.outbox.deleteDispatchedBefore(new Date(Date.now() - DAY_MS));
    if ((await this.runs.countQueued()) > 0) {
      await this.queues.wakeCoordinator();
    }
    if (report.startTimeouts + report.resumed + report.workerFailures + report.forcedCancels > 0) {
      this.log.warn(report, 'run monitor acted');
    }
    return report;
  }
}
