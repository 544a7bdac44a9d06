import { pino } from 'pino';

import { loadConfig } from '../../src/config/app-config.js';
import { MongoService } from '../../src/infra/mongo/mongo.service.js';
import { isolatedEnv } from '../support/harness.js';

/**
 * A MongoService on a database of its own (a random name, as for every test file), built without
 * booting the hub: repositories take it in their constructors and declare their indexes, then
 * `ready` creates them as a booting hub would.
 */
export interface RepositoryDb {
  readonly mongo: MongoService;
  /** Creates the indexes the repositories constructed so far declared. */
  ready(): Promise<void>;
  /** Drops the database and closes the connections. */
  close(): Promise<void>;
}

export function openRepositoryDb(): RepositoryDb {
  const mongo = new MongoService(loadConfig(isolatedEnv()), pino({ level: 'silent' }));
  return {
    mongo,
    ready: () => mongo.ensureIndexes(),
    close: async () => {
      await mongo.db.dropDatabase().catch(() => undefined);
      await mongo.onApplicationShutdown();
    },
  };
}
