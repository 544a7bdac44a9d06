import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gunzipSync, gzipSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import {
  collectionOfFileName,
  exportBundleName,
  exportFileName,
  gzipJsonLines,
  readGzipJsonLines,
  type ExportLine,
} from './export-format.js';

function* docs(count: number): Generator<Record<string, unknown>> {
  for (let i = 0; i < count; i++) {
    yield { id: `nmdc:sty-11-${String(i).padStart(6, '0')}`, name: `study ${i} — ünïcode` };
  }
}

async function readAll(bytes: Buffer, chunkSize = 7): Promise<ExportLine[]> {
  const chunks: Buffer[] = [];
  for (let start = 0; start < bytes.length; start += chunkSize) {
    chunks.push(bytes.subarray(start, start + chunkSize));
  }
  const lines: ExportLine[] = [];
  for await (const line of readGzipJsonLines(Readable.from(chunks))) {
    lines.push(line);
  }
  return lines;
}

describe('export format', () => {
  it('names files and bundles portably, and maps file names back to collections', () => {
    expect(exportFileName('study_set')).toBe('study_set.jsonl.gz');
    expect(collectionOfFileName('/tmp/exports/study_set.jsonl.gz')).toBe('study_set');
    expect(collectionOfFileName('study_set.json.gz')).toBeUndefined();
    expect(collectionOfFileName('../x y.jsonl.gz')).toBeUndefined();
    expect(exportBundleName(new Date('2024-05-06T03:00:00.123Z'))).toBe('metadata-export-20240506T030000Z');
  });

  it('writes one JSON document per line, gzipped, and counts them', async () => {
    const { stream, documents } = gzipJsonLines(docs(5000));
    const bytes = await buffer(stream);
    const lines = gunzipSync(bytes).toString('utf8').split('\n');
    expect(lines).toHaveLength(5001);
    expect(lines.at(-1)).toBe('');
    expect(JSON.parse(lines[42]!)).toEqual({ id: 'nmdc:sty-11-000042', name: 'study 42 — ünïcode' });
    expect(documents()).toBe(5000);
  });

  it('gives identical bytes for identical documents: no time or file name in the gzip header', async () => {
    const first = await buffer(gzipJsonLines(docs(100)).stream);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await buffer(gzipJsonLines(docs(100)).stream);
    expect(second.equals(first)).toBe(true);
    expect(first.readUInt32LE(4)).toBe(0); // MTIME
    expect(first[3]! & 0x08).toBe(0); // FNAME flag
  });

  it('reads lines back across chunk boundaries, even inside multi-byte characters', async () => {
    const bytes = await buffer(gzipJsonLines(docs(300)).stream);
    const lines = await readAll(bytes, 5);
    expect(lines).toHaveLength(300);
    expect(lines[299]).toEqual({
      line: 300,
      document: { id: 'nmdc:sty-11-000299', name: 'study 299 — ünïcode' },
    });
  });

  it('reports bad lines by number and keeps reading', async () => {
    const text = '{"id":"a"}\nnot json\n\n[1,2]\n{"id":"b"}';
    const lines = await readAll(gzipSync(text));
    expect(lines.map((l) => ('error' in l ? `${l.line}: error` : `${l.line}: ok`))).toEqual([
      '1: ok',
      '2: error',
      '4: error',
      '5: ok',
    ]);
  });

  it('fails on a truncated gzip stream', async () => {
    const bytes = gzipSync('{"id":"a"}\n'.repeat(1000));
    await expect(readAll(bytes.subarray(0, bytes.length - 20))).rejects.toThrow(/unexpected end/i);
  });
});

describe('gzipJsonLines cleanup', () => {
  it('returns the document source when the reader destroys the stream early', async () => {
    let closed = false;
    async function* endless(): AsyncGenerator<Record<string, unknown>> {
      try {
        for (let i = 0; ; i++) {
          yield await Promise.resolve({ id: `x${i}`, padding: 'y'.repeat(200) });
        }
      } finally {
        closed = true;
      }
    }
    const { stream } = gzipJsonLines(endless());
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    stream.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(true);
  });
});
