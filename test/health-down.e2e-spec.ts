import { createServer, type Server } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startTestHub, type TestHub } from './support/harness.js';

/** A port nothing listens on: bound once to learn a free number, then released. */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || !address) {
    throw new Error('no port');
  }
  return address.port;
}

describe('/health with a dependency down', () => {
  let hub: TestHub;

  beforeAll(async () => {
    const port = await closedPort();
    hub = await startTestHub({
      env: {
        MONGO_URL: `mongodb://127.0.0.1:${port}`,
        MONGO_SERVER_SELECTION_TIMEOUT_MS: '300',
        HEALTH_TIMEOUT_MS: '1000',
      },
    });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('boots anyway and answers 503 naming the failing dependency', async () => {
    const res = await hub.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(503);
    const body = res.json();
    expect(body.status).toBe('error');
    expect(body.failing).toEqual(['mongo']);
    expect(body.checks.mongo.status).toBe('down');
    expect(body.checks.mongo.error).toBeTruthy();
    expect(body.checks.postgres.status).toBe('up');
    expect(body.checks.redis.status).toBe('up');
  });

  it('keeps serving requests that do not need the missing dependency', async () => {
    const res = await hub.inject({ method: 'GET', url: '/version' });
    expect(res.statusCode).toBe(200);
  });
});
