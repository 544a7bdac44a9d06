/** Where the test suite finds its services; the same defaults as the hub, with a separate PostgreSQL database. */
export const TEST_ENV = {
  MONGO_URL: process.env.TEST_MONGO_URL ?? 'mongodb://127.0.0.1:27017',
  DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/runtime_hub_test',
  REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
} as const;
