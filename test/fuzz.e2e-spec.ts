import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { InjectOptions } from 'light-my-request';

import { buildOpenApiDocument } from '../src/docs/openapi.js';
import { ADMIN, ADMIN_ENV, bearer, createSiteWithClient, createUser, passwordToken } from './support/auth.js';
import { registerUrlBlob } from './support/drs.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { biosample, nmdcId, seed, study } from './support/metadata.js';

/**
 * A seeded, bounded fuzz pass over every write route and every list filter the OpenAPI document
 * describes: mutated and random JSON bodies, deep nesting, hostile keys, broken multipart forms, bad
 * encodings and path segments, and random filters and regular expressions. Whatever comes in, the hub
 * must answer below 500 and stay healthy. FUZZ_SEED replays a run; FUZZ_REQUESTS sizes it.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 2400);

/** mulberry32: small, fast and reproducible from one integer. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(SEED);
/** Lone surrogates cannot be percent-encoded; they travel as U+FFFD, as a browser would send them. */
const encode = (text: string): string =>
  encodeURIComponent(
    text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  );
const int = (max: number): number => Math.floor(random() * max);
const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
const chance = (p: number): boolean => random() < p;

const KEYS = [
  'id',
  'name',
  'description',
  'capability_ids',
  'workflow',
  'config',
  'done',
  'result',
  'error',
  'metadata',
  'filter',
  'find',
  'update',
  'updates',
  'delete',
  'deletes',
  'aggregate',
  'pipeline',
  'q',
  'u',
  'bulk_object_ids',
  'contents',
  'access_methods',
  'access_url',
  'url',
  'checksums',
  'size',
  'types',
  'controlled',
  'readers',
  'grant_type',
  'username',
  'password',
  'client_id',
  'client_secret',
  'action',
  'schema_class',
  'number_that_are_mintable',
  'id_name',
  'metadata_record',
  'study_set',
  'biosample_set',
  'runConfig',
  'tags',
  'passports',
  'is_admin',
  'disabled',
  '$where',
  '$set',
  '$regex',
  '$in',
  '$or',
  '$function',
  'a.b',
  'x\u0000y',
  '__proto__',
  'constructor',
  '',
  ' ',
  '\u{1F600}',
  '\ud800',
];

const STRINGS = [
  '',
  'a',
  'test',
  'metadata-ingest',
  'runtime-hub',
  'nmdc:sty-11-00000001',
  'sys0abc',
  '../../etc/passwd',
  'file:///etc/passwd',
  'https://example.org/x',
  's3://bucket/key',
  'javascript:alert(1)',
  '<script>alert(1)</script>',
  "'; DROP TABLE runs; --",
  '{"$where": "1"}',
  '(?=a)',
  '(a',
  '\\',
  '%ZZ',
  '\u0000',
  '\ud800',
  '\u202e',
  'ﬀ',
  '1e400',
  '-0',
  'true',
  'null',
];

function randomString(): string {
  if (chance(0.6)) {
    return pick(STRINGS);
  }
  if (chance(0.1)) {
    return 'x'.repeat(int(20_000));
  }
  const length = int(24);
  let text = '';
  for (let i = 0; i < length; i++) {
    text += String.fromCharCode(chance(0.8) ? 32 + int(95) : int(0xffff));
  }
  return text;
}

function randomNumber(): number {
  return pick([0, -1, 1, 1.5, -0, 2 ** 53 + 1, 1e308, -1e308, 5e-324, 10_000, int(1000)]);
}

function randomJson(depth = 0): unknown {
  const roll = random();
  if (depth > 5 || roll < 0.35) {
    return pick<() => unknown>([randomString, randomNumber, () => chance(0.5), () => null])();
  }
  if (roll < 0.55) {
    // One long array now and then, of scalars only, so a body never grows past a few hundred kB.
    return chance(0.05) && depth < 2
      ? Array.from({ length: 1500 }, () => randomNumber())
      : Array.from({ length: int(5) }, () => randomJson(depth + 1));
  }
  const object: Record<string, unknown> = {};
  for (let i = int(6); i > 0; i--) {
    object[chance(0.8) ? pick(KEYS) : randomString()] = randomJson(depth + 1);
  }
  return object;
}

/** Replaces, drops or adds one field somewhere in a plausible body. */
function mutate(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > 4 || chance(0.25)) {
    return randomJson(depth);
  }
  if (Array.isArray(value)) {
    const copy = [...value];
    if (copy.length > 0 && chance(0.7)) {
      const index = int(copy.length);
      copy[index] = mutate(copy[index], depth + 1);
    } else {
      copy.push(randomJson(depth + 1));
    }
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const action = random();
  if (keys.length > 0 && action < 0.5) {
    const key = pick(keys);
    copy[key] = mutate(copy[key], depth + 1);
  } else if (keys.length > 0 && action < 0.7) {
    delete copy[pick(keys)];
  } else {
    copy[pick(KEYS)] = randomJson(depth + 1);
  }
  return copy;
}

function deepJson(): string {
  const depth = pick([63, 64, 65, 100, 5000]);
  return chance(0.5)
    ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    : `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

function brokenJsonText(): string | Buffer {
  return pick<() => string | Buffer>([
    () => '{"a":',
    () => '{"a":1,}',
    () => "{'a':1}",
    () => '\ufeff{"a":1}',
    () => '{"a":"\\x41"}',
    () => '{"a":"\\ud800"}',
    () => 'NaN',
    () => '',
    () => '{"__proto__":{"admin":true}}',
    () => '{"constructor":{"prototype":{"x":1}}}',
    () => Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    () => Buffer.from('{"a":1}', 'utf16le'),
    deepJson,
  ])();
}

function multipartBody(): { type: string; body: string | Buffer } {
  const boundary = chance(0.8) ? 'FuzzBoundary' : randomString().replace(/[\r\n]/g, '');
  const field = pick(['file', 'uploaded_file', 'types', 'name', 'controlled', randomString()]);
  const content = chance(0.5)
    ? 'id\taction\tattribute\tvalue\nnmdc:sty-11-00000001\tupdate\tname\tX\n'
    : randomString();
  const part = `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="f.tsv"\r\nContent-Type: text/plain\r\n\r\n${content}\r\n`;
  const shape = random();
  if (shape < 0.2) {
    return { type: 'multipart/form-data', body: `${part}--${boundary}--\r\n` };
  }
  if (shape < 0.4) {
    return { type: `multipart/form-data; boundary=${boundary}`, body: part.slice(0, int(part.length)) };
  }
  if (shape < 0.5) {
    return {
      type: `multipart/form-data; boundary=${boundary}`,
      body: `--${boundary}\r\n\u0000\u0001garbage\r\n\r\n`,
    };
  }
  if (shape < 0.6) {
    return { type: 'multipart/form-data; boundary=other', body: `${part}--${boundary}--\r\n` };
  }
  return { type: `multipart/form-data; boundary=${boundary}`, body: `${part}${part}--${boundary}--\r\n` };
}

function hostileSegment(): string {
  return pick([
    '%ZZ',
    '%',
    '%00',
    'x'.repeat(1100),
    '..%2F..%2Fetc',
    encode('\u{1F600}'),
    encode('a b'),
    encode('$where'),
    'nmdc:sty-11-zzzzzzzz',
    'sys0zzzzzz',
  ]);
}

function randomFilter(): string {
  const regex = (): string => {
    const atoms = [
      'a',
      '.',
      '*',
      '+',
      '?',
      '(',
      ')',
      '(?=',
      '(?<',
      '(?!',
      '[',
      ']',
      '\\',
      '\\1',
      '\\d',
      '\\q',
      '{2,',
      '}',
      '|',
      '^',
      '$',
      '(?i)',
      '\\p{L}',
    ];
    return Array.from({ length: 1 + int(6) }, () => pick(atoms)).join('');
  };
  const field = pick([
    'id',
    'name',
    'description',
    'capability_ids',
    'status',
    'workflow.id',
    'created_at',
    'types',
    'a.b',
    '$where',
    '__proto__',
    'x\u0000',
  ]);
  return pick<() => string>([
    () =>
      JSON.stringify({
        [field]: { $regex: regex(), ...(chance(0.3) ? { $options: pick(['i', 'x', 'q', 'imsx']) } : {}) },
      }),
    () => JSON.stringify({ [field]: randomJson(2) }),
    () => JSON.stringify(randomJson(0)),
    () => JSON.stringify({ $or: [{ [field]: randomString() }, { [pick(KEYS)]: { $gt: randomNumber() } }] }),
    () => `${field}.search:${regex()}`,
    () => `${field}:${pick(['>', '<=', ''])}${randomString()}`,
    () => randomString(),
    () => deepJson(),
  ])();
}

interface Route {
  method: string;
  path: string;
  filter: boolean;
  body: boolean;
  multipart: boolean;
}

describe('fuzzing every write route and list filter', () => {
  let hub: TestHub;
  const tokens: Record<string, string> = {};
  const known: Record<string, string[]> = {};
  let routes: Route[] = [];
  const histogram = new Map<number, number>();
  const failures: string[] = [];
  const slowest = new Map<string, number>();

  beforeAll(async () => {
    hub = await startTestHub({ env: { ...ADMIN_ENV, TOKEN_RATE_LIMIT: '100000', LOG_LEVEL: 'warn' } });
    const admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    const site = await createSiteWithClient(hub, admin, 'fuzz-site', ['test']);
    const user = await createUser(hub, admin, 'fuzz-user');
    await createUser(hub, admin, 'victim');
    await seed(hub, { study_set: [study(1)], biosample_set: [biosample(1, nmdcId('sty', 1))] });
    const blob = await registerUrlBlob(hub, site.token);
    const job = await hub.inject({
      method: 'POST',
      url: '/jobs',
      headers: bearer(site.token),
      payload: { workflow: { id: 'test' }, config: {} },
    });
    const jobId = job.json<{ id: string }>().id;
    const claim = await hub.inject({
      method: 'POST',
      url: `/jobs/${jobId}:claim`,
      headers: bearer(site.token),
    });
    Object.assign(tokens, { admin, site: site.token, user: user.token });
    Object.assign(known, {
      site_id: ['fuzz-site', 'runtime-hub'],
      client_id: [site.clientId],
      job_id: [jobId],
      operation_id: [claim.json<{ id: string }>().id],
      object_id: [blob.id],
      access_id: ['https', 'local'],
      username: ['victim', 'fuzz-user'],
      collection: ['study_set', 'biosample_set', 'no_such_set'],
      id: [nmdcId('sty', 1), nmdcId('bsm', 1)],
      workflow_id: ['test', 'apply-changesheet-1.0.0'],
      capability_id: ['test'],
      object_type_id: ['test'],
      trigger_id: ['test--test'],
      name: ['hello', 'expire_stale_claims', 'daily_export_metadata'],
    });

    const document = buildOpenApiDocument(hub.app, hub.config);
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations as Record<string, unknown>)) {
        const op = operation as {
          parameters?: { name: string; in: string }[];
          requestBody?: { content?: Record<string, unknown> };
        };
        if (!['get', 'post', 'patch', 'put', 'delete'].includes(method)) {
          continue;
        }
        const filter = (op.parameters ?? []).some((p) => p.in === 'query' && p.name === 'filter');
        const write = method !== 'get';
        // Revoking the fuzzing tokens would only blunt the rest of the run.
        if ((!write && !filter) || path === '/token:revoke') {
          continue;
        }
        const types = Object.keys(op.requestBody?.content ?? {});
        routes.push({
          method: method.toUpperCase(),
          path,
          filter,
          body: write,
          multipart: types.includes('multipart/form-data'),
        });
      }
    }
    routes = routes.sort((a, b) => `${a.method} ${a.path}`.localeCompare(`${b.method} ${b.path}`));
  });

  afterAll(async () => {
    await hub?.close();
  });

  const fillPath = (path: string): string =>
    path.replace(/\{(\w+)\}/g, (_match, name: string) =>
      chance(0.7) && known[name] ? encode(pick(known[name])) : hostileSegment(),
    );

  function request(route: Route): InjectOptions & { url: string } {
    const auth = pick<Record<string, string>>([
      bearer(tokens.admin!),
      bearer(tokens.admin!),
      bearer(tokens.site!),
      bearer(tokens.user!),
      bearer('junk'),
      {},
    ]);
    let url = fillPath(route.path);
    if (route.filter && (!route.body || chance(0.3))) {
      url += `?filter=${encode(randomFilter())}`;
      if (chance(0.2)) {
        url += `&max_page_size=${pick(['0', '-1', '1', '2001', 'x', '1e3'])}`;
      }
      if (chance(0.2)) {
        url += `&page_token=${encode(randomString())}`;
      }
    }
    if (!route.body) {
      return { method: 'GET', url, headers: auth };
    }
    const shape = random();
    if (route.multipart && shape < 0.45) {
      const { type, body } = multipartBody();
      return {
        method: route.method,
        url,
        headers: { ...auth, 'content-type': type },
        payload: body,
      };
    }
    if (shape < 0.55) {
      return {
        method: route.method,
        url,
        headers: { ...auth, 'content-type': 'application/json' },
        payload: brokenJsonText(),
      };
    }
    if (shape < 0.62) {
      const type = pick([
        'text/csv',
        'text/tab-separated-values',
        'application/x-www-form-urlencoded',
        'text/plain',
        'application/xml',
        'application/json; charset=latin1',
        '',
      ]);
      return {
        method: route.method,
        url,
        headers: { ...auth, ...(type ? { 'content-type': type } : {}) },
        payload: chance(0.5) ? 'a=1&b[c]=2&__proto__[x]=1' : randomString(),
      };
    }
    const body = chance(0.5) ? mutate(randomJson()) : randomJson();
    return {
      method: route.method,
      url,
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify(body) ?? 'null',
    };
  }

  it(`answers ${REQUESTS} hostile requests below 500 and stays healthy (seed ${SEED})`, async () => {
    expect(routes.length).toBeGreaterThan(40);
    const started = Date.now();
    for (let i = 0; i < REQUESTS; i++) {
      const route = routes[i % routes.length]!;
      const options = request(route);
      const sent = Date.now();
      const res = await hub.inject(options);
      const key = `${route.method} ${route.path}`;
      slowest.set(key, (slowest.get(key) ?? 0) + Date.now() - sent);
      histogram.set(res.statusCode, (histogram.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) {
        failures.push(
          `${options.method} ${options.url.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 300)}`,
        );
      }
    }
    const seconds = (Date.now() - started) / 1000;
    const shown = [...histogram.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, count]) => `${status}: ${count}`);
    console.log(
      `fuzz seed ${SEED}: ${REQUESTS} requests over ${routes.length} routes in ${seconds.toFixed(1)} s — ${shown.join(', ')}`,
    );
    const heaviest = [...slowest.entries()].sort(([, a], [, b]) => b - a).slice(0, 5);
    console.log(`fuzz: most time spent on ${heaviest.map(([route, ms]) => `${route} ${ms} ms`).join(', ')}`);
    const health = await hub.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode, health.body).toBe(200);
    // The hub logs each 5xx with its error; show those beside the requests that caused them.
    const errors = hub.logs
      .filter((line) => line.includes('"request failed"'))
      .map((line) => line.slice(0, 600));
    expect(failures, [...failures.slice(0, 20), ...errors.slice(0, 5)].join('\n')).toEqual([]);
  }, 120_000);
});
