import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Worker, type Job, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { LOGGER } from '../../infra/logging/logging.module.js';
import { RedisService } from '../../infra/redis/redis.service.js';
import { isConnectivityError, runOrRetryInBackground } from '../../infra/retry.js';
import { InstigatorTicker } from '../daemon/instigator-ticker.js';
import {
  CONTROL_QUEUE,
  INSTIGATORS_QUEUE,
  OrchestratorQueues,
  RUN_JOBS_KEPT,
  RUNS_QUEUE,
  type ExecuteRunJob,
  type TickJob,
  type WakeJob,
} from '../daemon/orchestrator-queues.js';
import { RunCoordinator } from '../daemon/run-coordinator.js';
import { RunMonitor } from '../daemon/run-monitor.js';
import { SchedulerReconciler } from '../daemon/scheduler-reconciler.js';
import { TransportRecovery } from '../daemon/transport-recovery.js';
import { LocalRuns } from '../local-runs.js';
import { RunExecutor } from './run-executor.js';

/** How soon a wake-up looks again while the sensor it wakes is being evaluated. */
const WAKE_RETRY_MS = 50;

/** The millisecond timestamp a job scheduler's job was due at (its id is `repeat:<scheduler>:<millis>`). */
export function scheduledTimeOf(job: Pick<Job, 'id' | 'timestamp' | 'delay'>, data: TickJob): Date {
  if (data.scheduledTime) {
    return new Date(data.scheduledTime);
  }
  const millis = /^repeat:.+:(\d+)$/.exec(job.id ?? '')?.[1];
  return new Date(millis ? Number(millis) : job.timestamp + job.delay);
}

/**
 * The orchestrator daemon and run workers of a `worker`/`all` process: BullMQ workers for runs, ticks
 * and control (coordinator passes, monitor sweeps), the cancellation subscriber, and boot-time
 * reconciliation of the job schedulers.
 */
@Injectable()
export class OrchestratorDaemon implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly workers: Worker[] = [];
  private subscriber: Redis | undefined;
  private stopBoot: (() => void) | undefined;
  private stopReconnectListener: (() => void) | undefined;
  private stopLocalCoordinator: (() => Promise<void>) | undefined;
  private stopLocalRuns: (() => void) | undefined;
  private recoveryTimer: NodeJS.Timeout | undefined;
  private recovering: Promise<void> | undefined;
  private recoverAgain: string | undefined;
  private shuttingDown = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly redis: RedisService,
    private readonly queues: OrchestratorQueues,
    private readonly reconciler: SchedulerReconciler,
    private readonly coordinator: RunCoordinator,
    private readonly monitor: RunMonitor,
    private readonly ticker: InstigatorTicker,
    private readonly executor: RunExecutor,
    private readonly recovery: TransportRecovery,
    private readonly localRuns: LocalRuns,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const handle = await runOrRetryInBackground(
      'starting the orchestrator daemon',
      () => this.start(),
      this.log,
      isConnectivityError,
    );
    this.stopBoot = () => handle.stop();
  }

  private async start(): Promise<void> {
    await this.reconciler.syncDefinitions();
    if (this.workers.length === 0) {
      await this.subscribeToCancels();
      this.startWorkers();
      this.stopLocalCoordinator = this.queues.useLocalCoordinator(() => this.localCoordinatorPass());
      this.stopLocalRuns = this.localRuns.use(this.executor);
    }
    await this.reconciler.reconcileAll('all');
    await this.queues.wakeCoordinator();
    this.watchTransport();
    this.log.info({ workerId: this.executor.workerId }, 'orchestrator daemon and run workers started');
  }

  /**
   * Redis holds nothing PostgreSQL cannot rebuild, so rebuild it: at once when Redis comes back after a
   * loss (it may have restarted empty), and on a timer that does not depend on Redis, as a safety net.
   */
  private watchTransport(): void {
    this.stopReconnectListener ??= this.queues.onReconnect(() => {
      this.log.warn('Redis connection is back; rebuilding the orchestrator state it should hold');
      this.recoverSoon('redis reconnected');
    });
    if (!this.recoveryTimer) {
      this.recoveryTimer = setInterval(
        () => this.recoverSoon('periodic check'),
        this.config.orchestrator.recoveryIntervalMs,
      );
      this.recoveryTimer.unref();
    }
  }

  private recoverSoon(reason: string): void {
    if (this.recovering) {
      // What the running pass read may predate the loss; go over it once more when it ends.
      this.recoverAgain = reason;
      return;
    }
    this.recovering = this.recovery
      .recover(reason)
      .then(
        () => undefined,
        (error: unknown) =>
          this.log.warn({ err: error, reason }, 'rebuilding orchestrator state failed; retrying later'),
      )
      .finally(() => {
        this.recovering = undefined;
        const again = this.recoverAgain;
        this.recoverAgain = undefined;
        if (again && !this.shuttingDown) {
          this.recoverSoon(again);
        }
      });
  }

  private startWorkers(): void {
    const settings = this.config.orchestrator;
    this.addWorker(
      RUNS_QUEUE,
      settings.runWorkerConcurrency,
      async (job) => {
        const data = job.data as ExecuteRunJob;
        await this.executor.execute(data.runId, data.attempt);
      },
      { removeOnComplete: RUN_JOBS_KEPT.removeOnComplete, removeOnFail: RUN_JOBS_KEPT.removeOnFail },
    );
    this.addWorker(INSTIGATORS_QUEUE, 4, async (job) => {
      if ((job.data as WakeJob).kind === 'wake') {
        return this.wake((job.data as WakeJob).topic);
      }
      const data = job.data as TickJob;
      const outcome =
        data.kind === 'sensor'
          ? await this.ticker.tickSensor(data.name)
          : await this.ticker.tickSchedule(data.name, scheduledTimeOf(job, data));
      return { outcome };
    });
    this.addWorker(CONTROL_QUEUE, 2, async (job) => {
      if (job.name === 'monitor') {
        return this.monitor.sweep();
      }
      const pass = await this.coordinator.pass();
      if (pass.full) {
        await this.queues.wakeCoordinator();
      }
      return pass;
    });
  }

  /** A coordinator pass this process was woken for; true when a full batch means more may be waiting. */
  private async localCoordinatorPass(): Promise<boolean> {
    try {
      return (await this.coordinator.pass()).full;
    } catch (error) {
      this.log.warn({ err: error }, 'coordinator pass failed; the periodic pass will start the runs');
      return false;
    }
  }

  /**
   * Evaluates at once every sensor that wakes on `topic`. One already evaluating may have read before
   * the work arrived, so the wake-up waits for it to end rather than being dropped.
   */
  private async wake(topic: string): Promise<Record<string, string>> {
    const outcomes: Record<string, string> = {};
    await Promise.all(
      this.ticker.sensorsWakingOn(topic).map(async (name) => {
        const deadline = Date.now() + this.config.orchestrator.sensorTimeoutMs + 5000;
        let outcome = await this.ticker.tickSensor(name, { wakeUp: true });
        while ((outcome === 'in-progress' || outcome === 'busy') && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, WAKE_RETRY_MS));
          outcome = await this.ticker.tickSensor(name, { wakeUp: true });
        }
        outcomes[name] = outcome;
      }),
    );
    return outcomes;
  }

  /**
   * The processor takes the job alone: BullMQ gives a processor that declares a third parameter an
   * abort signal per job, which only `Worker.cancelJob` fires and the hub never calls (cancellation is
   * its own broadcast, and the PostgreSQL heartbeat decides whether a worker died).
   */
  private addWorker(
    queue: string,
    concurrency: number,
    process: (job: Job) => Promise<unknown>,
    keep: Pick<WorkerOptions, 'removeOnComplete' | 'removeOnFail'> = {},
  ): void {
    const worker = new Worker(queue, (job) => process(job), {
      ...keep,
      connection: this.redis.createBullConnection(),
      prefix: this.config.redis.prefix,
      concurrency,
      // Runs hold their BullMQ job while they execute; the PostgreSQL heartbeat, not the lock, decides
      // whether a worker died, so a stalled lock only re-delivers a job the executor then ignores.
      maxStalledCount: 1,
    });
    worker.on('error', (error) => this.log.warn({ err: error, queue }, 'orchestrator worker error'));
    worker.on('failed', (job, error) =>
      this.log.warn({ err: error, queue, jobId: job?.id }, 'orchestrator job failed'),
    );
    this.workers.push(worker);
  }

  private async subscribeToCancels(): Promise<void> {
    this.subscriber = this.redis.createSubscriber();
    this.subscriber.on('message', (_channel: string, runId: string) => {
      if (this.executor.abort(runId)) {
        this.log.info({ runId }, 'aborting run: cancellation requested');
      }
    });
    await this.subscriber.subscribe(this.queues.cancelChannel);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    this.stopBoot?.();
    this.stopReconnectListener?.();
    if (this.recoveryTimer) {
      clearInterval(this.recoveryTimer);
    }
    await this.recovering;
    await this.stopLocalCoordinator?.();
    this.stopLocalRuns?.();
    // Let active runs finish within most of the shutdown budget; a run cut short keeps its STARTED
    // status and is resumed by the monitor of another worker once its heartbeat is stale.
    const grace = Math.max(500, this.config.http.shutdownTimeoutMs - 3000);
    const closing = Promise.allSettled([...this.workers.map((w) => w.close()), this.executor.drain()]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      closing.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), grace);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      await Promise.allSettled(this.workers.map((w) => w.close(true)));
    }
    await this.subscriber?.quit().catch(() => undefined);
  }
}
