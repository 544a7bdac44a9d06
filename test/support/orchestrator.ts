import { fileURLToPath } from 'node:url';

import { expect } from 'vitest';

import type { TestHub } from './harness.js';

export const FIXTURES = fileURLToPath(new URL('./orchestrator-fixtures.ts', import.meta.url));

/** Short intervals so the daemon reacts within a test's patience. */
export const FAST_ORCHESTRATOR_ENV: Record<string, string> = {
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

export async function getRun(
  hub: TestHub,
  runId: string,
  headers: Record<string, string> = {},
): Promise<RunBody> {
  const res = await hub.inject({ method: 'GET', url: `/orchestrator/runs/${runId}`, headers });
  expect(res.statusCode).toBe(200);
  return res.json<RunBody>();
}

export function waitForStatus(
  hub: TestHub,
  runId: string,
  statuses: readonly string[],
  timeoutMs = 15_000,
  headers: Record<string, string> = {},
): Promise<RunBody> {
  return waitFor(
    `run ${runId} to reach ${statuses.join('/')}`,
    async () => {
      const run = await getRun(hub, runId, headers);
      return statuses.includes(run.status) ? run : undefined;
    },
    timeoutMs,
  );
}

export async function eventsOf(
  hub: TestHub,
  runId: string,
  headers: Record<string, string> = {},
): Promise<
  { id: number; type: string; stepKey?: string; message: string; data?: Record<string, unknown> }[]
> {
  const res = await hub.inject({
    method: 'GET',
    url: `/orchestrator/runs/${runId}/events?limit=1000`,
    headers,
  });
  expect(res.statusCode).toBe(200);
  return res.json<{ resources: [] }>().resources;
}
