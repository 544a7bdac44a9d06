import { describe, expect, it } from 'vitest';

import { executeInProcess, type RunRequest, type SensorContext } from '../orchestrator/core/index.js';
import {
  applyChangesheet,
  CHANGESHEETS,
  claimAndRunApplyChangesheetJobs,
  type Changesheets,
} from './changesheets.js';
import type { OperationFailure } from './claimed-work.js';
import { siteRepository } from './repository.js';

function fakePort(failures: { load?: Error; apply?: Error } = {}) {
  const finished: Array<{ operationId: string; outcome: unknown }> = [];
  const applied: Array<[string, string]> = [];
  const port: Changesheets = {
    pendingJobs: () => Promise.resolve([{ jobId: 'sys0job1', objectId: 'sheet1' }]),
    claim: (jobId) => Promise.resolve({ operationId: `op-${jobId}` }),
    load: (objectId) =>
      failures.load ? Promise.reject(failures.load) : Promise.resolve({ object_id: objectId, documents: 2 }),
    apply: (objectId, operationId) => {
      applied.push([objectId, operationId]);
      return failures.apply
        ? Promise.reject(failures.apply)
        : Promise.resolve({ changed_ids: ['nmdc:sty-11-a', 'nmdc:bsm-11-b'], txn_id: 'txn0abc' });
    },
    finish: (operationId, outcome) => {
      finished.push({ operationId, outcome });
      return Promise.resolve();
    },
    describeFailure: (error): OperationFailure => ({ code: 'FAILED', message: (error as Error).message }),
  };
  return { port, finished, applied };
}

const runConfig = {
  ops: {
    get_changesheet_in: { config: { object_id: 'sheet1', operation_id: 'op1' } },
    perform_changesheet_updates: { config: { operation_id: 'op1' } },
  },
};

describe('apply_changesheet', () => {
  it('loads the sheet, applies it and closes the operation with {changed_ids, txn_id}', async () => {
    const { port, finished, applied } = fakePort();
    const result = await executeInProcess(applyChangesheet, { runConfig, host: { [CHANGESHEETS]: port } });
    expect(result.success).toBe(true);
    expect(applied).toEqual([['sheet1', 'op1']]);
    expect(finished).toEqual([
      {
        operationId: 'op1',
        outcome: { result: { changed_ids: ['nmdc:sty-11-a', 'nmdc:bsm-11-b'], txn_id: 'txn0abc' } },
      },
    ]);
  });

  it.each(['load', 'apply'] as const)('reports a failure to %s on the operation', async (step) => {
    const { port, finished } = fakePort({ [step]: new Error(`${step} went wrong`) });
    const result = await executeInProcess(applyChangesheet, { runConfig, host: { [CHANGESHEETS]: port } });
    expect(result.success).toBe(false);
    expect(finished).toEqual([
      { operationId: 'op1', outcome: { error: { code: 'FAILED', message: `${step} went wrong` } } },
    ]);
  });
});

describe('claim_and_run_apply_changesheet_jobs', () => {
  it('requests one run per claim, keyed by the operation id', async () => {
    const { port } = fakePort();
    const context: SensorContext = {
      sensorName: 'claim_and_run_apply_changesheet_jobs',
      cursor: null,
      updateCursor: () => undefined,
      lastRunKey: null,
      lastTickCompletionTime: null,
      resources: { [CHANGESHEETS]: port },
      signal: new AbortController().signal,
      log: { info: () => undefined, warning: () => undefined, error: () => undefined },
    };
    const requests = (await claimAndRunApplyChangesheetJobs.fn(context)) as RunRequest[];
    expect(requests).toEqual([
      expect.objectContaining({
        runKey: 'op-sys0job1',
        runConfig: {
          ops: {
            get_changesheet_in: { config: { object_id: 'sheet1', operation_id: 'op-sys0job1' } },
            perform_changesheet_updates: { config: { operation_id: 'op-sys0job1' } },
          },
        },
      }),
    ]);
  });

  it('is served by the site repository and ticks every 10 s by default', () => {
    expect(siteRepository.jobs.has('apply_changesheet')).toBe(true);
    expect(siteRepository.sensors.get('claim_and_run_apply_changesheet_jobs')).toMatchObject({
      minimumIntervalSeconds: 10,
      defaultStatus: 'RUNNING',
    });
  });
});
