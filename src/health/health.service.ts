import { Inject, Injectable } from '@nestjs/common';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { MongoService } from '../infra/mongo/mongo.service.js';
import { PostgresService } from '../infra/postgres/postgres.service.js';
import { RedisService } from '../infra/redis/redis.service.js';
import { withTimeout } from '../infra/retry.js';

export type DependencyName = 'mongo' | 'postgres' | 'redis';

export interface DependencyCheck {
  status: 'up' | 'down';
  latency_ms: number;
  error?: string;
}

export interface HealthReport {
  status: 'ok' | 'error';
  checks: Record<DependencyName, DependencyCheck>;
  failing?: DependencyName[];
}

@Injectable()
export class HealthService {
  private readonly timeoutMs: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly mongo: MongoService,
    private readonly postgres: PostgresService,
    private readonly redis: RedisService,
  ) {
    this.timeoutMs = config.health.timeoutMs;
  }

  async check(): Promise<HealthReport> {
    const probes: Record<DependencyName, () => Promise<void>> = {
      mongo: () => this.mongo.ping(),
      postgres: () => this.postgres.ping(),
      redis: () => this.redis.ping(),
    };
    const entries = await Promise.all(
      (Object.keys(probes) as DependencyName[]).map(
        async (name) => [name, await this.probe(name, probes[name])] as const,
      ),
    );
    const checks = Object.fromEntries(entries) as Record<DependencyName, DependencyCheck>;
    const failing = entries.filter(([, check]) => check.status === 'down').map(([name]) => name);
    return failing.length === 0 ? { status: 'ok', checks } : { status: 'error', checks, failing };
  }

  private async probe(name: DependencyName, run: () => Promise<void>): Promise<DependencyCheck> {
    const started = performance.now();
    try {
      await withTimeout(run(), this.timeoutMs, `${name} ping`);
      return { status: 'up', latency_ms: Math.round(performance.now() - started) };
    } catch (error) {
      return {
        status: 'down',
        latency_ms: Math.round(performance.now() - started),
        error: error instanceof Error ? error.message.split('\n', 1)[0] : String(error),
      };
    }
  }
}
