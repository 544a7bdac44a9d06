import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { request as httpRequest, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BlobUrlSigner } from '../src/drs/signed-urls.js';
import { ADMIN, ADMIN_ENV, bearer, createSiteWithClient, createUser, passwordToken } from './support/auth.js';
import { DRS, digests } from './support/drs.js';
import { TEST_ENV } from './support/env.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { collect, exited, spawnHub } from './support/process.js';
import { S3_START_TIMEOUT_MS, emptyS3Prefix, ensureTestS3, listS3Prefix, s3Env } from './support/s3.js';

const run = promisify(execFile);
const UPLOAD_LIMIT = 4 * 1024 * 1024;

async function commandDigest(command: 'sha256sum' | 'md5sum', path: string): Promise<string> {
  const { stdout } = await run(command, [path]);
  return stdout.split(/\s+/)[0]!;
}

/** Every file under the blob store, relative to it (the store's own layout: sha256/ab/cd/<key>, tmp/). */
async function storedFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

describe.each(['local', 's3'] as const)(
  'uploads, signed blob URLs and the CLI (real HTTP, %s store)',
  (kind) => {
    let hub: TestHub;
    let base: string;
    let siteToken: string;
    let work: string;
    const storeEnv: Record<string, string> = kind === 's3' ? s3Env() : {};
    /** Every object the store holds, finished or not. */
    const stored = (): Promise<string[]> =>
      kind === 's3' ? listS3Prefix(storeEnv.S3_KEY_PREFIX!) : storedFiles(hub.config.blobs.dir);

    beforeAll(async () => {
      if (kind === 's3') {
        await ensureTestS3();
      }
      hub = await startTestHub({
        listen: true,
        env: {
          ...ADMIN_ENV,
          UPLOAD_LIMIT_BYTES: String(UPLOAD_LIMIT),
          PUBLIC_HOSTNAME: 'blobs.test.example',
          ...storeEnv,
        },
      });
      base = hub.url!;
      const adminToken = await passwordToken(hub, ADMIN.username, ADMIN.password);
      siteToken = (await createSiteWithClient(hub, adminToken, 'uploader')).token;
      work = await mkdtemp(join(tmpdir(), 'rh-drs-blobs-'));
    }, S3_START_TIMEOUT_MS);
    afterAll(async () => {
      await hub.close();
      await rm(work, { recursive: true, force: true });
      if (kind === 's3') {
        await emptyS3Prefix(storeEnv.S3_KEY_PREFIX!);
      }
    });

    async function upload(form: FormData, token: string | null = siteToken): Promise<Response> {
      return fetch(`${base}/objects:upload`, {
        method: 'POST',
        body: form,
        headers: token === null ? {} : bearer(token),
      });
    }

    async function fileForm(
      path: string,
      filename: string,
      fields: Record<string, string> = {},
      fieldsFirst = true,
    ) {
      const form = new FormData();
      const file = await openAsBlob(path, { type: 'application/x-test' });
      if (!fieldsFirst) {
        form.append('file', file, filename);
      }
      for (const [key, value] of Object.entries(fields)) {
        form.append(key, value);
      }
      if (fieldsFirst) {
        form.append('file', file, filename);
      }
      return form;
    }

    function rawGet(path: string): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const req = httpRequest(`${base}/`, { path }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    }

    async function signedUrl(id: string): Promise<string> {
      const res = await fetch(`${base}${DRS}/objects/${id}/access/https`);
      expect(res.status).toBe(200);
      return ((await res.json()) as { url: string }).url.replace('http://127.0.0.1:8000', base);
    }

    async function uploaded(bytes: Buffer, filename = 'data.bin', fields: Record<string, string> = {}) {
      const path = join(work, `${randomBytes(4).toString('hex')}.bin`);
      await writeFile(path, bytes);
      const res = await upload(await fileForm(path, filename, fields));
      expect(res.status).toBe(201);
      return {
        path,
        body: (await res.json()) as {
          id: string;
          size: number;
          checksums: { type: string; checksum: string }[];
        },
      };
    }

    describe('POST /objects:upload', () => {
      it('streams the file in and records the checksums sha256sum and md5sum compute', async () => {
        const path = join(work, 'my reads (1).fastq');
        const bytes = randomBytes(3 * 1024 * 1024 + 17);
        await writeFile(path, bytes);
        const res = await upload(
          await fileForm(path, 'my reads (1).fastq', {
            description: 'reads',
            types: 'test',
            mime_type: 'text/plain',
          }),
        );
        expect(res.status).toBe(201);
        const body = (await res.json()) as {
          id: string;
          size: number;
          checksums: unknown[];
          access_methods: unknown[];
        };
        expect(body.size).toBe(bytes.length);
        expect(body.size).toBe((await stat(path)).size);
        expect(body.checksums).toEqual([
          { type: 'sha-256', checksum: await commandDigest('sha256sum', path) },
          { type: 'md5', checksum: await commandDigest('md5sum', path) },
        ]);
        expect(body).toMatchObject({
          name: 'my_reads_1_.fastq',
          description: 'reads',
          mime_type: 'text/plain',
          types: ['test'],
          mgr_site: 'uploader',
          self_uri: `drs://blobs.test.example/${body.id}`,
        });
        expect(body.access_methods).toEqual([
          {
            type: 'https',
            access_id: 'https',
            available: true,
            authorizations: { supported_types: ['None'] },
          },
        ]);
      });

      it('answers the same content again with 409 and the existing id, keeping the stored bytes', async () => {
        const { path, body } = await uploaded(randomBytes(50_000));
        const again = await upload(await fileForm(path, 'copy.bin'));
        expect(again.status).toBe(409);
        expect(await again.json()).toMatchObject({ code: 'duplicate_checksum', existing_id: body.id });
        const download = await fetch(await signedUrl(body.id));
        expect(download.status).toBe(200);
        expect(Buffer.from(await download.arrayBuffer()).length).toBe(50_000);
      });

      it('accepts fields after the file, and removes the bytes when a late field is refused', async () => {
        const path = join(work, 'late.bin');
        const bytes = randomBytes(10_000);
        await writeFile(path, bytes);
        const ok = await upload(
          await fileForm(path, 'late.bin', { name: 'renamed.bin', mime_type: 'application/gzip' }, false),
        );
        expect(ok.status).toBe(201);
        expect(await ok.json()).toMatchObject({ name: 'renamed.bin', mime_type: 'application/gzip' });

        const fresh = randomBytes(10_000);
        await writeFile(path, fresh);
        const before = await stored();
        const refused = await upload(await fileForm(path, 'late.bin', { types: 'no-such-type' }, false));
        expect(refused.status).toBe(400);
        expect(((await refused.json()) as { detail: string }).detail).toMatch(/no-such-type/);
        expect(await stored()).toEqual(before);
        expect(before.some((file) => file.endsWith(digests(fresh).sha256))).toBe(false);
      });

      it('refuses forms without a file, with two files or another file field, and non-multipart bodies', async () => {
        const noFile = new FormData();
        noFile.append('name', 'x.bin');
        const res = await upload(noFile);
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({ errors: [{ path: 'file' }] });

        const wrongField = new FormData();
        wrongField.append('data', new Blob([Buffer.from('abc')]), 'a.bin');
        expect((await upload(wrongField)).status).toBe(400);

        const two = new FormData();
        two.append('file', new Blob([Buffer.from('one')]), 'a.bin');
        two.append('file', new Blob([Buffer.from('two')]), 'b.bin');
        expect((await upload(two)).status).toBeGreaterThanOrEqual(400);

        const json = await fetch(`${base}/objects:upload`, {
          method: 'POST',
          headers: { ...bearer(siteToken), 'content-type': 'application/json' },
          body: '{}',
        });
        expect(json.status).toBe(400);
        expect(((await json.json()) as { detail: string }).detail).toMatch(/multipart\/form-data/);

        const badField = new FormData();
        badField.append('controlled', 'perhaps');
        badField.append('file', new Blob([randomBytes(10)]), 'a.bin');
        const bad = await upload(badField);
        expect(bad.status).toBe(400);
        expect(await bad.json()).toMatchObject({ errors: [{ path: 'controlled' }] });
      });

      it('needs a site token or objects:admin', async () => {
        const form = new FormData();
        form.append('file', new Blob([Buffer.from('who am i')]), 'a.bin');
        expect((await upload(form, null)).status).toBe(401);
        const adminToken = await passwordToken(hub, ADMIN.username, ADMIN.password);
        const user = await createUser(hub, adminToken, 'plain-user');
        const again = new FormData();
        again.append('file', new Blob([Buffer.from('who am i')]), 'a.bin');
        expect((await upload(again, user.token)).status).toBe(403);
      });

      it('refuses files over UPLOAD_LIMIT_BYTES with 413 and leaves nothing behind', async () => {
        const path = join(work, 'big.bin');
        await writeFile(path, randomBytes(UPLOAD_LIMIT + 1024));
        const before = await stored();
        const res = await upload(await fileForm(path, 'big.bin'));
        expect(res.status).toBe(413);
        expect(((await res.json()) as { detail: string }).detail).toMatch(/UPLOAD_LIMIT_BYTES/);
        expect(await stored()).toEqual(before);
      });
    });

    describe('GET /blobs/{id}', () => {
      let id: string;
      let bytes: Buffer;
      let url: string;

      beforeAll(async () => {
        bytes = randomBytes(100_000);
        id = (await uploaded(bytes, 'served.bin', { mime_type: 'application/x-served' })).body.id;
        url = await signedUrl(id);
      });

      it('serves the bytes with length, type, ETag and a download name', async () => {
        const res = await fetch(url);
        expect(res.status).toBe(200);
        expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), bytes)).toBe(0);
        expect(res.headers.get('content-length')).toBe(String(bytes.length));
        expect(res.headers.get('content-type')).toBe('application/x-served');
        expect(res.headers.get('etag')).toBe(`"${digests(bytes).sha256}"`);
        expect(res.headers.get('accept-ranges')).toBe('bytes');
        expect(res.headers.get('content-disposition')).toBe('attachment; filename="served.bin"');
        const head = await fetch(url, { method: 'HEAD' });
        expect(head.status).toBe(200);
        expect(head.headers.get('content-length')).toBe(String(bytes.length));
        expect((await head.arrayBuffer()).byteLength).toBe(0);
      });

      it('serves single byte ranges with 206, and 416 past the end', async () => {
        const middle = await fetch(url, { headers: { range: 'bytes=10-19' } });
        expect(middle.status).toBe(206);
        expect(middle.headers.get('content-range')).toBe(`bytes 10-19/${bytes.length}`);
        expect(middle.headers.get('content-length')).toBe('10');
        expect(Buffer.compare(Buffer.from(await middle.arrayBuffer()), bytes.subarray(10, 20))).toBe(0);

        const suffix = await fetch(url, { headers: { range: 'bytes=-5' } });
        expect(suffix.status).toBe(206);
        expect(
          Buffer.compare(Buffer.from(await suffix.arrayBuffer()), bytes.subarray(bytes.length - 5)),
        ).toBe(0);

        const open = await fetch(url, { headers: { range: `bytes=${bytes.length - 3}-` } });
        expect((await open.arrayBuffer()).byteLength).toBe(3);

        const past = await fetch(url, { headers: { range: `bytes=${bytes.length}-` } });
        expect(past.status).toBe(416);
        expect(past.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
      });

      it('honours If-None-Match and If-Range with the ETag', async () => {
        const etag = `"${digests(bytes).sha256}"`;
        const unchanged = await fetch(url, { headers: { 'if-none-match': etag } });
        expect(unchanged.status).toBe(304);
        const stale = await fetch(url, { headers: { range: 'bytes=0-0', 'if-range': '"other"' } });
        expect(stale.status).toBe(200);
        expect((await stale.arrayBuffer()).byteLength).toBe(bytes.length);
        const current = await fetch(url, { headers: { range: 'bytes=0-0', 'if-range': etag } });
        expect(current.status).toBe(206);
      });

      it('refuses a missing, altered or expired signature with 403', async () => {
        const parsed = new URL(url);
        const exp = parsed.searchParams.get('exp')!;
        const sig = parsed.searchParams.get('sig')!;
        const altered = `${base}/blobs/${id}?exp=${Number(exp) + 60}&sig=${sig}`;
        for (const target of [
          `${base}/blobs/${id}`,
          altered,
          `${base}/blobs/${id}?exp=${exp}&sig=${'0'.repeat(64)}`,
        ]) {
          const res = await fetch(target);
          expect(res.status).toBe(403);
          expect(((await res.json()) as { detail: string }).detail).toMatch(/not one this hub signed/);
        }
        const signer = new BlobUrlSigner(
          hub.config.secrets.urlSigningKey,
          base,
          hub.config.drs.signedUrlTtlSeconds,
        );
        const expired = signer.sign(id, Date.now() - 2 * hub.config.drs.signedUrlTtlSeconds * 1000).url;
        const res = await fetch(expired);
        expect(res.status).toBe(403);
        expect(((await res.json()) as { detail: string }).detail).toMatch(/expired at/);
        expect((await fetch(signer.sign(id).url)).status).toBe(200);
      });

      it('never reads outside the blob store, even with a valid signature for a hostile id', async () => {
        const signer = new BlobUrlSigner(hub.config.secrets.urlSigningKey, base, 60);
        // Sent byte for byte: fetch() would resolve the dot segments (even percent-encoded ones) first.
        // "..": a well-formed id, looked up as such and not found; the others are not ids at all.
        const expected: Record<string, number> = {
          '../../../../etc/passwd': 400,
          '..': 404,
          [`${id}/../../x`]: 400,
        };
        for (const [hostile, status] of Object.entries(expected)) {
          const signed = new URL(signer.sign(hostile).url);
          const encoded = [...hostile].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
          const res = await rawGet(`/blobs/${encoded}${signed.search}`);
          expect({ hostile, status: res.status }).toEqual({ hostile, status });
          expect(res.body).not.toContain('root:');
        }
        const traversal = await fetch(
          `${base}/blobs/..%2F..%2F..%2Fetc%2Fpasswd?exp=9999999999&sig=${'a'.repeat(64)}`,
        );
        expect(traversal.status).toBe(403);
      });

      it('signs URLs for controlled objects only for allowed callers; the URL itself is the credential', async () => {
        const secret = await uploaded(randomBytes(1000), 'secret.bin', { controlled: 'true' });
        expect((await fetch(`${base}${DRS}/objects/${secret.body.id}/access/https`)).status).toBe(401);
        const res = await fetch(`${base}${DRS}/objects/${secret.body.id}/access/https`, {
          headers: bearer(siteToken),
        });
        expect(res.status).toBe(200);
        const download = await fetch(
          ((await res.json()) as { url: string }).url.replace('http://127.0.0.1:8000', base),
        );
        expect(download.status).toBe(200);
      });
    });

    it('answers GETs carrying a {} JSON body on a kept-alive connection', async () => {
      const { body } = await uploaded(randomBytes(100));
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const ports = new Set<number>();
      try {
        for (let i = 0; i < 3; i++) {
          const status = await new Promise<number>((resolve, reject) => {
            const req = httpRequest(
              `${base}${DRS}/objects/${body.id}`,
              {
                method: 'GET',
                agent,
                headers: { 'content-type': 'application/json', 'content-length': '2' },
              },
              (res) => {
                ports.add(res.socket.localPort ?? 0);
                res.resume();
                res.on('end', () => resolve(res.statusCode ?? 0));
              },
            );
            req.on('error', reject);
            req.end('{}');
          });
          expect(status).toBe(200);
        }
        expect(ports.size).toBe(1);
      } finally {
        agent.destroy();
      }
    });

    it('registers a file from the command line, with progress for large files', async () => {
      const path = join(work, 'cli input.dat');
      await writeFile(path, randomBytes(20 * 1024 * 1024));
      const env = {
        ...TEST_ENV,
        NODE_ENV: 'test',
        MONGO_DB: hub.config.mongo.database,
        PG_SCHEMA: hub.config.postgres.schema,
        REDIS_PREFIX: hub.config.redis.prefix,
        BLOB_DIR: hub.config.blobs.dir,
        ...storeEnv,
        PUBLIC_HOSTNAME: 'blobs.test.example',
        LOG_LEVEL: 'warn',
        UPLOAD_LIMIT_BYTES: String(64 * 1024 * 1024),
      };
      const child = spawnHub('src/cli.ts', ['objects', 'register-file', path, '--type', 'test'], env);
      const output = collect(child);
      expect((await exited(child)).code).toBe(0);
      const id = /^id: (\S+)$/m.exec(output.stdout())?.[1];
      expect(id).toBeDefined();
      expect(output.stdout()).toContain(`drs_uri: drs://blobs.test.example/${id}`);
      expect(output.stdout()).toContain(`sha-256: ${await commandDigest('sha256sum', path)}`);
      expect(output.stderr()).toMatch(/100%\s+20\.0 MiB of 20\.0 MiB/);

      const object = (await (await fetch(`${base}/objects/${id}`)).json()) as Record<string, unknown>;
      expect(object).toMatchObject({
        name: 'cli_input.dat',
        types: ['test'],
        created_by: 'cli',
        size: 20 * 1024 * 1024,
      });
      const download = await fetch(await signedUrl(id!));
      expect(Number(download.headers.get('content-length'))).toBe(20 * 1024 * 1024);
      await download.arrayBuffer();

      const again = spawnHub('src/cli.ts', ['objects', 'register-file', path], env);
      const againOutput = collect(again);
      expect((await exited(again)).code).toBe(1);
      expect(againOutput.stderr()).toContain(id);
      const reuse = spawnHub('src/cli.ts', ['objects', 'register-file', path, '--exists-ok'], env);
      const reuseOutput = collect(reuse);
      expect((await exited(reuse)).code).toBe(0);
      expect(reuseOutput.stdout()).toContain(`id: ${id}`);
      // Three CLI processes start one after another, each compiling and booting the hub's modules.
    }, 90_000);
  },
);
