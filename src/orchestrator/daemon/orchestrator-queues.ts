import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { RedisService } from '../../infra/redis/redis.service.js';

export const RUNS_QUEUE = 'orch-runs';
export const INSTIGATORS_QUEUE = 'orch-instigators';
export const CONTROL_QUEUE = 'orch-control';

export interface ExecuteRunJob {
  readonly runId: string;
  readonly attempt: number;
}

export interface TickJob {
  readonly kind: 'sensor' | 'schedule';
  readonly name: string;
  /** For schedule ticks enqueued by hand (catch-up); scheduler jobs carry it in their id. */
  readonly scheduledTime?: string;
}

/** Evaluate at once the sensors that wake on `topic` (work they would find has arrived). */
export interface WakeJob {
  readonly kind: 'wake';
  readonly topic: string;
}

export interface SchedulerSpec {
  readonly id: string;
  readonly every?: number;
  readonly pattern?: string;
  readonly tz?: string;
}

const WAKE_COALESCE_MS = 5;

const DONE = { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 86_400, count: 1000 } };

/**
 * How many finished run executions the runs queue keeps, given to its worker rather than to each job:
 * per-job options are stored in every job's hash and decoded again on every fetch, which a run pays
 * for however short it is.
 */
export const RUN_JOBS_KEPT = DONE;

/**
 * The only code that talks to BullMQ queues and the cancellation channel. Everything here is transport:
 * PostgreSQL holds the state, so each message can be sent again without harm.
 */
@Injectable()
export class OrchestratorQueues implements OnApplicationShutdown {
  private connection: Redis | undefined;
  private readonly queues = new Map<string, Queue>();
  private pendingWake: Promise<void> | undefined;
  private localPass: (() => Promise<boolean>) | undefined;
  private localPasses: Promise<void> | undefined;
  private localPassAgain = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly redis: RedisService,
  ) {}

  get prefix(): string {
    return this.config.redis.prefix;
  }

  /** The Redis channel cancellations are broadcast on. */
  get cancelChannel(): string {
    return `${this.prefix}:orch:cancel`;
  }

  private get sharedConnection(): Redis {
    this.connection ??= this.redis.createBullConnection();
    return this.connection;
  }

  queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      // No default job options: each kind of job states its own, and run executions carry none.
      queue = new Queue(name, { connection: this.sharedConnection, prefix: this.prefix });
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** The BullMQ job id of one execution attempt of a run (ids may not contain ':'). */
  static executionJobId(runId: string, attempt: number): string {
    return `${runId}.${attempt}`;
  }

  async enqueueExecutions(jobs: readonly ExecuteRunJob[]): Promise<void> {
    if (jobs.length === 0) {
      return;
    }
    // One attempt (BullMQ's default): a failed execution is the monitor's to resume, not BullMQ's to
    // retry. How many finished jobs are kept is the worker's RUN_JOBS_KEPT.
    const opts = (job: ExecuteRunJob): JobsOptions => ({
      jobId: OrchestratorQueues.executionJobId(job.runId, job.attempt),
    });
    await this.queue(RUNS_QUEUE).addBulk(jobs.map((data) => ({ name: 'execute', data, opts: opts(data) })));
  }

  /**
   * Makes sure each execution attempt has a job waiting: adds the missing ones (Redis lost them) and
   * replaces the ones that ended without the run starting (the worker met a database outage). A job
   * still waiting or active is left alone. Returns how many were (re)added.
   */
  async requeueExecutions(jobs: readonly ExecuteRunJob[]): Promise<number> {
    const queue = this.queue(RUNS_QUEUE);
    const missing: ExecuteRunJob[] = [];
    for (const job of jobs) {
      const existing = await queue.getJob(OrchestratorQueues.executionJobId(job.runId, job.attempt));
      if (!existing) {
        missing.push(job);
        continue;
      }
      const state = await existing.getState();
      if (state === 'completed' || state === 'failed') {
        await existing.remove().catch(() => undefined);
        missing.push(job);
      }
    }
    await this.enqueueExecutions(missing);
    return missing.length;
  }

  /**
   * Calls `listener` every time the queues' Redis connection is ready again after it was lost (Redis
   * restarted, perhaps empty). Returns a function that stops listening.
   */
  onReconnect(listener: () => void): () => void {
    const connection = this.sharedConnection;
    let lost = false;
    const onClose = (): void => {
      lost = true;
    };
    const onReady = (): void => {
      if (lost) {
        lost = false;
        listener();
      }
    };
    connection.on('close', onClose);
    connection.on('ready', onReady);
    return () => {
      connection.off('close', onClose);
      connection.off('ready', onReady);
    };
  }

  /** The BullMQ state of an execution attempt ('unknown' when the job is gone). */
  async executionState(runId: string, attempt: number): Promise<string> {
    const job = await this.queue(RUNS_QUEUE).getJob(OrchestratorQueues.executionJobId(runId, attempt));
    return job ? await job.getState() : 'unknown';
  }

  /**
   * Asks for a coordinator pass. In a process that runs the coordinator (see {@link useLocalCoordinator})
   * the pass runs here, without waiting for it. Elsewhere, requests within a few milliseconds share one
   * message, sent after all of them (so after their callers' commits); BullMQ de-duplication then keeps
   * at most one pass waiting behind the active one.
   */
  wakeCoordinator(): Promise<void> {
    if (this.localPass) {
      this.wakeLocalCoordinator(this.localPass);
      return Promise.resolve();
    }
    this.pendingWake ??= new Promise<void>((resolve) => setTimeout(resolve, WAKE_COALESCE_MS)).then(
      async () => {
        this.pendingWake = undefined;
        await this.queue(CONTROL_QUEUE).add(
          'coordinate',
          {},
          { deduplication: { id: 'coordinate', keepLastIfActive: true }, ...DONE, removeOnComplete: true },
        );
      },
    );
    return this.pendingWake;
  }

  /**
   * Makes wake-ups in this process run `pass` here rather than send a message through Redis for some
   * daemon to take: one pass at a time, a wake-up during a pass asking for one more after it, and
   * another while `pass` reports more runs waiting. `pass` handles its own errors. Passes of several
   * processes at once are safe (each run moves by compare-and-set; limited passes take a lock), and
   * the periodic pass on the control queue still runs. Returns a function that stops it and waits for
   * the pass in progress.
   */
  useLocalCoordinator(pass: () => Promise<boolean>): () => Promise<void> {
    this.localPass = pass;
    return async () => {
      if (this.localPass === pass) {
        this.localPass = undefined;
      }
      await this.localPasses;
    };
  }

  private wakeLocalCoordinator(pass: () => Promise<boolean>): void {
    if (this.localPasses) {
      this.localPassAgain = true;
      return;
    }
    const passes = async (): Promise<void> => {
      // Launches arrive in bursts: a moment's wait lets one pass take them all.
      await new Promise((resolve) => setTimeout(resolve, WAKE_COALESCE_MS));
      let more = true;
      while ((more || this.localPassAgain) && this.localPass === pass) {
        this.localPassAgain = false;
        more = await pass();
      }
    };
    this.localPasses = passes().finally(() => {
      this.localPasses = undefined;
    });
  }

  /**
   * Wakes the sensors of each topic. One message per topic is waiting at most, plus one being
   * processed (BullMQ de-duplication keeping the last while active): a burst of arrivals costs one or
   * two evaluations, and an arrival during an evaluation still gets one after it.
   */
  async enqueueWakes(topics: readonly string[]): Promise<void> {
    const queue = this.queue(INSTIGATORS_QUEUE);
    await Promise.all(
      topics.map((topic) =>
        queue.add('wake', { kind: 'wake', topic } satisfies WakeJob, {
          attempts: 1,
          deduplication: { id: `wake.${topic}`, keepLastIfActive: true },
          removeOnComplete: true,
          removeOnFail: DONE.removeOnFail,
        }),
      ),
    );
  }

  async enqueueTick(tick: TickJob): Promise<void> {
    await this.queue(INSTIGATORS_QUEUE).add('tick', tick, { attempts: 1, ...DONE });
  }

  async listSchedulers(queueName: string): Promise<SchedulerSpec[]> {
    const schedulers = await this.queue(queueName).getJobSchedulers(0, -1, true);
    return schedulers.map((s) => ({
      id: s.key,
      ...(s.every ? { every: Number(s.every) } : {}),
      ...(s.pattern ? { pattern: s.pattern } : {}),
      ...(s.tz ? { tz: s.tz } : {}),
    }));
  }

  async upsertScheduler(queueName: string, spec: SchedulerSpec, name: string, data: object): Promise<void> {
    await this.queue(queueName).upsertJobScheduler(
      spec.id,
      spec.every !== undefined
        ? { every: spec.every }
        : { pattern: spec.pattern, ...(spec.tz ? { tz: spec.tz } : {}) },
      { name, data, opts: { attempts: 1, ...DONE } },
    );
  }

  async removeScheduler(queueName: string, id: string): Promise<void> {
    await this.queue(queueName).removeJobScheduler(id);
  }

  /**
   * Tells every worker process to abort a run. Pub/sub is fire-and-forget, so a key with a TTL also
   * records the request for workers that check at step boundaries or start the run later.
   */
  async broadcastCancel(runId: string, ttlMs: number): Promise<void> {
    await this.redis.client.set(`${this.prefix}:orch:cancel:${runId}`, '1', 'PX', ttlMs);
    await this.redis.client.publish(this.cancelChannel, runId);
  }

  async isCancelRequested(runId: string): Promise<boolean> {
    return (await this.redis.client.exists(`${this.prefix}:orch:cancel:${runId}`)) === 1;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
