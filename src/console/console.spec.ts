import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { afterEach, describe, expect, it } from 'vitest';

import { mountConsole } from './console.js';

@Module({})
class EmptyModule {}

describe('mountConsole', () => {
  let app: NestFastifyApplication | undefined;
  let dir: string | undefined;

  const boot = async (consoleDir: string): Promise<NestFastifyApplication> => {
    app = await NestFactory.create<NestFastifyApplication>(EmptyModule, new FastifyAdapter(), {
      logger: false,
    });
    await mountConsole(app, consoleDir);
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return app;
  };
  afterEach(async () => {
    await app?.close();
    if (dir) {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers 503 with what to run when the console is not built', async () => {
    const hub = await boot(join(tmpdir(), 'no-console-here'));
    for (const url of ['/console', '/console/runs/abc']) {
      const res = await hub.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.body).toContain('npm run build');
    }
  });

  it('serves index.html for every console page and the hashed assets precompressed and immutable', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rh-console-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>console</title>');
    const script = 'console.log("the console");'.repeat(50);
    await writeFile(join(dir, 'assets', 'app-ABC.js'), script);
    await writeFile(join(dir, 'assets', 'app-ABC.js.gz'), gzipSync(script));
    const hub = await boot(dir);
    for (const url of ['/console', '/console/', '/console/runs?status=FAILURE', '/console/objects/sys0abc']) {
      const res = await hub.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toContain('<title>console</title>');
      expect(res.headers['cache-control']).toBe('no-cache');
    }
    const asset = await hub.inject({
      method: 'GET',
      url: '/console/assets/app-ABC.js',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-encoding']).toBe('gzip');
    expect(asset.headers['cache-control']).toContain('immutable');
    const missing = await hub.inject({ method: 'GET', url: '/console/assets/nope.js' });
    expect(missing.statusCode).toBe(404);
  });
});
