import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';

/**
 * Hands out Redis connections and closes every one of them at shutdown. BullMQ needs
 * `maxRetriesPerRequest: null` on its connections so blocking commands survive reconnects.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly prefix: string;
  private readonly url: string;
  private readonly connections = new Set<Redis>();
  private shared: Redis | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.url = config.redis.url;
    this.prefix = config.redis.prefix;
  }

  /** A general-purpose connection for commands (not for blocking reads or subscriptions). */
  get client(): Redis {
    this.shared ??= this.connect({ lazyConnect: false });
    return this.shared;
  }

  /** A dedicated connection suitable for BullMQ queues, workers and subscribers. */
  createBullConnection(): Redis {
    return this.connect({ maxRetriesPerRequest: null, enableReadyCheck: false });
  }

  /** A dedicated connection for pub/sub, which ties up the connection it runs on. */
  createSubscriber(): Redis {
    return this.connect({});
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  private connect(options: RedisOptions): Redis {
    const connection = new Redis(this.url, { connectionName: 'runtime-hub', ...options });
    // Reconnects are ioredis's job; an unhandled 'error' event would crash the process instead.
    connection.on('error', () => undefined);
    this.connections.add(connection);
    connection.once('end', () => this.connections.delete(connection));
    return connection;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(
      [...this.connections].map(async (connection) => {
        try {
          await connection.quit();
        } catch {
          connection.disconnect();
        }
      }),
    );
    this.connections.clear();
  }
}
