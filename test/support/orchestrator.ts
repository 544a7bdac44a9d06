import { fileURLToPath } from 'node:url';

import { expect } from 'vitest';

import type { InjectOptions, Response } from 'light-my-request';

import { ADMIN, ADMIN_ENV, bearer, passwordToken } from './auth.js';
import type { TestHub } from './harness.js';

export const FIXTURES = fileURLToPath(new URL('./orchestrator-fixtures.ts', import.meta.url));

/** Short intervals so the daemon reacts within a test's patience. */
export const FAST_ORCHESTRATOR_ENV: Record<string, string> = {
  ...ADMIN_ENV,
  TOKEN_RATE_LIMIT: '10000',
  ORCH_CODE_LOCATIONS: FIXTURES,
  ORCH_DEQUEUE_INTERVAL_MS: '300',
  ORCH_MONITOR_INTERVAL_MS: '300',
  ORCH_HEARTBEAT_INTERVAL_MS: '200',
  ORCH_WORKER_TIMEOUT_MS: '1500',
  ORCH_START_TIMEOUT_MS: '10000',
  ORCH_CANCEL_TIMEOUT_MS: '10000',
  ORCH_OUTBOX_RETRY_MS: '1000',
  LOG_LEVEL: 'info',
};

/** Sends requests to a hub as one principal (the test admin unless a token is given). */
export interface ApiClient {
  readonly app: TestHub['app'];
  inject(options: InjectOptions): Promise<Response>;
}

export async function adminClient(hub: TestHub, token?: string): Promise<ApiClient> {
  const bearerToken = token ?? (await passwordToken(hub, ADMIN.username, ADMIN.password));
  return {
    app: hub.app,
    inject: (options) =>
      hub.inject({ ...options, headers: { ...bearer(bearerToken), ...(options.headers ?? {}) } }),
  };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface RunBody {
  runId: string;
  status: string;
  [key: string]: unknown;
}

export async function getRun(hub: ApiClient, runId: string): Promise<RunBody> {
  const res = await hub.inject({ method: 'GET', url: `/orchestrator/runs/${runId}` });
  expect(res.statusCode).toBe(200);
  return res.json<RunBody>();
}

/** Launches `job` through the API (201 expected) and returns the new run as the launch answered it. */
export async function launchRun(hub: ApiClient, job: string, payload: object = {}): Promise<RunBody> {
  const res = await hub.inject({ method: 'POST', url: `/orchestrator/jobs/${job}/runs`, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<RunBody>();
}

export function waitForStatus(
  hub: ApiClient,
  runId: string,
  statuses: readonly string[],
  timeoutMs = 15_000,
): Promise<RunBody> {
  return waitFor(
    `run ${runId} to reach ${statuses.join('/')}`,
    async () => {
      const run = await getRun(hub, runId);
      return statuses.includes(run.status) ? run : undefined;
    },
    timeoutMs,
  );
}

export async function eventsOf(
  hub: ApiClient,
  runId: string,
): Promise<
  { id: number; type: string; stepKey?: string; message: string; data?: Record<string, unknown> }[]
> {
  const res = await hub.inject({
    method: 'GET',
    url: `/orchestrator/runs/${runId}/events?limit=1000`,
  });
  expect(res.statusCode).toBe(200);
  return res.json<{ resources: [] }>().resources;
}
