import { createHash } from 'node:crypto';

export interface Checksum {
  readonly checksum: string;
  readonly type: string;
}

interface Algorithm {
  /** Length of the lower-case hex digest; undefined for opaque values such as ETags. */
  readonly hexLength?: number;
  /** How to compute it here, when Node can (used for bundle checksums). */
  readonly compute?: (input: string) => string;
}

const nodeHash =
  (name: string, bytes?: number) =>
  (input: string): string => {
    const digest = createHash(name).update(input, 'utf8').digest();
    return (bytes ? digest.subarray(0, bytes) : digest).toString('hex');
  };

/**
 * Checksum types we accept, under the names we emit: IANA hash names where one exists (`sha-256`), the
 * conventional names the DRS spec suggests otherwise (`md5`, `sha1`, `etag`, `crc32c`, `trunc512`).
 */
const ALGORITHMS: Readonly<Record<string, Algorithm>> = {
  md5: { hexLength: 32, compute: nodeHash('md5') },
  sha1: { hexLength: 40, compute: nodeHash('sha1') },
  'sha-256': { hexLength: 64, compute: nodeHash('sha256') },
  'sha-384': { hexLength: 96, compute: nodeHash('sha384') },
  'sha-512': { hexLength: 128, compute: nodeHash('sha512') },
  'sha3-224': { hexLength: 56, compute: nodeHash('sha3-224') },
  'sha3-256': { hexLength: 64, compute: nodeHash('sha3-256') },
  'sha3-384': { hexLength: 96, compute: nodeHash('sha3-384') },
  'sha3-512': { hexLength: 128, compute: nodeHash('sha3-512') },
  'blake2b-512': { hexLength: 128, compute: nodeHash('blake2b512') },
  'blake2s-256': { hexLength: 64, compute: nodeHash('blake2s256') },
  // GA4GH trunc512: the first 24 bytes of sha-512.
  trunc512: { hexLength: 48, compute: nodeHash('sha512', 24) },
  crc32c: { hexLength: 8 },
  etag: {},
};

/** Spellings real servers and clients use for the same algorithms (the starter kit emits `sha256`). */
const ALIASES: Readonly<Record<string, string>> = {
  sha256: 'sha-256',
  sha_256: 'sha-256',
  sha384: 'sha-384',
  sha_384: 'sha-384',
  sha512: 'sha-512',
  sha_512: 'sha-512',
  'sha-1': 'sha1',
  sha_1: 'sha1',
  sha3_224: 'sha3-224',
  sha3_256: 'sha3-256',
  sha3_384: 'sha3-384',
  sha3_512: 'sha3-512',
  blake2b: 'blake2b-512',
  blake2b512: 'blake2b-512',
  blake2s: 'blake2s-256',
  blake2s256: 'blake2s-256',
};

export const CHECKSUM_TYPES = Object.keys(ALGORITHMS);

const OPAQUE_VALUE = /^[\x21-\x7e]{1,256}$/;

/** The canonical name of a checksum type, or undefined when we do not know it. */
export function canonicalChecksumType(raw: string): string | undefined {
  const lowered = raw.trim().toLowerCase();
  const name = ALIASES[lowered] ?? lowered;
  return Object.hasOwn(ALGORITHMS, name) ? name : undefined;
}

export type ChecksumResult = { ok: true; value: Checksum } | { ok: false; message: string };

/** Validates one checksum and returns it with the canonical type name and lower-case hex. */
export function normaliseChecksum(input: Checksum): ChecksumResult {
  const type = canonicalChecksumType(input.type);
  if (!type) {
    return {
      ok: false,
      message: `checksum type "${input.type}" is not supported; use one of ${CHECKSUM_TYPES.join(', ')}`,
    };
  }
  const algorithm = ALGORITHMS[type] ?? {};
  if (algorithm.hexLength === undefined) {
    const value = input.checksum.trim().replace(/^"(.*)"$/, '$1');
    return OPAQUE_VALUE.test(value)
      ? { ok: true, value: { type, checksum: value } }
      : { ok: false, message: `a ${type} checksum must be 1-256 printable characters` };
  }
  const value = input.checksum.trim().toLowerCase();
  if (value.length !== algorithm.hexLength || !/^[0-9a-f]+$/.test(value)) {
    return {
      ok: false,
      message: `a ${type} checksum is ${algorithm.hexLength} hexadecimal digits; got "${input.checksum}"`,
    };
  }
  return { ok: true, value: { type, checksum: value } };
}

/** The key that makes a checksum unique across the registry: `sha-256:ab12…`. */
export function checksumKey(checksum: Checksum): string {
  return `${checksum.type}:${checksum.checksum}`;
}

/**
 * A bundle's checksums by the DRS rule: for each algorithm every member has and we can compute, the
 * digest of the members' checksums of that type, sorted as strings and concatenated. So md5 members
 * `72794b6d…` and `5e089d29…` give `md5("5e089d29…72794b6d…")`. One value per contents entry: a member
 * listed twice counts twice.
 */
export function bundleChecksums(members: readonly (readonly Checksum[])[]): Checksum[] {
  if (members.length === 0) {
    return [];
  }
  const result: Checksum[] = [];
  for (const [type, algorithm] of Object.entries(ALGORITHMS)) {
    if (!algorithm.compute) {
      continue;
    }
    const values: string[] = [];
    for (const checksums of members) {
      const match = checksums.find((c) => c.type === type);
      if (!match) {
        break;
      }
      values.push(match.checksum);
    }
    if (values.length === members.length) {
      result.push({ type, checksum: algorithm.compute(values.sort().join('')) });
    }
  }
  return result;
}
