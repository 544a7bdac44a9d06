import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADMIN, ADMIN_ENV, passwordToken } from './support/auth.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { S3_START_TIMEOUT_MS, emptyS3Prefix, ensureTestS3, s3Env, testS3Prefix } from './support/s3.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/**
 * Sends `total` bytes as the `file` part of a multipart upload, generated on the fly (a 1 MiB random
 * block with each copy stamped with its index, so no two megabytes are alike) and never held whole.
 */
function streamUpload(
  url: string,
  token: string,
  total: number,
): Promise<{ status: number; body: string; sha256: string }> {
  const boundary = `----rh${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const block = randomBytes(MIB);
  const hash = createHash('sha256');
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length + total + tail.length,
        },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sha256: hash.digest('hex') }));
      },
    );
    req.on('error', reject);
    req.write(head);
    let sent = 0;
    let index = 0;
    const pump = (): void => {
      while (sent < total) {
        const chunk = Buffer.from(block.subarray(0, Math.min(MIB, total - sent)));
        chunk.writeUInt32BE(index++, 0);
        hash.update(chunk);
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end(tail);
    };
    pump();
  });
}

describe('a 1 GiB upload into the S3 store', () => {
  let hub: TestHub;
  let token: string;
  const prefix = testS3Prefix();

  beforeAll(async () => {
    await ensureTestS3();
    hub = await startTestHub({
      listen: true,
      env: { ...ADMIN_ENV, ...s3Env(prefix), LOG_LEVEL: 'warn', UPLOAD_LIMIT_BYTES: String(2 * GIB) },
    });
    token = await passwordToken(hub, ADMIN.username, ADMIN.password);
  }, S3_START_TIMEOUT_MS);
  afterAll(async () => {
    await hub?.close();
    await emptyS3Prefix(prefix);
  }, 60_000);

  it('streams through the hub in bounded memory (RSS growth under 100 MiB) with the right digest', async () => {
    // A first upload starts the digest workers and the S3 connection pool: one-time costs.
    const warm = await streamUpload(`${hub.url}/objects:upload`, token, 20 * MIB);
    expect(warm.status).toBe(201);
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 20);
    let result;
    try {
      result = await streamUpload(`${hub.url}/objects:upload`, token, GIB);
    } finally {
      clearInterval(sampler);
    }
    expect(result.status, result.body).toBe(201);
    const object = JSON.parse(result.body) as {
      size: number;
      checksums: { type: string; checksum: string }[];
    };
    expect(object.size).toBe(GIB);
    expect(object.checksums).toContainEqual({ type: 'sha-256', checksum: result.sha256 });
    console.log(`rss growth ${((peak - baseline) / MIB).toFixed(1)} MiB`);
    expect((peak - baseline) / MIB).toBeLessThan(100);
  }, 300_000);

  it('counts large streams while they pass through, and stops when a client hangs up half-way', async () => {
    const relaying = async (): Promise<number> => {
      const text = await (await fetch(`${hub.url}/metrics`)).text();
      return Number(/^blob_large_streams_relaying (\d+)$/m.exec(text)?.[1]);
    };
    expect(await relaying()).toBe(0);
    const uploaded = await streamUpload(`${hub.url}/objects:upload`, token, 64 * MIB);
    expect(uploaded.status, uploaded.body).toBe(201);
    const { id } = JSON.parse(uploaded.body) as { id: string };
    expect(await relaying()).toBe(0);
    const access = await fetch(`${hub.url}/ga4gh/drs/v1/objects/${id}/access/https`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const signed = new URL((await access.json()).url as string);
    // Signed for the public address; this hub listens on a port of its own.
    const url = `${hub.url}${signed.pathname}${signed.search}`;
    // Reads 1 MiB of the 64, then hangs up while the hub still relays.
    await new Promise<void>((resolve, reject) => {
      const req = request(url, (res) => {
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received >= MIB && !req.destroyed) {
            relaying().then((during) => {
              expect(during).toBe(1);
              req.destroy();
              resolve();
            }, reject);
            res.pause();
          }
        });
      });
      req.on('error', () => undefined);
      req.end();
    });
    await expect.poll(relaying, { timeout: 5_000 }).toBe(0);
  }, 120_000);
});
