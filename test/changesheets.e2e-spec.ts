import { readFile } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MongoService } from '../src/infra/mongo/mongo.service.js';
import { DocumentLocksRepository } from '../src/metadata/document-locks.repository.js';
import { ADMIN, bearer, createUser, grantAllowance, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { biosample, nmdcId, seed, study } from './support/metadata.js';
import { FAST_ORCHESTRATOR_ENV, waitFor } from './support/orchestrator.js';

const SENSORS = ['claim_and_run_apply_changesheet_jobs', 'process_workflow_job_triggers'];
const S1 = nmdcId('sty', 1);
const B1 = nmdcId('bsm', 1);

interface Status {
  object_id: string;
  status: 'pending' | 'applied' | 'failed' | 'reverted';
  submitted_by: string;
  job: { id: string; status: string } | null;
  operation: {
    id: string;
    done: boolean;
    result?: unknown;
    error?: { code: string; message: string };
  } | null;
  run: { run_id: string; status: string } | null;
  txn_id?: string;
  changed_ids?: string[];
  error?: { code: string; message: string; details?: unknown };
  changes: { id: string; collection: string; patch: unknown[]; rows: number[] }[];
  attempts?: { submitted_by: string; error?: { code: string } }[];
}

// Documents as the API answers them; tests read nested fields without declaring each shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

const tsv = (...rows: string[]): string => `${['id\taction\tattribute\tvalue', ...rows].join('\n')}\n`;

describe('changesheets over HTTP, applied by the orchestrator', () => {
  let hub: TestHub;
  let admin: string;
  let curator: string;
  let reader: string;

  const post = (url: string, token: string | undefined, body: string, type = 'text/tab-separated-values') =>
    hub.inject({
      method: 'POST',
      url,
      headers: { ...(token ? bearer(token) : {}), 'content-type': type },
      payload: body,
    });
  const doc = async (id: string) => (await hub.inject({ method: 'GET', url: `/metadata/ids/${id}` })).json();
  const status = async (objectId: string): Promise<Status> =>
    (
      await hub.inject({ method: 'GET', url: `/metadata/changesheets/${objectId}`, headers: bearer(curator) })
    ).json();
  const settled = (objectId: string): Promise<Status> =>
    waitFor(
      `changesheet ${objectId} to settle`,
      async () => {
        const s = await status(objectId);
        // The operation is finished by the run's last step, so the run itself ends a moment later.
        const runEnded = s.run !== null && ['SUCCESS', 'FAILURE', 'CANCELED'].includes(s.run.status);
        return s.status !== 'pending' && s.operation?.done && runEnded ? s : undefined;
      },
      60_000,
      200,
    );
  const setSensors = async (state: 'start' | 'stop'): Promise<void> => {
    for (const sensor of SENSORS) {
      const res = await hub.inject({
        method: 'POST',
        url: `/orchestrator/sensors/${sensor}:${state}`,
        headers: bearer(admin),
      });
      expect(res.statusCode).toBe(200);
    }
  };
  const submit = async (sheet: string): Promise<string> => {
    const res = await post('/metadata/changesheets:submit', curator, sheet);
    expect(res.statusCode, res.body).toBe(202);
    return res.json<{ object: { id: string } }>().object.id;
  };

  beforeAll(async () => {
    const { ORCH_CODE_LOCATIONS: _fixtures, ...env } = FAST_ORCHESTRATOR_ENV;
    hub = await startTestHub({
      env: {
        ...env,
        ORCH_SENSOR_INTERVALS: JSON.stringify(Object.fromEntries(SENSORS.map((s) => [s, 0.3]))),
      },
    });
    admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    curator = (await createUser(hub, admin, 'curator')).token;
    reader = (await createUser(hub, admin, 'reader')).token;
    await grantAllowance(hub, admin, 'curator', 'changesheets:submit');
    await seed(hub, {
      study_set: [study(1), study(2), study(3), study(4)],
      biosample_set: [biosample(1, S1), biosample(2, S1)],
    });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('validates the example sheet as a dry run: before, after and an RFC 6902 patch per document', async () => {
    const sheet = await readFile(new URL('../examples/changesheet.tsv', import.meta.url), 'utf8');
    const res = await hub.inject({
      method: 'POST',
      url: '/metadata/changesheets:validate',
      headers: { ...bearer(reader), 'content-type': 'multipart/form-data; boundary=XyZ' },
      payload: [
        '--XyZ',
        'Content-Disposition: form-data; name="uploaded_file"; filename="changesheet.tsv"',
        'Content-Type: text/tab-separated-values',
        '',
        sheet,
        '--XyZ--',
        '',
      ].join('\r\n'),
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{
      valid: true;
      changes: { id: string; collection: string; before: Doc; after: Doc; patch: unknown[] }[];
    }>();
    expect(body.valid).toBe(true);
    expect(body.changes.map((c) => [c.id, c.collection])).toEqual([
      [S1, 'study_set'],
      [B1, 'biosample_set'],
    ]);
    const [studyChange, sampleChange] = body.changes;
    expect(studyChange!.before).toEqual(study(1));
    expect(studyChange!.after).toMatchObject({
      name: 'Prairie soil microbiome, revised',
      websites: ['https://prairie.example.org', 'https://lab.example.org/prairie'],
      principal_investigator: {
        type: 'nmdc:PersonValue',
        name: 'Ada Curie',
        orcid: 'orcid:0000-0002-1825-0097',
      },
      has_credit_associations: [
        {
          type: 'prov:Association',
          applied_roles: ['Investigation', 'Methodology'],
          applies_to_person: { type: 'nmdc:PersonValue', name: 'Grace Lovelace' },
        },
      ],
    });
    expect(sampleChange!.after.depth.has_numeric_value).toBe(0.25);
    expect(sampleChange!.after.ph).toBe(6.8);
    expect(sampleChange!.after.description).toBeUndefined();
    expect(sampleChange!.patch).toContainEqual({ op: 'remove', path: '/description' });
    // A dry run: nothing changed.
    expect(await doc(S1)).toEqual(study(1));
  });

  it('answers 422 listing every bad row, and 400 for what is not a sheet', async () => {
    const res = await post(
      '/metadata/changesheets:validate',
      reader,
      tsv(
        `${S1}\tfrobnicate\tname\tX`,
        `${S1}\tupdate\tno_such_slot\tX`,
        `${B1}\tupdate\tph\tacidic`,
        `${nmdcId('sty', 999)}\tupdate\tname\tX`,
      ),
    );
    expect(res.statusCode, res.body).toBe(422);
    const body = res.json<{
      valid: boolean;
      errors: { row?: number; id?: string; path: string; message: string }[];
    }>();
    expect(body.valid).toBe(false);
    expect(body.errors.map((e) => e.row)).toEqual([2, 3, 4, 5]);
    expect(body.errors[1]).toMatchObject({ id: S1, path: 'attribute' });
    expect(body.errors[2]!.message).toMatch(/acidic/);
    expect(body.errors[3]!.message).toMatch(/no document has the id/);

    const notSheet = await post('/metadata/changesheets:validate', reader, 'name,colour\nx,y\n', 'text/csv');
    expect(notSheet.statusCode).toBe(400);
    expect(notSheet.json()).toMatchObject({ valid: false, code: 'changesheet_unreadable' });
    const binary = await post('/metadata/changesheets:validate', reader, '\u0000\u0001\u0002', 'text/csv');
    expect(binary.statusCode).toBe(400);
    const json = await hub.inject({
      method: 'POST',
      url: '/metadata/changesheets:validate',
      headers: bearer(reader),
      payload: { id: 'x' },
    });
    expect(json.statusCode).toBe(400);
    expect(json.json().detail).toMatch(/multipart\/form-data/);
    expect(
      (await post('/metadata/changesheets:validate', undefined, tsv(`${S1}\tupdate\tname\tX`))).statusCode,
    ).toBe(401);
  });

  it('submit needs changesheets:submit and stores nothing for an invalid sheet', async () => {
    expect(
      (await post('/metadata/changesheets:submit', reader, tsv(`${S1}\tupdate\tname\tX`))).statusCode,
    ).toBe(403);
    const objects = async () =>
      (await hub.inject({ method: 'GET', url: '/objects', headers: bearer(admin) })).json().resources.length;
    const before = await objects();
    expect(
      (await post('/metadata/changesheets:submit', curator, tsv(`${S1}\tupdate\tnope\tX`))).statusCode,
    ).toBe(422);
    expect(await objects()).toBe(before);
  });

  it('runs the whole loop: submit → trigger → claim → apply_changesheet → operation → documents', async () => {
    const sheet = await readFile(new URL('../examples/changesheet.tsv', import.meta.url));
    const res = await hub.inject({
      method: 'POST',
      url: '/metadata/changesheets:submit',
      headers: { ...bearer(curator), 'content-type': 'text/tab-separated-values' },
      payload: sheet,
    });
    expect(res.statusCode, res.body).toBe(202);
    const accepted = res.json<{
      object: { id: string; types: string[]; description: string };
      status_url: string;
    }>();
    expect(accepted.object.types).toEqual(['metadata-changesheet']);
    expect(accepted.object.description).toMatch(/user:curator/);
    expect(accepted.status_url).toMatch(new RegExp(`/metadata/changesheets/${accepted.object.id}$`));

    const done = await settled(accepted.object.id);
    expect(done.status, JSON.stringify(done.error)).toBe('applied');
    expect(done.submitted_by).toBe('user:curator');
    expect(done.job).toMatchObject({ status: 'done' });
    expect(done.operation?.result).toEqual({ changed_ids: [S1, B1], txn_id: done.txn_id });
    expect(done.run).toMatchObject({ status: 'SUCCESS' });
    expect(done.changes.map((c) => c.id)).toEqual([S1, B1]);
    const applied = await doc(S1);
    expect(applied.name).toBe('Prairie soil microbiome, revised');
    expect(applied.principal_investigator.name).toBe('Ada Curie');
    expect((await doc(B1)).ph).toBe(6.8);

    // Applied, the same sheet changes nothing any more.
    const resubmit = () =>
      hub.inject({
        method: 'POST',
        url: '/metadata/changesheets:submit',
        headers: { ...bearer(curator), 'content-type': 'text/tab-separated-values' },
        payload: sheet,
      });
    const noop = await resubmit();
    expect(noop.statusCode).toBe(422);
    expect(noop.json().errors[0].message).toMatch(/changes nothing/);

    // Revert restores both documents exactly.
    const reverted = await hub.inject({
      method: 'POST',
      url: `/metadata/changesheets/${accepted.object.id}:revert`,
      headers: bearer(curator),
    });
    expect(reverted.statusCode, reverted.body).toBe(200);
    expect(reverted.json()).toMatchObject({ status: 'reverted' });
    expect(await doc(S1)).toEqual(study(1));
    expect(await doc(B1)).toEqual(biosample(1, S1));
    const twice = await hub.inject({
      method: 'POST',
      url: `/metadata/changesheets/${accepted.object.id}:revert`,
      headers: bearer(curator),
    });
    expect(twice.statusCode).toBe(409);
    // Reverted, the same bytes lead back to the same object, whose job has run: change the sheet instead.
    const again = await resubmit();
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({
      code: 'changesheet_already_submitted',
      object_id: accepted.object.id,
    });
  }, 90_000);

  it('fails with a conflict naming the ids, writing nothing, when a document changed between submit and apply', async () => {
    await setSensors('stop');
    let objectId: string;
    try {
      objectId = await submit(
        tsv(`${nmdcId('sty', 2)}\tupdate\tname\tRenamed`, `${nmdcId('sty', 3)}\tupdate\tname\tRenamed too`),
      );
      const edit = await hub.inject({
        method: 'POST',
        url: '/queries:run',
        headers: bearer(admin),
        payload: {
          update: 'study_set',
          updates: [{ q: { id: nmdcId('sty', 3) }, u: { $set: { description: 'edited meanwhile' } } }],
        },
      });
      expect(edit.statusCode, edit.body).toBe(200);
      expect((await status(objectId)).status).toBe('pending');
    } finally {
      await setSensors('start');
    }
    const failed = await settled(objectId);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'changesheet_conflict' });
    expect(failed.error!.message).toContain(nmdcId('sty', 3));
    expect(failed.operation?.error).toMatchObject({ code: 'changesheet_conflict' });
    expect(failed.job).toMatchObject({ status: 'failed' });
    expect(await doc(nmdcId('sty', 2))).toEqual(study(2));
    expect((await doc(nmdcId('sty', 3))).name).toBe('Study 3');

    // Having seen the conflict, the curator sends the same sheet again: it starts over from the documents
    // as they are now, keeping the failed attempt on record, and its job is claimed again.
    expect(
      await submit(
        tsv(`${nmdcId('sty', 2)}\tupdate\tname\tRenamed`, `${nmdcId('sty', 3)}\tupdate\tname\tRenamed too`),
      ),
    ).toBe(objectId);
    const retried = await settled(objectId);
    expect(retried.status, JSON.stringify(retried.error)).toBe('applied');
    expect(retried.error).toBeUndefined();
    expect(retried.attempts).toEqual([
      expect.objectContaining({
        submitted_by: 'user:curator',
        error: expect.objectContaining({ code: 'changesheet_conflict' }),
      }),
    ]);
    expect(retried.job).toMatchObject({ status: 'done' });
    expect(retried.operation?.id).not.toBe(failed.operation?.id);
    expect((await doc(nmdcId('sty', 2))).name).toBe('Renamed');
    expect(await doc(nmdcId('sty', 3))).toMatchObject({
      name: 'Renamed too',
      description: 'edited meanwhile',
    });
  }, 90_000);

  it('refuses to revert when a document changed after the sheet was applied, writing nothing', async () => {
    const objectId = await submit(tsv(`${nmdcId('sty', 4)}\tupdate\tname\tFour`, `${B1}\tupdate\tph\t5.5`));
    expect((await settled(objectId)).status).toBe('applied');
    await hub.inject({
      method: 'POST',
      url: '/queries:run',
      headers: bearer(admin),
      payload: { update: 'biosample_set', updates: [{ q: { id: B1 }, u: { $set: { ph: 7.1 } } }] },
    });
    const res = await hub.inject({
      method: 'POST',
      url: `/metadata/changesheets/${objectId}:revert`,
      headers: bearer(curator),
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'changesheet_conflict', ids: [B1] });
    expect((await doc(nmdcId('sty', 4))).name).toBe('Four');
    expect((await status(objectId)).status).toBe('applied');
  }, 90_000);

  it('answers 200 fuzzed inputs (random bytes, shuffled rows, truncated files) with 400 or 422, never 500', async () => {
    const sheet = await readFile(new URL('../examples/changesheet.tsv', import.meta.url));
    let seedValue = 20261121;
    const random = (): number => {
      // A fixed-seed LCG, so a failing input can be reproduced.
      seedValue = (seedValue * 1103515245 + 12345) % 2 ** 31;
      return seedValue / 2 ** 31;
    };
    const lines = sheet.toString('utf8').trimEnd().split('\n');
    const inputs: { body: Buffer; type: string }[] = [];
    for (let i = 0; i < 200; i++) {
      const kind = i % 4;
      let body: Buffer;
      if (kind === 0) {
        body = Buffer.from(
          Array.from({ length: 1 + Math.floor(random() * 400) }, () => Math.floor(random() * 256)),
        );
      } else if (kind === 1) {
        const rows = lines.slice(1).sort(() => random() - 0.5);
        body = Buffer.from([lines[0], ...rows].join('\n'));
      } else if (kind === 2) {
        body = sheet.subarray(0, Math.floor(random() * sheet.length));
      } else {
        const chars = [...sheet.toString('utf8')];
        for (let k = 0; k < 5; k++) {
          chars[Math.floor(random() * chars.length)] = String.fromCharCode(Math.floor(random() * 128));
        }
        body = Buffer.from(chars.join(''));
      }
      inputs.push({ body, type: random() < 0.5 ? 'text/tab-separated-values' : 'text/csv' });
    }
    const statuses = new Map<number, number>();
    for (const input of inputs) {
      const res = await hub.inject({
        method: 'POST',
        url: '/metadata/changesheets:validate',
        headers: { ...bearer(reader), 'content-type': input.type },
        payload: input.body,
      });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500 || (res.statusCode === 200 && input.body.length === 0)) {
        throw new Error(
          `input ${JSON.stringify(input.body.toString('latin1'))} answered ${res.statusCode}: ${res.body}`,
        );
      }
      if (res.statusCode !== 200) {
        expect([400, 422]).toContain(res.statusCode);
        expect(res.json().valid).toBe(false);
      }
    }
    expect(statuses.get(400)).toBeGreaterThan(0);
    expect(statuses.get(422)).toBeGreaterThan(0);
  }, 60_000);

  it('applies and reverts a sheet over 150 documents (bulk writes beyond one store command)', async () => {
    const many = Array.from({ length: 150 }, (_, i) => study(1000 + i));
    await seed(hub, { study_set: many });
    const objectId = await submit(
      tsv(...many.map((s, i) => `${String(s.id)}\tupdate\tdescription\tBulk edit ${i}`)),
    );
    const applied = await settled(objectId);
    expect(applied.status, JSON.stringify(applied.error)).toBe('applied');
    expect(applied.changed_ids).toHaveLength(150);
    expect((await doc(nmdcId('sty', 1149))).description).toBe('Bulk edit 149');
    const reverted = await hub.inject({
      method: 'POST',
      url: `/metadata/changesheets/${objectId}:revert`,
      headers: bearer(curator),
    });
    expect(reverted.statusCode, reverted.body).toBe(200);
    expect(await doc(nmdcId('sty', 1149))).toEqual(study(1149));
  }, 90_000);

  it('applies a sheet registered through the DRS API, and reading its status before then writes nothing', async () => {
    const B2 = nmdcId('bsm', 2);
    const submissions = hub.app.get(MongoService).db.collection('changesheet_submissions');
    await setSensors('stop');
    let objectId: string;
    try {
      const upload = await hub.inject({
        method: 'POST',
        url: '/objects:upload',
        headers: { ...bearer(admin), 'content-type': 'multipart/form-data; boundary=XyZ' },
        payload: [
          '--XyZ',
          'Content-Disposition: form-data; name="types"',
          '',
          'metadata-changesheet',
          '--XyZ',
          'Content-Disposition: form-data; name="file"; filename="sheet.tsv"',
          'Content-Type: text/tab-separated-values',
          '',
          tsv(`${B2}\tupdate\tph\t4.2`),
          '--XyZ--',
          '',
        ].join('\r\n'),
      });
      expect(upload.statusCode, upload.body).toBe(201);
      objectId = upload.json<{ id: string }>().id;
      const pending = await status(objectId);
      expect(pending).toMatchObject({ status: 'pending', submitted_by: 'user:admin' });
      expect(pending.changes.map((c) => c.id)).toEqual([B2]);
      expect(await submissions.countDocuments({ _id: objectId as never })).toBe(0);
    } finally {
      await setSensors('start');
    }
    const applied = await settled(objectId);
    expect(applied.status, JSON.stringify(applied.error)).toBe('applied');
    expect((await doc(B2)).ph).toBe(4.2);
    expect(await submissions.countDocuments({ _id: objectId as never })).toBe(1);
  }, 90_000);

  it('shares document locks with queries:run: a held lock refuses both writers, an expired one is taken over', async () => {
    const locks = hub.app.get(DocumentLocksRepository);
    const target = study(2000);
    await seed(hub, { study_set: [target] });
    const held = await locks.acquire(
      [DocumentLocksRepository.key('study_set', String(target.id))],
      'test-writer',
      60_000,
    );
    expect(held).toEqual([]);
    try {
      const query = await hub.inject({
        method: 'POST',
        url: '/queries:run',
        headers: bearer(admin),
        payload: { update: 'study_set', updates: [{ q: { id: target.id }, u: { $set: { title: 'T' } } }] },
      });
      expect(query.statusCode, query.body).toBe(409);
      expect(query.json()).toMatchObject({ code: 'documents_locked' });
      const objectId = await submit(tsv(`${String(target.id)}\tupdate\tname\tLocked out`));
      const failed = await settled(objectId);
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatchObject({ code: 'changesheet_conflict' });
      expect(failed.error!.message).toMatch(/being changed by another writer/);
      expect(await doc(String(target.id))).toEqual(target);
    } finally {
      await locks.release('test-writer');
    }
    // A lock its writer left behind expires and is taken over.
    expect(
      await locks.acquire([DocumentLocksRepository.key('study_set', String(target.id))], 'dead-writer', 1),
    ).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const query = await hub.inject({
      method: 'POST',
      url: '/queries:run',
      headers: bearer(admin),
      payload: { update: 'study_set', updates: [{ q: { id: target.id }, u: { $set: { title: 'T' } } }] },
    });
    expect(query.statusCode, query.body).toBe(200);
    expect((await doc(String(target.id))).title).toBe('T');
  }, 90_000);

  it('answers 404 for an unknown object and for an object that is not a changesheet', async () => {
    const res = await hub.inject({
      method: 'GET',
      url: '/metadata/changesheets/sys0nothere',
      headers: bearer(reader),
    });
    expect(res.statusCode).toBe(404);
  });
});

describe('changesheet latency at the default sensor intervals (sensors woken by the submission)', () => {
  let hub: TestHub;
  let curator: string;

  beforeAll(async () => {
    // No ORCH_SENSOR_INTERVALS: the trigger sensor ticks every 30 s and the claim sensor every 10 s, so
    // only wake-ups can bring a sheet in within seconds.
    const { ORCH_CODE_LOCATIONS: _fixtures, ...env } = FAST_ORCHESTRATOR_ENV;
    hub = await startTestHub({ env });
    const admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    curator = (await createUser(hub, admin, 'curator')).token;
    await grantAllowance(hub, admin, 'curator', 'changesheets:submit');
    await seed(hub, { study_set: [study(1)], biosample_set: [biosample(1, S1)] });
  });
  afterAll(async () => {
    await hub.close();
  });

  it('applies each submitted sheet within 10 s of its submission', async () => {
    const latencies: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const started = Date.now();
      const res = await hub.inject({
        method: 'POST',
        url: '/metadata/changesheets:submit',
        headers: { ...bearer(curator), 'content-type': 'text/tab-separated-values' },
        payload: tsv(`${B1}\tupdate\tph\t${i}.5`),
      });
      expect(res.statusCode, res.body).toBe(202);
      const objectId = res.json<{ object: { id: string } }>().object.id;
      await waitFor(
        `changesheet ${objectId} to be applied`,
        async () => {
          const s = (
            await hub.inject({
              method: 'GET',
              url: `/metadata/changesheets/${objectId}`,
              headers: bearer(curator),
            })
          ).json<Status>();
          expect(s.status).not.toBe('failed');
          return s.status === 'applied' ? s : undefined;
        },
        20_000,
        50,
      );
      latencies.push(Date.now() - started);
      const stored = (await hub.inject({ method: 'GET', url: `/metadata/ids/${B1}` })).json<Doc>();
      expect(stored.ph).toBe(i + 0.5);
    }
    expect(Math.max(...latencies), `submit → applied latencies: ${latencies.join(', ')} ms`).toBeLessThan(
      10_000,
    );
  }, 90_000);
});
