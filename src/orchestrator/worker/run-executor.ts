import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { LOGGER } from '../../infra/logging/logging.module.js';
import {
  executeSteps,
  isTerminal,
  makeEvent,
  resolveRunConfig,
  type ExecutionOutcome,
  type RepositoryDefinition,
} from '../core/index.js';
import { OrchestratorQueues } from '../daemon/orchestrator-queues.js';
import { runsUnlimited } from '../daemon/run-coordinator.js';
import { ORCH_HOST_VALUES } from '../host-values.js';
import type { LocalRunWorkers, RunSlot } from '../local-runs.js';
import { isDataError } from '../storage/pg-safe.js';
import type { RunRecord } from '../storage/records.js';
import { RunRepository } from '../storage/run.repository.js';
import { ORCH_WORKSPACE } from '../workspace.js';
import { PgRunHost, type PendingWrites } from './pg-run-host.js';

interface ActiveRun {
  readonly controller: AbortController;
  readonly attempt: number;
}

/**
 * Executes runs handed over by the coordinator (or the monitor, for a resumed attempt), or created
 * claimed by this worker at launch (see LocalRuns). Every write is a compare-and-set fenced by the
 * attempt number, so a duplicate or stale delivery does nothing and a worker presumed dead cannot
 * overwrite its successor's result.
 */
@Injectable()
export class RunExecutor implements OnApplicationShutdown, LocalRunWorkers {
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly active = new Map<string, ActiveRun>();
  /**
   * One promise per slot taken at launch, settled when its run ends or the slot is released unused:
   * no BullMQ job waits for these at shutdown, and a launch still inserting its run holds one too.
   */
  private readonly eager = new Set<Promise<void>>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    @Inject(ORCH_WORKSPACE) private readonly workspace: RepositoryDefinition,
    @Inject(ORCH_HOST_VALUES) private readonly hostValues: Readonly<Record<string, unknown>>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly runs: RunRepository,
    private readonly queues: OrchestratorQueues,
  ) {}

  /** Aborts a run executing in this process (a cancel broadcast arrived). */
  abort(runId: string): boolean {
    const active = this.active.get(runId);
    active?.controller.abort();
    return active !== undefined;
  }

  activeRunIds(): string[] {
    return [...this.active.keys()];
  }

  private startHeartbeat(): void {
    this.heartbeat ??= setInterval(() => {
      this.runs.heartbeat(this.activeRunIds(), this.workerId).catch((error: unknown) => {
        this.log.warn({ err: error }, 'run heartbeat failed');
      });
    }, this.config.orchestrator.heartbeatIntervalMs);
    this.heartbeat.unref();
  }

  async execute(runId: string, attempt: number): Promise<void> {
    if (this.active.has(runId)) {
      // A duplicate delivery (a stalled job re-queued) while this process already executes the run.
      return;
    }
    // Registered before the claim so that a cancel broadcast right after it is not missed.
    const entry = this.register(runId, attempt);
    let claimed: RunRecord | undefined;
    try {
      claimed = await this.claim(runId, attempt);
    } catch (error) {
      this.interrupted(runId, error);
    }
    if (!claimed) {
      this.unregister(runId, entry);
      return;
    }
    await this.executeClaimed(claimed, entry);
  }

  /**
   * A slot for a run the launch is about to create claimed by this worker, while fewer runs than
   * `ORCH_RUN_WORKER_CONCURRENCY` execute here (those the queue delivered included). The queue's own
   * worker keeps its limit too, so a process busy with eager runs still takes queued ones up to it.
   */
  reserve(runId: string): RunSlot | undefined {
    if (this.active.size >= this.config.orchestrator.runWorkerConcurrency) {
      return undefined;
    }
    // Registered before the run exists, so a cancel broadcast right after the launch is not missed.
    const entry = this.register(runId, 0);
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => {
      settle = resolve;
    });
    this.eager.add(settled);
    void settled.then(() => this.eager.delete(settled));
    return {
      workerId: this.workerId,
      start: (run) => {
        void this.executeClaimed(run, entry).finally(settle);
      },
      release: () => {
        this.unregister(runId, entry);
        settle();
      },
    };
  }

  /**
   * Resolves once every slot taken at launch has ended, including those whose launch was still
   * inserting its run. Called after the daemon withdrew this worker from LocalRuns, so no slot is
   * taken meanwhile; the daemon bounds the wait by its shutdown grace, and a run cut short keeps its
   * STARTED status for the monitor to resume elsewhere, as for a run the queue delivered.
   */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.eager]);
  }

  private register(runId: string, attempt: number): ActiveRun {
    const entry: ActiveRun = { controller: new AbortController(), attempt };
    this.active.set(runId, entry);
    return entry;
  }

  private unregister(runId: string, entry: ActiveRun): void {
    if (this.active.get(runId) === entry) {
      this.active.delete(runId);
    }
  }

  private interrupted(runId: string, error: unknown): void {
    // An infrastructure failure (database or Redis gone): leave the run STARTED. Its heartbeat stops
    // with this attempt, and the monitor resumes it elsewhere or fails it.
    this.log.error({ err: error, runId }, 'run execution interrupted by an infrastructure error');
  }

  /** Executes a run this attempt holds (STARTED, claimed by this worker) and records how it ended. */
  private async executeClaimed(claimed: RunRecord, entry: ActiveRun): Promise<void> {
    const { runId } = claimed;
    try {
      this.startHeartbeat();
      const host = new PgRunHost(this.runs, runId, () => this.queues.isCancelRequested(runId));
      const outcome = await this.runPlan(claimed, host, entry.controller);
      await this.finish(claimed, entry.attempt, outcome, await host.drain());
    } catch (error) {
      this.interrupted(runId, error);
    } finally {
      this.unregister(runId, entry);
      if (!runsUnlimited(this.config.orchestrator)) {
        // A slot is free: let queued runs in without waiting for the next periodic pass.
        await this.queues.wakeCoordinator().catch(() => undefined);
      }
    }
  }

  /**
   * Takes the run for this attempt: STARTING → STARTED for a fresh launch (one statement, the common
   * case), or a STARTED run the monitor handed to this attempt. A run canceled before it started is
   * finished here. Undefined when there is nothing for this attempt to do.
   */
  private async claim(runId: string, attempt: number): Promise<RunRecord | undefined> {
    const claimed = await this.runs.transition(runId, {
      from: ['STARTING'],
      to: 'STARTED',
      fence: attempt,
      workerId: this.workerId,
      events: [
        makeEvent('RUN_START', 'Started execution of the run.', { data: { workerId: this.workerId } }),
      ],
    });
    if (claimed) {
      return claimed;
    }
    const run = await this.runs.get(runId);
    if (!run || isTerminal(run.status) || run.resumeAttempts !== attempt || run.workerId) {
      return undefined;
    }
    if (run.status === 'CANCELING') {
      await this.finishCanceled(run, attempt, 'The run was canceled before it started.');
      return undefined;
    }
    if (run.status !== 'STARTED') {
      return undefined;
    }
    return this.runs.claimResume(
      runId,
      attempt,
      this.workerId,
      makeEvent('ENGINE_EVENT', `Resuming the run on worker ${this.workerId} (attempt ${attempt}).`, {
        data: { workerId: this.workerId, attempt },
      }),
    );
  }

  private async runPlan(
    run: RunRecord,
    host: PgRunHost,
    abortController: AbortController,
  ): Promise<ExecutionOutcome> {
    const job = this.workspace.jobs.get(run.jobName);
    if (!job) {
      return {
        status: 'FAILURE',
        failedSteps: [],
        reason: 'JOB_INITIALIZATION_FAILURE',
        error: {
          name: 'UnknownJob',
          message: `job "${run.jobName}" is not defined in this worker's workspace`,
        },
      };
    }
    const { config, problems } = resolveRunConfig(job, run.runConfig);
    if (!config) {
      return {
        status: 'FAILURE',
        failedSteps: [],
        reason: 'JOB_INITIALIZATION_FAILURE',
        error: {
          name: 'RunConfigError',
          message: problems.map((p) => `${p.path}: ${p.message}`).join('; '),
        },
      };
    }
    // Only a resumed attempt or a re-execution can find outputs already stored.
    const done = run.resumeAttempts > 0 || run.parentRunId ? await this.runs.completedSteps(run.runId) : [];
    if (done.length > 0) {
      host.record(
        makeEvent(
          'ENGINE_EVENT',
          `Reusing the stored outputs of ${done.length} step(s): ${done.join(', ')}.`,
          {
            data: { reusedSteps: done },
          },
        ),
      );
    }
    const outcome = await executeSteps({
      job,
      runId: run.runId,
      config,
      host,
      done,
      abortController,
      hostValues: this.hostValues,
    });
    return outcome;
  }

  private async finish(
    run: RunRecord,
    attempt: number,
    outcome: ExecutionOutcome,
    pending: PendingWrites,
  ): Promise<void> {
    if (outcome.status === 'CANCELED') {
      await this.finishCanceled(run, attempt, `Execution of run for "${run.jobName}" was canceled.`, pending);
      return;
    }
    const success = outcome.status === 'SUCCESS';
    let finished: boolean;
    try {
      finished = await this.runs.finish(run.runId, {
        from: ['STARTED', 'CANCELING'],
        to: success ? 'SUCCESS' : 'FAILURE',
        fence: attempt,
        ...(success ? {} : { failureReason: outcome.reason ?? 'RUN_EXCEPTION' }),
        outputs: pending.outputs,
        events: [
          ...pending.events,
          success
            ? makeEvent('RUN_SUCCESS', `Finished execution of run for "${run.jobName}".`)
            : makeEvent(
                'RUN_FAILURE',
                `Execution of run for "${run.jobName}" failed: ${outcome.error?.message ?? ''}`,
                {
                  data: { reason: outcome.reason, failedSteps: outcome.failedSteps, error: outcome.error },
                },
              ),
        ],
      });
    } catch (error) {
      if (!isDataError(error)) {
        throw error;
      }
      // PostgreSQL refused what the run produced (an output it cannot store): the run still ends, as a
      // FAILURE that says why, rather than staying STARTED for the monitor to retry in vain.
      finished = await this.runs.finish(run.runId, {
        from: ['STARTED', 'CANCELING'],
        to: 'FAILURE',
        fence: attempt,
        failureReason: 'RUN_EXCEPTION',
        events: [
          makeEvent(
            'RUN_FAILURE',
            `Execution of run for "${run.jobName}" ended but its results could not be stored: ${(error as Error).message}`,
            { data: { reason: 'RUN_EXCEPTION', outcome: outcome.status } },
          ),
        ],
      });
    }
    if (!finished) {
      this.log.warn(
        { runId: run.runId, attempt },
        'run finished after it was handed to another attempt; result dropped',
      );
    }
  }

  private async finishCanceled(
    run: RunRecord,
    attempt: number,
    message: string,
    pending: PendingWrites = { events: [], outputs: [] },
  ): Promise<void> {
    await this.runs.finish(run.runId, {
      from: ['CANCELING', 'STARTED'],
      to: 'CANCELED',
      fence: attempt,
      outputs: pending.outputs,
      events: [...pending.events, makeEvent('RUN_CANCELED', message)],
    });
  }

  onApplicationShutdown(): void {
    if (this.heartbeat) {
      clearInterval(this.heartbeat);
    }
  }
}
