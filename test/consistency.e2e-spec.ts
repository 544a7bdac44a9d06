import { randomBytes } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ChangesheetsRepository,
  type SubmissionRecord,
} from '../src/changesheets/changesheets.repository.js';
import { ObjectsRepository } from '../src/drs/objects.repository.js';
import { MongoService } from '../src/infra/mongo/mongo.service.js';
import { OperationsRepository } from '../src/operations/operations.repository.js';
import { UsersRepository } from '../src/users/users.repository.js';
import { ADMIN, ADMIN_ENV, bearer, createUser, passwordToken } from './support/auth.js';
import { DRS, registerUrlBlob } from './support/drs.js';
import { startTestHub, type TestHub } from './support/harness.js';

/** Runs `tasks` with at most `threads` in flight at once. */
async function inThreads<T>(threads: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: threads }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await tasks[index]!();
      }
    }),
  );
  return results;
}

/**
 * Concurrent writers of one document, each through the public API or the repository that owns the write:
 * no acknowledged change may vanish, and no two writers may win one decision.
 */
describe('writes under contention (FerretDB)', () => {
  let hub: TestHub;
  let adminToken: string;

  beforeAll(async () => {
    hub = await startTestHub({ env: { ...ADMIN_ENV, TOKEN_RATE_LIMIT: '1000', MONGO_POOL_MAX: '80' } });
    adminToken = await passwordToken(hub, ADMIN.username, ADMIN.password);
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('lists every one of 21 sites a user creates from 8 threads in that user’s site_admin', async () => {
    const owner = await createUser(hub, adminToken, `owner-${randomBytes(3).toString('hex')}`);
    const ids = Array.from({ length: 21 }, (_, i) => `site-${randomBytes(3).toString('hex')}-${i}`);
    const statuses = await inThreads(
      8,
      ids.map((id) => async () => {
        const res = await hub.inject({
          method: 'POST',
          url: '/sites',
          headers: bearer(owner.token),
          payload: { id, capability_ids: [] },
        });
        return res.statusCode;
      }),
    );
    expect(statuses.every((status) => status === 201)).toBe(true);
    const user = await hub.app.get(UsersRepository).findByUsername(owner.username);
    expect([...(user?.site_admin ?? [])].sort()).toEqual([...ids].sort());
  });

  it('keeps both of two concurrent PATCHes of different fields, 20 rounds over', async () => {
    const object = await registerUrlBlob(hub, adminToken);
    for (let round = 0; round < 20; round++) {
      const [mime, description] = await Promise.all([
        hub.inject({
          method: 'PATCH',
          url: `/objects/${object.id}`,
          headers: bearer(adminToken),
          payload: { mime_type: `application/x-round-${round}` },
        }),
        hub.inject({
          method: 'PATCH',
          url: `/objects/${object.id}`,
          headers: bearer(adminToken),
          payload: { description: `round ${round}` },
        }),
      ]);
      const current = (
        await hub.inject({ method: 'GET', url: `${DRS}/objects/${object.id}`, headers: bearer(adminToken) })
      ).json<{ mime_type?: string; description?: string }>();
      for (const [res, kept] of [
        [mime, current.mime_type === `application/x-round-${round}`],
        [description, current.description === `round ${round}`],
      ] as const) {
        // Either the change is kept, or the caller was told it was not.
        expect(res.statusCode === 200 ? kept : res.statusCode === 409, `round ${round}: ${res.body}`).toBe(
          true,
        );
      }
    }
  });

  it('bumps a DRS object’s version once per PATCH and keeps every change of 64 concurrent writers', async () => {
    const object = await registerUrlBlob(hub, adminToken);
    const version = async (): Promise<number> =>
      (await hub.app.get(ObjectsRepository).findById(object.id))!.version;
    const before = await version();
    const patches = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        hub.inject({
          method: 'PATCH',
          url: `/objects/${object.id}`,
          headers: bearer(adminToken),
          payload: i % 2 === 0 ? { description: `writer ${i}` } : { aliases: [`alias-${i}`] },
        }),
      ),
    );
    expect(patches.map((res) => res.statusCode)).toEqual(patches.map(() => 200));
    expect(await version()).toBe(before + 64);

    // The repository's write itself, with a distinct field per writer: all 64 land, version +64 again.
    const objects = hub.app.get(ObjectsRepository);
    await Promise.all(Array.from({ length: 64 }, (_, i) => objects.update(object.id, { [`field_${i}`]: i })));
    const stored = (await objects.findById(object.id)) as unknown as Record<string, unknown>;
    for (let i = 0; i < 64; i++) {
      expect(stored[`field_${i}`]).toBe(i);
    }
    expect(stored.version).toBe(before + 128);
  }, 90_000);

  it('lets exactly one of 16 racing registrations take over a stale checksum claim', async () => {
    const mongo = hub.app.get(MongoService);
    const objects = hub.app.get(ObjectsRepository);
    for (let round = 0; round < 3; round++) {
      const key = `sha-256:${randomBytes(16).toString('hex')}`;
      // Left by a registration that crashed long ago, before inserting its object.
      await mongo
        .collection('object_checksums')
        .insertOne({ key, object_id: 'sys0gone', claimed_at: new Date(Date.now() - 3_600_000) });
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) => objects.claimChecksums([key], `sys0racer${i}`)),
      );
      const winners = results.filter((result) => result.claimed);
      expect(winners).toHaveLength(1);
      const holder = await mongo.collection('object_checksums').findOne({ key });
      const winner = results.findIndex((result) => result.claimed);
      expect(holder?.object_id).toBe(`sys0racer${winner}`);
      for (const loser of results.filter((result) => !result.claimed)) {
        expect(loser).toMatchObject({ claimed: false, holder: `sys0racer${winner}` });
      }
    }
  });

  it('records one attempt when a failed changesheet is resubmitted 64 times at once', async () => {
    const sheets = hub.app.get(ChangesheetsRepository);
    const failedAt = new Date(Date.now() - 60_000);
    const record: SubmissionRecord = {
      _id: `sys0sheet${randomBytes(3).toString('hex')}`,
      submitted_by: 'alice',
      submitted_at: new Date(Date.now() - 120_000),
      format: 'tsv',
      expected: [],
      changes: [],
      status: 'failed',
      failed_at: failedAt,
      error: { code: 'conflict', message: 'the document changed' },
      operation_id: 'op-1',
    };
    expect(await sheets.insertSubmission(record)).toBe(true);
    const resubmitted = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        sheets.resubmitFailed(
          { ...record, status: 'pending', submitted_by: `curator-${i}`, submitted_at: new Date() },
          {
            submitted_by: record.submitted_by,
            submitted_at: record.submitted_at,
            failed_at: failedAt,
            error: record.error,
            operation_id: 'op-1',
          },
        ),
      ),
    );
    expect(resubmitted.filter(Boolean)).toHaveLength(1);
    const stored = await sheets.getSubmission(record._id);
    expect(stored?.status).toBe('pending');
    expect(stored?.attempts).toHaveLength(1);
    expect(stored?.submitted_by).toBe(`curator-${resubmitted.indexOf(true)}`);
    expect(stored?.error).toBeUndefined();
  });

  it('merges the metadata of 64 concurrent operation updates key by key', async () => {
    const operations = hub.app.get(OperationsRepository);
    const id = `op-${randomBytes(4).toString('hex')}`;
    const now = new Date();
    await operations.insert({
      id,
      done: false,
      expire_time: new Date(now.getTime() + 600_000),
      metadata: { job: { id: 'j', workflow: { id: 'w' }, config: {} }, site_id: 's', model: 'job-operation' },
      created_at: now,
      updated_at: now,
    });
    await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        operations.set(id, { [`metadata.key_${i}`]: i, updated_at: new Date() }),
      ),
    );
    const stored = await operations.findById(id);
    for (let i = 0; i < 64; i++) {
      expect(stored?.metadata[`key_${i}`]).toBe(i);
    }
    // Only one of two racing closes wins.
    const closes = await Promise.all(
      Array.from({ length: 16 }, () => operations.setIfOpen(id, { done: true, done_at: new Date() })),
    );
    expect(closes.filter((closed) => closed !== null)).toHaveLength(1);
  }, 90_000);
});
