import { Writable } from 'node:stream';

import Fastify from 'fastify';
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';

import { lazyChildrenOf } from './request-logger.js';

function capture(level: string): {
  logger: Logger;
  lines: () => Record<string, unknown>[];
  children: () => number;
} {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = pino({ level }, sink);
  let children = 0;
  const child = Reflect.get(logger, 'child');
  const counted = function (this: Logger, ...args: Parameters<Logger['child']>) {
    children += 1;
    return child.apply(this, args);
  };
  Reflect.set(logger, 'child', counted);
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    children: () => children,
  };
}

/** Serves one request whose handler runs `route`; answers how many child loggers were made meanwhile. */
async function serve(sink: ReturnType<typeof capture>, route: (log: Logger) => void): Promise<number> {
  const logger = sink.logger;
  const app = Fastify({
    disableRequestLogging: true,
    requestIdLogLabel: 'requestId',
    genReqId: () => 'req-1',
    loggerInstance: lazyChildrenOf(logger),
  });
  app.get('/', (request) => {
    route(request.log);
    return { ok: true };
  });
  await app.ready();
  const before = sink.children();
  const res = await app.inject({ method: 'GET', url: '/' });
  expect(res.statusCode).toBe(200);
  const made = sink.children() - before;
  await app.close();
  return made;
}

describe('lazy request loggers', () => {
  it('makes no child logger for a request that logs nothing, or only below the level', async () => {
    const sink = capture('warn');
    expect(await serve(sink, (log) => log.info('dropped'))).toBe(0);
    expect(sink.lines()).toEqual([]);
  });

  it('writes what a request logs with its request id, as a child logger would', async () => {
    const sink = capture('info');
    const made = await serve(sink, (log) => {
      log.info({ step: 1 }, 'first');
      log.warn('second');
      log.child({ part: 'x' }).error('third');
    });
    // Fastify's own root logger (lazy too, so made with the first line logged), the request's own
    // child, and the one asked for.
    expect(made).toBe(3);
    expect(sink.lines().map(({ requestId, msg, step, part }) => ({ requestId, msg, step, part }))).toEqual([
      { requestId: 'req-1', msg: 'first', step: 1, part: undefined },
      { requestId: 'req-1', msg: 'second', step: undefined, part: undefined },
      { requestId: 'req-1', msg: 'third', step: undefined, part: 'x' },
    ]);
  });

  it('follows the level the parent has and a level set on it', async () => {
    const sink = capture('info');
    await serve(sink, (log) => {
      expect(log.level).toBe('info');
      expect(log.isLevelEnabled('debug')).toBe(false);
      log.level = 'debug';
      log.debug('now shown');
    });
    expect(sink.lines().map((line) => line.msg)).toEqual(['now shown']);
  });
});
