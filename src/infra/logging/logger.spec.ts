import { Writable } from 'node:stream';

import { pino } from 'pino';
import pretty from 'pino-pretty';
import { describe, expect, it } from 'vitest';

import { PRETTY_OPTIONS } from './logger.js';

describe('development log output', () => {
  it('writes one line per request, the request fields on it', async () => {
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk.toString('utf8'));
        callback();
      },
    });
    const stream = pretty({ ...PRETTY_OPTIONS, colorize: false, destination: sink, sync: true });
    const logger = pino({ level: 'info' }, stream);
    // The shape app.factory.ts logs for every response.
    logger.info(
      { requestId: 'abc', method: 'GET', route: '/health', url: '/health', status: 200, ms: 3.2 },
      'request',
    );
    await new Promise((resolve) => setImmediate(resolve));
    const output = chunks.join('');
    expect(output.trimEnd().split('\n')).toHaveLength(1);
    expect(output).toContain('request');
    expect(output).toContain('"route":"/health"');
    expect(output).toContain('"status":200');
  });
});
