import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createGunzip } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ObjectReadsService } from '../src/drs/object-reads.service.js';
import { ExportsService } from '../src/exports/exports.service.js';
import { MongoService } from '../src/infra/mongo/mongo.service.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { dataObject } from './support/metadata.js';

const DOCUMENTS = 100_000;
const INSERT_BATCH = 10_000;
const MIB = 1024 * 1024;

describe('exporting a 100k-document collection', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub({ env: { LOG_LEVEL: 'warn' } });
    // Straight through the driver: the store's validation is not what this test measures.
    const collection = hub.app.get(MongoService).db.collection<{ _id: string }>('data_object_set');
    for (let start = 0; start < DOCUMENTS; start += INSERT_BATCH) {
      const docs = Array.from({ length: Math.min(INSERT_BATCH, DOCUMENTS - start) }, (_, i) => {
        const doc = dataObject(start + i + 1);
        return { ...doc, _id: doc.id as string };
      });
      await collection.insertMany(docs, { ordered: false });
    }
  }, 240_000);
  afterAll(async () => {
    await hub.close();
  });

  it('streams it with bounded memory (RSS growth under 100 MB) and every line arrives', async () => {
    const exportsService = hub.app.get(ExportsService);
    // A first export starts the digest worker threads and warms the driver: one-time costs, not streaming.
    await exportsService.exportCollection('study_set', new Date());
    // Collect the garbage the 100k inserts left behind, so the baseline is what is live.
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    // RSS rarely shrinks once grown, so the JavaScript heap plus buffers is checked too: it is what a
    // collection held in memory would show.
    const heapOf = (usage: NodeJS.MemoryUsage) => usage.heapUsed + usage.external;
    const baseline = process.memoryUsage.rss();
    const heapBaseline = heapOf(process.memoryUsage());
    let peak = baseline;
    let heapPeak = heapBaseline;
    const sample = () => {
      const usage = process.memoryUsage();
      peak = Math.max(peak, usage.rss);
      heapPeak = Math.max(heapPeak, heapOf(usage));
    };
    const sampler = setInterval(sample, 20);
    let file;
    try {
      file = await exportsService.exportCollection('data_object_set', new Date());
    } finally {
      clearInterval(sampler);
    }
    sample();
    expect(file.documents).toBe(DOCUMENTS);
    expect((peak - baseline) / MIB).toBeLessThan(100);
    expect((heapPeak - heapBaseline) / MIB).toBeLessThan(100);

    const objects = hub.app.get(ObjectReadsService);
    let lines = 0;
    for await (const chunk of objects
      .readBlob(await objects.describeBlob(file.object_id))
      .pipe(createGunzip()) as AsyncIterable<Buffer>) {
      for (const byte of chunk) {
        if (byte === 10) {
          lines++;
        }
      }
    }
    expect(lines).toBe(DOCUMENTS);
  }, 240_000);
});
