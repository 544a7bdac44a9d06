import { Inject, Injectable } from '@nestjs/common';

import { NotFoundError } from '../../common/errors/domain-errors.js';
import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { nextScheduledTime, type RepositoryDefinition } from '../core/index.js';
import { SchedulerReconciler } from '../daemon/scheduler-reconciler.js';
import { InstigatorRepository } from '../storage/instigator.repository.js';
import type { InstigatorRecord, InstigatorType, TickRecord } from '../storage/records.js';
import { ORCH_WORKSPACE } from '../workspace.js';
import { PositionTokens } from './page-token.js';

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
    return {
      name,
      ...(def.description ? { description: def.description } : {}),
      jobNames: def.jobs.map((j) => j.name),
      minimumIntervalSeconds: def.minimumIntervalSeconds,
      defaultStatus: def.defaultStatus,
      status: state?.status ?? def.defaultStatus,
      ...(state?.cursor !== undefined ? { cursor: state.cursor } : {}),
      ...(state?.lastRunKey !== undefined ? { lastRunKey: state.lastRunKey } : {}),
      ...(state?.lastTickStart ? { lastTickStart: state.lastTickStart } : {}),
      ...(state?.lastTickEnd ? { lastTickEnd: state.lastTickEnd } : {}),
      lastTicks: ticks,
    };
  }

  private scheduleView(name: string, state: InstigatorRecord | undefined, ticks: TickRecord[]): ScheduleView {
    const def = this.workspace.schedules.get(name);
    if (!def) {
      throw new NotFoundError(`No schedule is named "${name}".`);
    }
    const status = state?.status ?? def.defaultStatus;
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
      lastTicks: ticks,
    };
  }

  async listSensors(): Promise<SensorView[]> {
    const names = this.definitionNames('sensor');
    const [states, ticks] = await Promise.all([
      this.states('sensor'),
      this.instigators.latestTicks(names, LAST_TICKS),
    ]);
    return names.map((n) => this.sensorView(n, states.get(n), ticks.get(n) ?? []));
  }

  async listSchedules(): Promise<ScheduleView[]> {
    const names = this.definitionNames('schedule');
    const [states, ticks] = await Promise.all([
      this.states('schedule'),
      this.instigators.latestTicks(names, LAST_TICKS),
    ]);
    return names.map((n) => this.scheduleView(n, states.get(n), ticks.get(n) ?? []));
  }

  async getSensor(name: string): Promise<SensorView> {
    this.assertDefined('sensor', name);
    const states = await this.states('sensor');
    return this.sensorView(
      name,
      states.get(name),
      (await this.instigators.latestTicks([name], LAST_TICKS)).get(name) ?? [],
    );
  }

  async getSchedule(name: string): Promise<ScheduleView> {
    this.assertDefined('schedule', name);
    const states = await this.states('schedule');
    return this.scheduleView(
      name,
      states.get(name),
      (await this.instigators.latestTicks([name], LAST_TICKS)).get(name) ?? [],
    );
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
