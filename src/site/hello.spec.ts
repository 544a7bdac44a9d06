import { describe, expect, it } from 'vitest';

import { executeInProcess } from '../orchestrator/core/index.js';
import { hello } from './hello.js';
import { housekeeping, MAINTENANCE, type OrchestratorMaintenance } from './housekeeping.js';
import { siteRepository } from './repository.js';

describe('site definitions', () => {
  it('hello sums the even and the odd numbers of 1..10 to 55', async () => {
    const result = await executeInProcess(hello);
    expect(result.success).toBe(true);
    expect(result.output('sum_even_numbers')).toBe(30);
    expect(result.output('sum_odd_numbers')).toBe(25);
    expect(result.output('sum_two_sums')).toBe(55);
    expect(result.events.filter((e) => e.type === 'STEP_SUCCESS')).toHaveLength(6);
  });

  it('hello takes its upper bound from run config', async () => {
    const result = await executeInProcess(hello, {
      runConfig: { ops: { generate_numbers: { config: { upTo: 4 } } } },
    });
    expect(result.output('sum_two_sums')).toBe(10);
  });

  it('housekeeping asks its storage to drop old ticks and events, and the blob store to sweep leftovers', async () => {
    const cutoffs: Record<string, Date> = {};
    const maintenance: OrchestratorMaintenance = {
      eventRetentionDays: 30,
      deleteSkippedTicksBefore: (cutoff) => {
        cutoffs.ticks = cutoff;
        return Promise.resolve(2);
      },
      deleteRunEventsBefore: (cutoff) => {
        cutoffs.events = cutoff;
        return Promise.resolve(5);
      },
      operationRetentionDays: 14,
      deleteFinishedOperationsBefore: (cutoff) => {
        cutoffs.operations = cutoff;
        return Promise.resolve(3);
      },
      sweepAuthAndClaimLeftovers: () => Promise.resolve({ revokedTokens: 1, claimSlots: 4 }),
      sweepBlobLeftovers: (cutoff) => {
        cutoffs.blobs = cutoff;
        return Promise.resolve({ removed: 6, abortedUploads: 1 });
      },
    };
    const result = await executeInProcess(housekeeping, { host: { [MAINTENANCE]: maintenance } });
    expect(result.success).toBe(true);
    expect(result.output('drop_skipped_ticks')).toBe(2);
    expect(result.output('drop_old_run_events')).toBe(5);
    expect(result.output('drop_finished_operations')).toBe(3);
    expect(result.output('sweep_revocations_and_claim_slots')).toEqual({ revokedTokens: 1, claimSlots: 4 });
    expect(result.output('sweep_blob_leftovers')).toEqual({ removed: 6, abortedUploads: 1 });
    const days = (date: Date | undefined): number =>
      Math.round((Date.now() - (date?.getTime() ?? 0)) / 86_400_000);
    expect(days(cutoffs.ticks)).toBe(7);
    expect(days(cutoffs.events)).toBe(30);
    expect(days(cutoffs.operations)).toBe(14);
    expect(days(cutoffs.blobs)).toBe(1);
  });

  it('registers a weekly housekeeping schedule, running by default', () => {
    expect(siteRepository.schedules.get('housekeeping_weekly')).toMatchObject({
      cron: '0 3 * * 0',
      defaultStatus: 'RUNNING',
    });
    expect([...siteRepository.jobs.keys()].sort()).toEqual([
      'apply_changesheet',
      'apply_metadata_in',
      'ensure_jobs',
      'expire_claims',
      'export_metadata',
      'hello',
      'housekeeping',
      'import_metadata',
    ]);
    expect(siteRepository.sensors.get('expire_stale_claims')).toMatchObject({
      minimumIntervalSeconds: 60,
      defaultStatus: 'RUNNING',
    });
  });
});
