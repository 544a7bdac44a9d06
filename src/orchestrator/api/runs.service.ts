import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { LOGGER } from '../../infra/logging/logging.module.js';
import { BadRequestError, ConflictError, NotFoundError } from '../../common/errors/domain-errors.js';
import {
  isTerminal,
  makeEvent,
  resolveRunConfig,
  type JobDefinition,
  type RepositoryDefinition,
  type RunStatus,
} from '../core/index.js';
import { OrchestratorQueues } from '../daemon/orchestrator-queues.js';
import { OutboxRelay } from '../daemon/outbox-relay.js';
import { runsUnlimited } from '../daemon/run-coordinator.js';
import { LocalRuns } from '../local-runs.js';
import { EventRepository } from '../storage/event.repository.js';
import type { EventRecord, NewRun, RunRecord } from '../storage/records.js';
import { RunRepository, type RunWithOutbox } from '../storage/run.repository.js';
import { PRIORITY_TAG, priorityOf, SYSTEM_TAG_PREFIX } from '../tags.js';
import { ORCH_WORKSPACE } from '../workspace.js';
import { jobView, type JobView } from './job-view.js';
import { PositionTokens } from './page-token.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface LaunchRequest {
  readonly runConfig?: unknown;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface RunQuery {
  readonly statuses?: readonly RunStatus[];
  readonly jobName?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly createdAfter?: Date;
  readonly createdBefore?: Date;
  readonly pageSize: number;
  readonly pageToken?: string;
}

/** Checks a run config against a job; the problems name every bad key under `prefix`. */
export function checkRunConfig(job: JobDefinition, runConfig: unknown, prefix = 'runConfig'): void {
  const { problems } = resolveRunConfig(job, runConfig);
  if (problems.length > 0) {
    throw new BadRequestError(
      `The run config does not fit job "${job.name}": ${problems.map((p) => `${prefix}.${p.path} ${p.message}`).join('; ')}`,
      {
        errors: problems.map((p) => ({ path: `${prefix}.${p.path}`, message: p.message })),
        code: 'invalid_run_config',
      },
    );
  }
}

/** Launching, reading, cancelling and re-executing runs; shared by the REST API and the CLI. */
@Injectable()
export class RunService {
  constructor(
    @Inject(ORCH_WORKSPACE) private readonly workspace: RepositoryDefinition,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runs: RunRepository,
    private readonly eventLog: EventRepository,
    private readonly queues: OrchestratorQueues,
    private readonly relay: OutboxRelay,
    private readonly localRuns: LocalRuns,
    @Inject(LOGGER) private readonly log: Logger,
  ) {
    this.tokens = new PositionTokens(config.secrets.urlSigningKey);
  }

  private readonly tokens: PositionTokens;

  listJobs(): JobView[] {
    return [...this.workspace.jobs.values()].sort((a, b) => a.name.localeCompare(b.name)).map(jobView);
  }

  job(name: string): JobDefinition {
    const job = this.workspace.jobs.get(name);
    if (!job) {
      throw new NotFoundError(
        `No job is named "${name}". Known jobs: ${[...this.workspace.jobs.keys()].sort().join(', ')}.`,
      );
    }
    return job;
  }

  getJob(name: string): JobView {
    return jobView(this.job(name));
  }

  /**
   * Validates the run config against every op's schema, then creates the run QUEUED for the coordinator,
   * or, when no concurrency limit could hold it back, STARTING and handed to a worker at once.
   */
  async launch(jobName: string, request: LaunchRequest, createdBy?: string): Promise<RunRecord> {
    const job = this.job(jobName);
    const tags = { ...(request.tags ?? {}) };
    const reserved = Object.keys(tags).filter((k) => k.startsWith(SYSTEM_TAG_PREFIX) && k !== PRIORITY_TAG);
    if (reserved.length > 0) {
      throw new BadRequestError(
        `Tags under "${SYSTEM_TAG_PREFIX}" are set by the orchestrator (only ${PRIORITY_TAG} may be given): ${reserved.join(', ')}`,
        { errors: reserved.map((k) => ({ path: `tags.${k}`, message: 'is reserved' })) },
      );
    }
    if (tags[PRIORITY_TAG] !== undefined && !/^-?\d{1,9}$/.test(tags[PRIORITY_TAG])) {
      throw new BadRequestError(`${PRIORITY_TAG} must be an integer`, {
        errors: [{ path: `tags.${PRIORITY_TAG}`, message: 'must be an integer' }],
      });
    }
    checkRunConfig(job, request.runConfig ?? {});
    // Without limits a coordinator pass would start the run as soon as it saw it; starting it in the
    // statement that creates it saves that pass its statement and the run a row version. A free run
    // worker of this very process saves the queue too: the run is created claimed by it.
    const start = runsUnlimited(this.config.orchestrator);
    const runId = randomUUID();
    const slot = start && this.config.orchestrator.eagerStart ? this.localRuns.reserve(runId) : undefined;
    let created: RunWithOutbox | undefined;
    try {
      created = await this.runs.insertRun({
        runId,
        jobName,
        runConfig: request.runConfig ?? {},
        tags: { ...job.tags, ...tags },
        instigatorType: 'manual',
        priority: priorityOf(tags),
        start,
        ...(slot ? { startedBy: slot.workerId } : {}),
        ...(createdBy ? { createdBy } : {}),
      });
    } finally {
      if (!created) {
        slot?.release();
      }
    }
    if (!created) {
      // A manual launch has no run key or scheduled time to collide on, so only a broken invariant lands here.
      throw new Error(`run ${runId} was not created`);
    }
    const { outboxId, ...run } = created;
    if (slot) {
      slot.start(run);
    } else if (outboxId === undefined) {
      await this.wake();
    } else {
      // Not awaited, as a coordinator pass is not: the run is safe in PostgreSQL once committed, the
      // relay logs its own failures, and the run monitor relays what it could not send.
      void this.relay.relayOne({
        id: outboxId,
        kind: 'execute-run',
        payload: { runId: run.runId, attempt: run.resumeAttempts },
      });
    }
    return run;
  }

  /**
   * Prompts the coordinator. The run is already safe in PostgreSQL, so Redis being down must not fail
   * the request: the coordinator's periodic pass picks the run up once Redis is back.
   */
  private async wake(): Promise<void> {
    await this.queues.wakeCoordinator().catch((error: unknown) => {
      this.log.warn(
        { err: error },
        'could not prompt the run coordinator; its periodic pass will start the run',
      );
    });
  }

  async get(runId: string): Promise<RunRecord> {
    const run = UUID.test(runId) ? await this.runs.get(runId) : undefined;
    if (!run) {
      throw new NotFoundError(`No run has id "${runId}".`);
    }
    return run;
  }

  async list(query: RunQuery): Promise<{ runs: RunRecord[]; nextPageToken?: string }> {
    const { pageToken, pageSize: _pageSize, ...filter } = query;
    const beforeId = this.tokens.decode('orchestrator-runs', filter, pageToken);
    const page = await this.runs.list({
      ...(query.statuses ? { statuses: query.statuses } : {}),
      ...(query.jobName ? { jobName: query.jobName } : {}),
      ...(query.tags ? { tags: query.tags } : {}),
      ...(query.createdAfter ? { createdAfter: query.createdAfter } : {}),
      ...(query.createdBefore ? { createdBefore: query.createdBefore } : {}),
      ...(beforeId !== undefined ? { beforeId } : {}),
      limit: query.pageSize,
    });
    return {
      runs: page.runs,
      ...(page.more && page.lastId !== undefined
        ? { nextPageToken: this.tokens.encode('orchestrator-runs', filter, page.lastId) }
        : {}),
    };
  }

  /**
   * A page of a run's events after `after`. `done` is true once the run had finished before the read
   * and nothing is left, so a reader polling with `cursor` knows when to stop.
   */
  async events(
    runId: string,
    after: number,
    limit: number,
  ): Promise<{ events: EventRecord[]; cursor: number; done: boolean }> {
    const run = await this.get(runId);
    const events = await this.eventLog.list(runId, after, limit);
    return {
      events,
      cursor: events.at(-1)?.id ?? after,
      done: isTerminal(run.status) && events.length < limit,
    };
  }

  /**
   * Cancels a run from any process. A QUEUED run is canceled at once; a STARTING or STARTED run moves to
   * CANCELING and every worker is told to abort it (compare-and-set, so racing the coordinator or the
   * worker is safe). Cancelling a CANCELING run repeats the broadcast.
   */
  async cancel(runId: string): Promise<RunRecord> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const run = await this.get(runId);
      if (isTerminal(run.status)) {
        throw new ConflictError(
          `Run ${runId} has already finished with status ${run.status}; there is nothing to cancel.`,
          { extra: { status: run.status }, code: 'run_finished' },
        );
      }
      if (run.status === 'CANCELING') {
        await this.queues.broadcastCancel(runId, this.config.orchestrator.cancelTimeoutMs);
        return run;
      }
      if (run.status === 'QUEUED' || run.status === 'NOT_STARTED') {
        const canceled = await this.runs.transition(runId, {
          from: ['QUEUED', 'NOT_STARTED'],
          to: 'CANCELED',
          events: [
            makeEvent('RUN_CANCELING', 'Canceling the queued run.'),
            makeEvent('RUN_CANCELED', 'The run was canceled before it started.'),
          ],
        });
        if (canceled) {
          return canceled;
        }
        continue;
      }
      const canceling = await this.runs.transition(runId, {
        from: ['STARTING', 'STARTED'],
        to: 'CANCELING',
        events: [makeEvent('RUN_CANCELING', 'Cancellation requested; telling the worker to stop.')],
        broadcastCancel: true,
      });
      if (canceling) {
        await this.relay.relay(canceling.outboxId !== undefined ? [canceling.outboxId] : []);
        const { outboxId: _outboxId, ...record } = canceling;
        return record;
      }
    }
    throw new ConflictError(`Run ${runId} kept changing status; try cancelling again.`);
  }

  /**
   * Re-executes a finished run as a new run with parent and root ids. From failure, the steps that
   * succeeded keep their outputs (copied to the new run) and only the others execute.
   */
  async reexecute(runId: string, fromFailure: boolean, createdBy?: string): Promise<RunRecord> {
    const parent = await this.get(runId);
    if (!isTerminal(parent.status)) {
      throw new ConflictError(`Run ${runId} is ${parent.status}; only finished runs can be re-executed.`, {
        extra: { status: parent.status },
        code: 'run_not_finished',
      });
    }
    const job = this.workspace.jobs.get(parent.jobName);
    if (!job) {
      throw new ConflictError(`Job "${parent.jobName}" of run ${runId} is no longer defined.`, {
        code: 'job_missing',
      });
    }
    let reused: string[] = [];
    let toExecute: string[] | undefined;
    if (fromFailure) {
      if (parent.status === 'SUCCESS') {
        throw new ConflictError(
          `Run ${runId} succeeded, so nothing failed; re-execute it from scratch (fromFailure: false).`,
          { extra: { status: parent.status }, code: 'nothing_failed' },
        );
      }
      const completed = new Set(await this.runs.completedSteps(runId));
      reused = job.graph.nodes.map((n) => n.name).filter((name) => completed.has(name));
      toExecute = job.graph.nodes.map((n) => n.name).filter((name) => !completed.has(name));
    }
    const rootRunId = parent.rootRunId ?? parent.runId;
    const inherited = Object.fromEntries(
      Object.entries(parent.tags).filter(([k]) => !k.startsWith(SYSTEM_TAG_PREFIX) || k === PRIORITY_TAG),
    );
    const run: NewRun = {
      runId: randomUUID(),
      jobName: parent.jobName,
      runConfig: parent.runConfig,
      tags: {
        ...inherited,
        'dagster/parent_run_id': parent.runId,
        'dagster/root_run_id': rootRunId,
        ...(fromFailure ? { 'dagster/is_resume_retry': 'true' } : {}),
      },
      instigatorType: 'reexecution',
      parentRunId: parent.runId,
      rootRunId,
      priority: parent.priority,
      ...(toExecute ? { stepKeysToExecute: toExecute } : {}),
      ...(createdBy ? { createdBy } : {}),
    };
    const created = await this.runs.insertReexecution(run, parent.runId, reused);
    await this.wake();
    return created;
  }
}
