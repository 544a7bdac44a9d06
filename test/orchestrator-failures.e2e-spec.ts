import { gzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, bearer, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { BINARY_ERROR } from './support/orchestrator-fixtures.js';
import {
  adminClient,
  eventsOf,
  FAST_ORCHESTRATOR_ENV,
  getRun,
  waitFor,
  waitForStatus,
  type ApiClient,
} from './support/orchestrator.js';

/** What PostgreSQL stores for {@link BINARY_ERROR}: NUL escaped, the lone surrogate replaced. */
const STORED_BINARY_ERROR = BINARY_ERROR.replace('\u0000', '\\u0000').replace('\ud800', '\ufffd');

/**
 * A failing run always ends FAILURE with its own error, whatever bytes that error quotes: the writes
 * that record it must not fail in turn and leave the run STARTED for the monitor to retry.
 */
describe('failures are always recorded', () => {
  let hub: TestHub;
  let api: ApiClient;
  let admin: string;

  beforeAll(async () => {
    hub = await startTestHub({
      env: {
        ...FAST_ORCHESTRATOR_ENV,
        ORCH_SENSOR_INTERVALS: JSON.stringify({
          process_workflow_job_triggers: 0.5,
          claim_and_run_metadata_in_jobs: 0.5,
        }),
      },
    });
    api = await adminClient(hub);
    admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
  });
  afterAll(async () => {
    await hub?.close();
  });

  async function launch(job: string): Promise<string> {
    const res = await api.inject({ method: 'POST', url: `/orchestrator/jobs/${job}/runs`, payload: {} });
    expect(res.statusCode).toBe(201);
    return res.json<{ runId: string }>().runId;
  }

  it('an op whose error holds NUL and a lone surrogate fails the run with that error, never resumed', async () => {
    const runId = await launch('binary_failure_job');
    const run = await waitForStatus(api, runId, ['FAILURE', 'SUCCESS'], 20_000);
    expect(run).toMatchObject({ status: 'FAILURE', failureReason: 'STEP_FAILURE', resumeAttempts: 0 });
    const events = await eventsOf(api, runId);
    const failure = events.find((e) => e.type === 'RUN_FAILURE');
    expect(failure?.message).toContain(STORED_BINARY_ERROR);
    const stepFailure = events.find((e) => e.type === 'STEP_FAILURE');
    expect(stepFailure?.data?.error).toMatchObject({ message: STORED_BINARY_ERROR });
    expect(events.filter((e) => e.type === 'ENGINE_EVENT' && /heartbeat|Resuming/.test(e.message))).toEqual(
      [],
    );
    // Still FAILURE after several monitor sweeps (300 ms apart here): nothing retries it.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await getRun(api, runId)).toMatchObject({ status: 'FAILURE', resumeAttempts: 0 });
  });

  it('a very long error is capped in the event message and kept whole in the event data', async () => {
    const runId = await launch('long_failure_job');
    expect((await waitForStatus(api, runId, ['FAILURE', 'SUCCESS'], 20_000)).status).toBe('FAILURE');
    const failure = (await eventsOf(api, runId)).find((e) => e.type === 'RUN_FAILURE');
    expect(failure!.message.length).toBeLessThan(4200);
    expect(failure!.message).toMatch(/more characters\)$/);
    const full = String(failure!.data?.fullMessage);
    expect(full).toContain(`long failure ${'x'.repeat(20_000)} end`);
  });

  it('a gzip registered as metadata-in (the README example) fails its job and its run with the real error', async () => {
    const gz = gzipSync(Buffer.from('{"study_set": []}\n{"biosample_set": []}\n'));
    const boundary = 'XyZgz';
    const payload = Buffer.concat([
      Buffer.from(
        [
          `--${boundary}`,
          'Content-Disposition: form-data; name="types"',
          '',
          'metadata-in',
          `--${boundary}`,
          'Content-Disposition: form-data; name="file"; filename="export.jsonl.gz"',
          'Content-Type: application/gzip',
          '',
          '',
        ].join('\r\n'),
      ),
      gz,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const upload = await hub.inject({
      method: 'POST',
      url: '/objects:upload',
      headers: { ...bearer(admin), 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    expect(upload.statusCode, upload.body).toBe(201);
    const objectId = upload.json<{ id: string }>().id;

    const run = await waitFor(
      `the apply_metadata_in run for ${objectId} to finish`,
      async () => {
        const res = await api.inject({
          method: 'GET',
          url: `/orchestrator/runs?job=apply_metadata_in&tag=object_id=${objectId}`,
        });
        const found = res.json<{ resources: { runId: string; status: string }[] }>().resources[0];
        return found && ['SUCCESS', 'FAILURE'].includes(found.status) ? found : undefined;
      },
      40_000,
      250,
    );
    expect(run.status).toBe('FAILURE');
    const full = await getRun(api, run.runId);
    expect(full).toMatchObject({ resumeAttempts: 0, failureReason: 'STEP_FAILURE' });
    const failure = (await eventsOf(api, run.runId)).find((e) => e.type === 'RUN_FAILURE');
    expect(failure?.message).toMatch(new RegExp(`Object ${objectId} is not JSON`));

    const operation = await waitFor(
      'the claim operation to close with the error',
      async () => {
        const tags = full.tags as Record<string, string>;
        const res = await hub.inject({
          method: 'GET',
          url: `/operations/${tags.operation_id}`,
          headers: bearer(admin),
        });
        const op = res.json<{ done: boolean; error?: { message: string } }>();
        return op.done ? op : undefined;
      },
      10_000,
    );
    expect(operation.error?.message).toMatch(new RegExp(`Object ${objectId} is not JSON`));
  }, 60_000);
});
