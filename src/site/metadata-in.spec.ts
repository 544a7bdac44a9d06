import { describe, expect, it } from 'vitest';

import { executeInProcess, RunRequest, SkipReason, type SensorContext } from '../orchestrator/core/index.js';
import { applyMetadataIn, claimAndRunMetadataInJobs, METADATA_IN, type MetadataIn } from './metadata-in.js';
import type { OperationFailure } from './claimed-work.js';
import { siteRepository } from './repository.js';

/** A port that records what the job does, failing where told to. */
function fakePort(failures: { check?: Error; apply?: Error; claim?: Set<string> } = {}) {
  const finished: Array<{ operationId: string; outcome: unknown }> = [];
  const port: MetadataIn = {
    pendingJobs: () =>
      Promise.resolve([
        { jobId: 'sys0job1', objectId: 'obj1' },
        { jobId: 'sys0job2', objectId: 'obj2' },
      ]),
    claim: (jobId) =>
      failures.claim?.has(jobId)
        ? Promise.reject(new Error(`${jobId} is claimed by another site`))
        : Promise.resolve({ operationId: `op-${jobId}` }),
    check: () => (failures.check ? Promise.reject(failures.check) : Promise.resolve({ study_set: 2 })),
    apply: () =>
      failures.apply
        ? Promise.reject(failures.apply)
        : Promise.resolve({ study_set: { inserted: 2, unchanged: 0 } }),
    finish: (operationId, outcome) => {
      finished.push({ operationId, outcome });
      return Promise.resolve();
    },
    describeFailure: (error): OperationFailure => ({ code: 'FAILED', message: (error as Error).message }),
  };
  return { port, finished };
}

const runConfig = {
  ops: {
    get_json_in: { config: { object_id: 'obj1', operation_id: 'op1' } },
    perform_mongo_updates: { config: { operation_id: 'op1' } },
  },
};

describe('apply_metadata_in', () => {
  it('checks, applies and closes the operation with the counts', async () => {
    const { port, finished } = fakePort();
    const result = await executeInProcess(applyMetadataIn, { runConfig, host: { [METADATA_IN]: port } });
    expect(result.success).toBe(true);
    expect(result.output('get_json_in')).toEqual({ object_id: 'obj1', counts: { study_set: 2 } });
    expect(finished).toEqual([
      {
        operationId: 'op1',
        outcome: { result: { object_id: 'obj1', collections: { study_set: { inserted: 2, unchanged: 0 } } } },
      },
    ]);
    expect(result.events.some((e) => e.type === 'ASSET_MATERIALIZATION')).toBe(true);
  });

  it.each(['check', 'apply'] as const)(
    'reports a failure to %s on the operation and fails the run',
    async (step) => {
      const { port, finished } = fakePort({ [step]: new Error(`${step} went wrong`) });
      const result = await executeInProcess(applyMetadataIn, {
        runConfig,
        host: { [METADATA_IN]: port },
      });
      expect(result.success).toBe(false);
      expect(finished).toEqual([
        { operationId: 'op1', outcome: { error: { code: 'FAILED', message: `${step} went wrong` } } },
      ]);
    },
  );

  it('needs the object and operation ids in its run config', async () => {
    const { port } = fakePort();
    await expect(executeInProcess(applyMetadataIn, { host: { [METADATA_IN]: port } })).rejects.toThrow(
      /operation_id/,
    );
  });
});

describe('claim_and_run_metadata_in_jobs', () => {
  const context = (port: MetadataIn, warnings: string[]): SensorContext => ({
    sensorName: 'claim_and_run_metadata_in_jobs',
    cursor: null,
    updateCursor: () => undefined,
    lastRunKey: null,
    lastTickCompletionTime: null,
    resources: { [METADATA_IN]: port },
    signal: new AbortController().signal,
    log: { info: () => undefined, warning: (m) => warnings.push(m), error: () => undefined },
  });

  it('claims each pending job and requests one run per claim, keyed by its operation', async () => {
    const { port } = fakePort({ claim: new Set(['sys0job2']) });
    const warnings: string[] = [];
    const requests = (await claimAndRunMetadataInJobs.fn(context(port, warnings))) as RunRequest[];
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      runKey: 'op-sys0job1',
      runConfig: {
        ops: {
          get_json_in: { config: { object_id: 'obj1', operation_id: 'op-sys0job1' } },
          perform_mongo_updates: { config: { operation_id: 'op-sys0job1' } },
        },
      },
      tags: { job_id: 'sys0job1', object_id: 'obj1', operation_id: 'op-sys0job1' },
    });
    expect(warnings).toEqual(['could not claim job sys0job2: sys0job2 is claimed by another site']);
  });

  it('skips when there is nothing to claim', async () => {
    const { port } = fakePort();
    const result = await claimAndRunMetadataInJobs.fn(
      context({ ...port, pendingJobs: () => Promise.resolve([]) }, []),
    );
    expect(result).toBeInstanceOf(SkipReason);
  });
});

describe('the site repository', () => {
  it('serves apply_metadata_in and runs its claim sensor by default', () => {
    expect(siteRepository.jobs.has('apply_metadata_in')).toBe(true);
    expect(siteRepository.sensors.get('claim_and_run_metadata_in_jobs')).toMatchObject({
      minimumIntervalSeconds: 10,
      defaultStatus: 'RUNNING',
    });
  });
});
