import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { LOGGER } from '../../infra/logging/logging.module.js';
import type { RepositoryDefinition } from '../core/index.js';
import { InstigatorRepository } from '../storage/instigator.repository.js';
import { LockRepository } from '../storage/lock.repository.js';
import type { InstigatorRecord } from '../storage/records.js';
import { ORCH_WORKSPACE } from '../workspace.js';
import {
  CONTROL_QUEUE,
  INSTIGATORS_QUEUE,
  OrchestratorQueues,
  type SchedulerSpec,
} from './orchestrator-queues.js';

const RECONCILE_LOCK = 'scheduler-reconcile';

const sameSpec = (a: SchedulerSpec | undefined, b: SchedulerSpec): boolean =>
  a !== undefined && a.every === b.every && a.pattern === b.pattern && (a.tz ?? 'UTC') === (b.tz ?? 'UTC');

/**
 * Keeps BullMQ job schedulers in line with PostgreSQL: one per RUNNING sensor (every minimum interval)
 * and schedule (cron pattern in its time zone), none for stopped or removed ones. Upserts happen from
 * one process at a time, under an advisory lock, because concurrent upserts race in BullMQ.
 */
@Injectable()
export class SchedulerReconciler {
  constructor(
    @Inject(ORCH_WORKSPACE) private readonly workspace: RepositoryDefinition,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly instigators: InstigatorRepository,
    private readonly locks: LockRepository,
    private readonly queues: OrchestratorQueues,
  ) {}

  /** Creates state rows for newly defined sensors and schedules (idempotent; every role does it at boot). */
  async syncDefinitions(): Promise<void> {
    await this.instigators.sync([
      ...[...this.workspace.sensors.values()].map((s) => ({
        name: s.name,
        type: 'sensor' as const,
        defaultStatus: s.defaultStatus,
        minIntervalMs: Math.round(s.minimumIntervalSeconds * 1000),
      })),
      ...[...this.workspace.schedules.values()].map((s) => ({
        name: s.name,
        type: 'schedule' as const,
        defaultStatus: s.defaultStatus,
      })),
    ]);
  }

  private desired(row: InstigatorRecord): SchedulerSpec | undefined {
    if (row.status !== 'RUNNING') {
      return undefined;
    }
    const sensorDef = this.workspace.sensors.get(row.name);
    if (row.type === 'sensor' && sensorDef) {
      return { id: `sensor.${row.name}`, every: Math.round(sensorDef.minimumIntervalSeconds * 1000) };
    }
    const scheduleDef = this.workspace.schedules.get(row.name);
    if (row.type === 'schedule' && scheduleDef) {
      return { id: `schedule.${row.name}`, pattern: scheduleDef.cron, tz: scheduleDef.timezone };
    }
    return undefined;
  }

  /**
   * Brings every job scheduler in line with PostgreSQL, by whichever process gets the lock first (at
   * boot, when Redis comes back, and periodically). Schedules get a catch-up tick, since BullMQ does not
   * replay the times missed while nothing ran: at boot every running schedule (`catchUp: 'all'`), later
   * only those whose scheduler had to be created again (`'recreated'`). Returns the ids of the
   * schedulers it created or changed, or undefined when another process was already doing it.
   */
  async reconcileAll(catchUp: 'all' | 'recreated' = 'all'): Promise<string[] | undefined> {
    return this.locks.withTryLock(RECONCILE_LOCK, async () => {
      const rows = [...(await this.instigators.list('sensor')), ...(await this.instigators.list('schedule'))];
      const existing = new Map((await this.queues.listSchedulers(INSTIGATORS_QUEUE)).map((s) => [s.id, s]));
      const wanted = new Map<string, SchedulerSpec>();
      for (const row of rows) {
        const spec = this.desired(row);
        if (spec) {
          wanted.set(spec.id, spec);
        }
      }
      const changed: string[] = [];
      for (const [id, spec] of wanted) {
        if (!sameSpec(existing.get(id), spec)) {
          await this.upsert(spec);
          changed.push(id);
        }
      }
      for (const id of existing.keys()) {
        if (!wanted.has(id)) {
          await this.queues.removeScheduler(INSTIGATORS_QUEUE, id);
        }
      }
      changed.push(...(await this.reconcileControl()));
      for (const row of rows) {
        const id = `schedule.${row.name}`;
        if (row.type === 'schedule' && wanted.has(id) && (catchUp === 'all' || !existing.has(id))) {
          await this.queues.enqueueTick({
            kind: 'schedule',
            name: row.name,
            scheduledTime: new Date().toISOString(),
          });
        }
      }
      if (catchUp === 'all' || changed.length > 0) {
        this.log.info({ schedulers: [...wanted.keys()], changed }, 'orchestrator job schedulers reconciled');
      }
      return changed;
    });
  }

  /** Applies one instigator's status after a start or stop. */
  async reconcileOne(name: string): Promise<void> {
    await this.locks.withLock(RECONCILE_LOCK, async () => {
      const row = await this.instigators.get(name);
      if (!row) {
        return;
      }
      const id = `${row.type}.${name}`;
      const spec = this.desired(row);
      if (spec) {
        await this.upsert(spec);
      } else {
        await this.queues.removeScheduler(INSTIGATORS_QUEUE, id);
      }
    });
  }

  private async upsert(spec: SchedulerSpec): Promise<void> {
    const [kind, ...rest] = spec.id.split('.');
    await this.queues.upsertScheduler(INSTIGATORS_QUEUE, spec, 'tick', { kind, name: rest.join('.') });
  }

  /** The coordinator's periodic pass and the run monitor are job schedulers on the control queue. */
  private async reconcileControl(): Promise<string[]> {
    const existing = new Map((await this.queues.listSchedulers(CONTROL_QUEUE)).map((s) => [s.id, s]));
    const specs: [SchedulerSpec, string][] = [
      [{ id: 'coordinator', every: this.config.orchestrator.dequeueIntervalMs }, 'coordinate'],
      [{ id: 'monitor', every: this.config.orchestrator.monitorIntervalMs }, 'monitor'],
    ];
    const changed: string[] = [];
    for (const [spec, jobName] of specs) {
      if (!sameSpec(existing.get(spec.id), spec)) {
        await this.queues.upsertScheduler(CONTROL_QUEUE, spec, jobName, {});
        changed.push(spec.id);
      }
    }
    return changed;
  }
}
