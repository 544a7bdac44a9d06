import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { LOGGER } from '../../infra/logging/logging.module.js';
import { withTimeout } from '../../infra/retry.js';
import {
  dueTimes,
  evaluateSensor,
  openResources,
  resolveRunConfig,
  serializeError,
  type JobDefinition,
  type RepositoryDefinition,
  type SensorLogLine,
} from '../core/index.js';
import { ORCH_HOST_VALUES } from '../host-values.js';
import { InstigatorRepository, type TickClaim } from '../storage/instigator.repository.js';
import type { NewRun } from '../storage/records.js';
import { priorityOf } from '../tags.js';
import { ORCH_WORKSPACE } from '../workspace.js';
import { OrchestratorQueues } from './orchestrator-queues.js';

export type TickOutcome = TickClaim['outcome'] | 'success' | 'skipped' | 'failed';

function checkConfig(job: JobDefinition, runConfig: unknown): void {
  const { problems } = resolveRunConfig(job, runConfig);
  if (problems.length > 0) {
    throw new Error(
      `run request for job "${job.name}" has invalid run config: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
    );
  }
}

/**
 * Sensor and schedule ticks, following the protocol of notes §5.4: claim the instigator row (skip it if
 * another process holds it, honour the minimum interval), evaluate outside any transaction, then commit
 * the new runs (de-duplicated by run key or scheduled time), the cursor and the tick in one transaction.
 * A failing evaluation records a FAILURE tick and leaves the cursor alone.
 */
@Injectable()
export class InstigatorTicker {
  constructor(
    @Inject(ORCH_WORKSPACE) private readonly workspace: RepositoryDefinition,
    @Inject(ORCH_HOST_VALUES) private readonly hostValues: Readonly<Record<string, unknown>>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly instigators: InstigatorRepository,
    private readonly queues: OrchestratorQueues,
  ) {}

  /**
   * One evaluation of a sensor. The interval tick honours the minimum interval; a wake-up (work the
   * sensor would find has arrived) does not, but waits for an evaluation in progress to end
   * (`in-progress`). Both follow the same protocol and are recorded as ticks.
   */
  async tickSensor(name: string, options: { readonly wakeUp?: boolean } = {}): Promise<TickOutcome> {
    const definition = this.workspace.sensors.get(name);
    if (!definition) {
      return 'unknown';
    }
    const intervalMs = definition.minimumIntervalSeconds * 1000;
    const claim = await this.instigators.claimTick(
      name,
      'sensor',
      options.wakeUp
        ? // An evaluation silent for longer than its time limit died with its process.
          { unlessEvaluatingWithinMs: this.config.orchestrator.sensorTimeoutMs + 5000 }
        : // Scheduler jobs fire on the interval's clock boundaries, a little early or late; allow some slack.
          { minIntervalMs: intervalMs - Math.min(intervalMs * 0.2, 1000) },
    );
    if (claim.outcome !== 'claimed') {
      return claim.outcome;
    }
    const cursorBefore = claim.instigator.cursor ?? null;
    let logs: readonly SensorLogLine[] = [];
    let runs: NewRun[];
    let cursorAfter: string | null;
    let skipReason: string | undefined;
    try {
      const resources = await openResources(this.workspace.resources, definition.requiredResources, {
        host: this.hostValues,
        owner: `sensor:${name}`,
        onTeardownError: (key, error) =>
          this.log.warn({ err: error, sensor: name, key }, 'resource teardown failed'),
      });
      try {
        const timeout = AbortSignal.timeout(this.config.orchestrator.sensorTimeoutMs);
        const evaluation = await withTimeout(
          evaluateSensor(definition, {
            cursor: cursorBefore,
            lastRunKey: claim.instigator.lastRunKey ?? null,
            lastTickCompletionTime: claim.instigator.lastTickEnd ?? null,
            resources: resources.values,
            signal: timeout,
          }),
          this.config.orchestrator.sensorTimeoutMs,
          `evaluation of sensor "${name}"`,
        );
        logs = evaluation.logs;
        cursorAfter = evaluation.cursor;
        skipReason = evaluation.skipReason;
        const seen = new Set<string>();
        runs = [];
        for (const request of evaluation.runRequests) {
          if (request.runKey !== undefined) {
            if (seen.has(request.runKey)) {
              continue;
            }
            seen.add(request.runKey);
          }
          const job = this.workspace.jobs.get(request.jobName) as JobDefinition;
          checkConfig(job, request.runConfig);
          const tags = {
            ...job.tags,
            ...request.tags,
            'dagster/sensor_name': name,
            ...(request.runKey !== undefined ? { 'dagster/run_key': request.runKey } : {}),
          };
          runs.push({
            runId: randomUUID(),
            jobName: request.jobName,
            runConfig: request.runConfig,
            tags,
            instigatorType: 'sensor',
            instigatorName: name,
            ...(request.runKey !== undefined ? { runKey: request.runKey } : {}),
            priority: priorityOf(tags),
          });
        }
      } finally {
        await resources.close();
      }
    } catch (error) {
      await this.instigators.failTick(claim.tickId, name, serializeError(error), logs);
      this.log.warn({ err: error, sensor: name }, 'sensor tick failed; cursor kept');
      return 'failed';
    }
    return this.commit(name, claim.tickId, {
      advance: { column: 'cursor', before: cursorBefore, after: cursorAfter },
      runs,
      runKeys: runs.flatMap((r) => (r.runKey !== undefined ? [r.runKey] : [])),
      ...(skipReason ? { skipReason } : {}),
      logs,
    });
  }

  /** The sensors that wake on `topic` (a stopped one answers `stopped` when ticked). */
  sensorsWakingOn(topic: string): string[] {
    return [...this.workspace.sensors.values()].filter((s) => s.wakeOn.includes(topic)).map((s) => s.name);
  }

  /**
   * A schedule tick for `scheduledTime`: launches the scheduled times since the last one (at most
   * ORCH_MAX_CATCHUP_RUNS, the latest ones), each at most once thanks to the unique scheduled time.
   * Ticks of one schedule never overlap: two at once (a scheduler's and a catch-up after Redis was
   * rebuilt) would read the same last time, and the second to commit would fail its compare-and-set.
   * A tick that finds another evaluating answers `in-progress`; the next one catches its times up.
   */
  async tickSchedule(name: string, scheduledTime: Date): Promise<TickOutcome> {
    const definition = this.workspace.schedules.get(name);
    if (!definition) {
      return 'unknown';
    }
    const maxRuns = this.config.orchestrator.maxCatchupRuns;
    const claim = await this.instigators.claimTick(name, 'schedule', {
      unlessEvaluatingWithinMs: this.config.orchestrator.sensorTimeoutMs + 5000,
      due: (last) =>
        dueTimes(definition, last ?? new Date(scheduledTime.getTime() - 1), scheduledTime, maxRuns),
    });
    if (claim.outcome !== 'claimed') {
      return claim.outcome;
    }
    const runs: NewRun[] = [];
    const skipped: string[] = [];
    try {
      for (const time of claim.scheduledTimes) {
        const context = { scheduledTime: time };
        if (!(await definition.shouldExecute(context))) {
          skipped.push(time.toISOString());
          continue;
        }
        const runConfig = await definition.runConfigFor(context);
        checkConfig(definition.job, runConfig);
        const tags = {
          ...definition.job.tags,
          ...definition.tags,
          'dagster/schedule_name': name,
          'dagster/scheduled_execution_time': time.toISOString(),
        };
        runs.push({
          runId: randomUUID(),
          jobName: definition.job.name,
          runConfig,
          tags,
          instigatorType: 'schedule',
          instigatorName: name,
          scheduledTime: time,
          priority: priorityOf(tags),
        });
      }
    } catch (error) {
      await this.instigators.failTick(claim.tickId, name, serializeError(error));
      this.log.warn({ err: error, schedule: name }, 'schedule tick failed');
      return 'failed';
    }
    const reasons = [
      ...(skipped.length > 0 ? [`shouldExecute declined ${skipped.join(', ')}`] : []),
      ...(claim.skippedTimes > 0
        ? [`${claim.skippedTimes} earlier missed time(s) not run (ORCH_MAX_CATCHUP_RUNS=${maxRuns})`]
        : []),
    ];
    return this.commit(name, claim.tickId, {
      advance: {
        column: 'last_scheduled_time',
        before: claim.instigator.lastScheduledTime ?? null,
        after: claim.scheduledTimes.at(-1) as Date,
      },
      runs,
      runKeys: [],
      ...(reasons.length > 0 ? { skipReason: reasons.join('; ') } : {}),
    });
  }

  private async commit(
    name: string,
    tickId: number,
    commit: Omit<Parameters<InstigatorRepository['commitTick']>[0], 'tickId' | 'name'>,
  ): Promise<TickOutcome> {
    try {
      const created = await this.instigators.commitTick({ tickId, name, ...commit });
      if (created.length > 0) {
        await this.queues.wakeCoordinator();
        return 'success';
      }
      return 'skipped';
    } catch (error) {
      await this.instigators.failTick(tickId, name, serializeError(error));
      this.log.warn({ err: error, instigator: name }, 'tick commit failed');
      return 'failed';
    }
  }
}
