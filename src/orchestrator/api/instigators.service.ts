import { Inject, Injectable } from '@nestjs/common';

import { NotFoundError } from '../../common/errors/domain-errors.js';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { nextScheduledTime, previousScheduledTime, type RepositoryDefinition } from '../core/index.js';
import { SchedulerReconciler } from '../daemon/scheduler-reconciler.js';
import { InstigatorRepository } from '../storage/instigator.repository.js';
import type { InstigatorRecord, InstigatorType, TickRecord } from '../storage/records.js';
import { ORCH_WORKSPACE } from '../workspace.js';
import { PositionTokens } from './page-token.js';

/**
 * Whether the daemon really evaluates a RUNNING sensor or schedule: TICKING, or LATE when ticks stopped
 * arriving (a sensor silent for twice its interval plus 30 s, a schedule more than 60 s past a due time
 * it has not taken). STOPPED when it is not meant to tick.
 */
export type TickHealth = 'TICKING' | 'LATE' | 'STOPPED';

const SENSOR_LATE_GRACE_MS = 30_000;
const SCHEDULE_LATE_GRACE_MS = 60_000;

const ageSeconds = (since: Date | undefined, now: Date): number | undefined =>
  since === undefined ? undefined : Math.max(0, Math.round((now.getTime() - since.getTime()) / 100) / 10);

export interface SensorView {
  name: string;
  description?: string;
  jobNames: string[];
  minimumIntervalSeconds: number;
  defaultStatus: 'RUNNING' | 'STOPPED';
  status: 'RUNNING' | 'STOPPED';
  cursor?: string;
  lastRunKey?: string;
  lastTickStart?: Date;
  lastTickEnd?: Date;
  /** Seconds since the last evaluation started. */
  lastTickAgeSeconds?: number;
  tickHealth: TickHealth;
  lastTicks: TickRecord[];
}

export interface ScheduleView {
  name: string;
  description?: string;
  jobName: string;
  cron: string;
  timezone: string;
  defaultStatus: 'RUNNING' | 'STOPPED';
  status: 'RUNNING' | 'STOPPED';
  lastScheduledTime?: Date;
  nextScheduledTime?: Date;
  lastTickStart?: Date;
  lastTickEnd?: Date;
  lastTickAgeSeconds?: number;
  tickHealth: TickHealth;
  lastTicks: TickRecord[];
}

const LAST_TICKS = 5;

/** Sensors and schedules: their definitions joined with their state and latest ticks; start and stop. */
@Injectable()
export class InstigatorService {
  constructor(
    @Inject(ORCH_WORKSPACE) private readonly workspace: RepositoryDefinition,
    private readonly instigators: InstigatorRepository,
    private readonly reconciler: SchedulerReconciler,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.tokens = new PositionTokens(config.secrets.urlSigningKey);
  }

  private readonly tokens: PositionTokens;

  private definitionNames(type: InstigatorType): string[] {
    return [...(type === 'sensor' ? this.workspace.sensors.keys() : this.workspace.schedules.keys())].sort();
  }

  private assertDefined(type: InstigatorType, name: string): void {
    if (!this.definitionNames(type).includes(name)) {
      throw new NotFoundError(
        `No ${type} is named "${name}". Known ${type}s: ${this.definitionNames(type).join(', ') || 'none'}.`,
      );
    }
  }

  private async states(type: InstigatorType): Promise<Map<string, InstigatorRecord>> {
    let rows = await this.instigators.list(type);
    if (rows.length < this.definitionNames(type).length) {
      // A process that has not booted a daemon yet may be first to see a new definition.
      await this.reconciler.syncDefinitions();
      rows = await this.instigators.list(type);
    }
    return new Map(rows.map((r) => [r.name, r]));
  }

  private sensorView(name: string, state: InstigatorRecord | undefined, ticks: TickRecord[]): SensorView {
    const def = this.workspace.sensors.get(name);
    if (!def) {
      throw new NotFoundError(`No sensor is named "${name}".`);
    }
    const now = new Date();
    const status = state?.status ?? def.defaultStatus;
    // Never ticked: count from when it was started (or first registered).
    const since = state?.lastTickStart ?? state?.updatedAt;
    const lateAfterMs = def.minimumIntervalSeconds * 2000 + SENSOR_LATE_GRACE_MS;
    const late = since === undefined || now.getTime() - since.getTime() > lateAfterMs;
    return {
      name,
      ...(def.description ? { description: def.description } : {}),
      jobNames: def.jobs.map((j) => j.name),
      minimumIntervalSeconds: def.minimumIntervalSeconds,
      defaultStatus: def.defaultStatus,
      status,
      ...(state?.cursor !== undefined ? { cursor: state.cursor } : {}),
      ...(state?.lastRunKey !== undefined ? { lastRunKey: state.lastRunKey } : {}),
      ...(state?.lastTickStart ? { lastTickStart: state.lastTickStart } : {}),
      ...(state?.lastTickEnd ? { lastTickEnd: state.lastTickEnd } : {}),
      ...(state?.lastTickStart ? { lastTickAgeSeconds: ageSeconds(state.lastTickStart, now) } : {}),
      tickHealth: status !== 'RUNNING' ? 'STOPPED' : late ? 'LATE' : 'TICKING',
      lastTicks: ticks,
    };
  }

  private scheduleView(name: string, state: InstigatorRecord | undefined, ticks: TickRecord[]): ScheduleView {
    const def = this.workspace.schedules.get(name);
    if (!def) {
      throw new NotFoundError(`No schedule is named "${name}".`);
    }
    const status = state?.status ?? def.defaultStatus;
    const now = new Date();
    const due = previousScheduledTime(def, new Date(now.getTime() - SCHEDULE_LATE_GRACE_MS));
    const taken = state?.lastScheduledTime ?? state?.updatedAt;
    const late = due !== undefined && (taken === undefined || taken.getTime() < due.getTime());
    return {
      name,
      ...(def.description ? { description: def.description } : {}),
      jobName: def.job.name,
      cron: def.cron,
      timezone: def.timezone,
      defaultStatus: def.defaultStatus,
      status,
      ...(state?.lastScheduledTime ? { lastScheduledTime: state.lastScheduledTime } : {}),
      ...(status === 'RUNNING' ? { nextScheduledTime: nextScheduledTime(def, new Date()) } : {}),
      ...(state?.lastTickStart ? { lastTickStart: state.lastTickStart } : {}),
      ...(state?.lastTickEnd ? { lastTickEnd: state.lastTickEnd } : {}),
      ...(state?.lastTickStart ? { lastTickAgeSeconds: ageSeconds(state.lastTickStart, now) } : {}),
      tickHealth: status !== 'RUNNING' ? 'STOPPED' : late ? 'LATE' : 'TICKING',
      lastTicks: ticks,
    };
  }

  private async all<T>(
    type: InstigatorType,
    view: (name: string, state: InstigatorRecord | undefined, ticks: TickRecord[]) => T,
  ): Promise<T[]> {
    const names = this.definitionNames(type);
    const [states, ticks] = await Promise.all([
      this.states(type),
      this.instigators.latestTicks(names, LAST_TICKS),
    ]);
    return names.map((n) => view(n, states.get(n), ticks.get(n) ?? []));
  }

  private async one<T>(
    type: InstigatorType,
    name: string,
    view: (name: string, state: InstigatorRecord | undefined, ticks: TickRecord[]) => T,
  ): Promise<T> {
    this.assertDefined(type, name);
    const [states, ticks] = await Promise.all([
      this.states(type),
      this.instigators.latestTicks([name], LAST_TICKS),
    ]);
    return view(name, states.get(name), ticks.get(name) ?? []);
  }

  listSensors(): Promise<SensorView[]> {
    return this.all('sensor', (n, state, ticks) => this.sensorView(n, state, ticks));
  }

  listSchedules(): Promise<ScheduleView[]> {
    return this.all('schedule', (n, state, ticks) => this.scheduleView(n, state, ticks));
  }

  getSensor(name: string): Promise<SensorView> {
    return this.one('sensor', name, (n, state, ticks) => this.sensorView(n, state, ticks));
  }

  getSchedule(name: string): Promise<ScheduleView> {
    return this.one('schedule', name, (n, state, ticks) => this.scheduleView(n, state, ticks));
  }

  /** Starts or stops a sensor or schedule, then brings its BullMQ job scheduler in line. */
  async setStatus(type: InstigatorType, name: string, status: 'RUNNING' | 'STOPPED'): Promise<void> {
    this.assertDefined(type, name);
    await this.states(type);
    await this.instigators.setStatus(name, status);
    await this.reconciler.reconcileOne(name);
  }

  async ticks(
    type: InstigatorType,
    name: string,
    pageSize: number,
    pageToken?: string,
  ): Promise<{ ticks: TickRecord[]; nextPageToken?: string }> {
    this.assertDefined(type, name);
    const before = this.tokens.decode(`orchestrator-ticks:${name}`, {}, pageToken);
    const ticks = await this.instigators.ticks(name, pageSize + 1, before);
    const page = ticks.slice(0, pageSize);
    const last = page.at(-1);
    return {
      ticks: page,
      ...(ticks.length > pageSize && last
        ? { nextPageToken: this.tokens.encode(`orchestrator-ticks:${name}`, {}, last.id) }
        : {}),
    };
  }
}
