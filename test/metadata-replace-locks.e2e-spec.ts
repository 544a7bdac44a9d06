import { setTimeout as sleep } from 'node:timers/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DocumentLocksRepository } from '../src/metadata/document-locks.repository.js';
import { MetadataStore } from '../src/metadata/metadata-store.service.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { seed, study } from './support/metadata.js';

/**
 * Writers that replace whole documents (imports, upserts) against the locked check-and-write of
 * changesheets and queries:run: a replace must not land inside another writer's locked window, where
 * that writer's write (checked against what it read before) would silently overwrite it.
 */
describe('whole-document replaces and document locks', () => {
  let hub: TestHub;
  let store: MetadataStore;
  let locks: DocumentLocksRepository;

  beforeAll(async () => {
    hub = await startTestHub();
    store = hub.app.get(MetadataStore);
    locks = hub.app.get(DocumentLocksRepository);
    await seed(hub, { study_set: [study(1)] });
  });
  afterAll(async () => {
    await hub.close();
  });

  /** A changesheet-like writer: lock, check the document is as read, write its change, unlock. */
  async function lockedWriter(id: string, name: string, meanwhile: () => Promise<void>): Promise<void> {
    const before = await store.getDocument('study_set', id);
    const owner = `txn0test${Math.random().toString(36).slice(2)}`;
    await locks.whileHolding(
      [DocumentLocksRepository.key('study_set', id)],
      owner,
      60_000,
      () => new Error('locked'),
      async () => {
        expect(await store.getDocument('study_set', id)).toEqual(before);
        await meanwhile();
        expect(await store.replaceDocuments('study_set', [{ ...before, name }])).toBe(1);
      },
    );
  }

  it.each([
    [
      'an import (upsertValidated)',
      (doc: Record<string, unknown>) => store.upsertValidated('study_set', [doc]),
    ],
    [
      'an upsert (putDocuments)',
      (doc: Record<string, unknown>) => store.putDocuments('study_set', [doc], 'upsert'),
    ],
  ])('%s waits for a locked writer instead of being overwritten by it', async (_, replace) => {
    const id = String(study(1).id);
    const imported = { ...study(1), name: `Imported ${Math.random()}` };
    let replaced: Promise<unknown> | undefined;
    let settled = false;
    await lockedWriter(id, 'Changed under lock', async () => {
      replaced = replace(imported).finally(() => {
        settled = true;
      });
      // Room for a replace that ignores the lock to land inside the window (it would take milliseconds).
      await Promise.race([replaced, sleep(1_500)]);
      expect(settled).toBe(false);
    });
    await replaced;
    // Both writes were acknowledged; the replace came second, so its content stands.
    expect(await store.getDocument('study_set', id)).toMatchObject({ name: imported.name });
  });
  it('a json:submit apply never rewrites a stored document, so it cannot land inside a locked window', async () => {
    const id = String(study(1).id);
    await lockedWriter(id, 'Changed by a changesheet', async () => {
      const stored = await store.getDocument('study_set', id);
      // The same content again is acknowledged as unchanged, without a write.
      expect(await store.applySubmission({ study_set: [stored] })).toMatchObject({
        study_set: { inserted: 0, unchanged: 1 },
      });
      // Other content under a stored id is refused, not written.
      await expect(
        store.applySubmission({ study_set: [{ ...stored, name: 'From a submission' }] }),
      ).rejects.toMatchObject({ status: 422 });
    });
    expect(await store.getDocument('study_set', id)).toMatchObject({ name: 'Changed by a changesheet' });
  });
});
