import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { describe, expect, it } from 'vitest';

import { formatBytes, ProgressMeter } from './progress.js';

describe('ProgressMeter', () => {
  it('writes a line per tenth into a log, then the total, passing every byte through', async () => {
    const lines: string[] = [];
    let received = 0;
    await pipeline(
      Readable.from(Array.from({ length: 10 }, () => Buffer.alloc(100))),
      new ProgressMeter(1000, (text) => lines.push(text), false),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          received += chunk.length;
          callback();
        },
      }),
    );
    expect(received).toBe(1000);
    expect(lines.map((line) => line.trimStart().split('%')[0])).toEqual([
      '10',
      '20',
      '30',
      '40',
      '50',
      '60',
      '70',
      '80',
      '90',
      '100',
    ]);
    expect(lines.every((line) => line.endsWith('\n') && !line.startsWith('\r'))).toBe(true);
    expect(lines.at(-1)).toMatch(/100% {2}1000 B of 1000 B/);
  });

  it('formats sizes in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
});
