import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import { ObjectRegistrationService } from '../../src/drs/object-registration.service.js';
import { bearer } from './auth.js';
import type { TestHub } from './harness.js';

export const DRS = '/ga4gh/drs/v1';

export interface Registered {
  id: string;
  size: number;
  checksums: { type: string; checksum: string }[];
  [field: string]: unknown;
}

export function digests(bytes: Buffer): { sha256: string; md5: string } {
  return {
    sha256: createHash('sha256').update(bytes).digest('hex'),
    md5: createHash('md5').update(bytes).digest('hex'),
  };
}

/** Registers a blob held elsewhere (random checksums, so each call is a new blob). */
export async function registerUrlBlob(
  hub: TestHub,
  token: string,
  fields: Record<string, unknown> = {},
): Promise<Registered> {
  const { sha256, md5 } = digests(randomBytes(32));
  const res = await hub.inject({
    method: 'POST',
    url: '/objects',
    headers: bearer(token),
    payload: {
      name: 'remote.bin',
      size: 1000 + Math.floor(Math.random() * 1000),
      checksums: [
        { type: 'sha-256', checksum: sha256 },
        { type: 'md5', checksum: md5 },
      ],
      access_methods: [{ type: 'https', access_url: { url: `https://data.example.org/${sha256}` } }],
      ...fields,
    },
  });
  if (res.statusCode !== 201) {
    throw new Error(`register blob: ${res.statusCode} ${res.body}`);
  }
  return res.json();
}

export async function registerBundle(
  hub: TestHub,
  token: string,
  members: { name: string; id: string }[],
  fields: Record<string, unknown> = {},
): Promise<Registered> {
  const res = await hub.inject({
    method: 'POST',
    url: '/objects',
    headers: bearer(token),
    payload: { name: 'bundle', contents: members, ...fields },
  });
  if (res.statusCode !== 201) {
    throw new Error(`register bundle: ${res.statusCode} ${res.body}`);
  }
  return res.json();
}

/** Stores bytes in the hub's blob store through the in-process API other features use. */
export async function storeBytes(hub: TestHub, bytes: Buffer, name = 'stored.bin'): Promise<string> {
  const objects = hub.app.get(ObjectRegistrationService);
  const doc = await objects.registerBlobFromStream(
    Readable.from([bytes]),
    { name, mime_type: 'application/octet-stream' },
    objects.systemRegistrant('test'),
  );
  return doc.id;
}
