import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { bundleChecksums, canonicalChecksumType, checksumKey, normaliseChecksum } from './checksums.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('checksums', () => {
  it('accepts the spellings real servers use and emits IANA names', () => {
    expect(canonicalChecksumType('sha256')).toBe('sha-256');
    expect(canonicalChecksumType('SHA-256')).toBe('sha-256');
    expect(canonicalChecksumType('sha-1')).toBe('sha1');
    expect(canonicalChecksumType('MD5')).toBe('md5');
    expect(canonicalChecksumType('crc64')).toBeUndefined();
    expect(canonicalChecksumType('constructor')).toBeUndefined();
  });

  it('lower-cases hex digests and checks their length', () => {
    const upper = sha256('x').toUpperCase();
    expect(normaliseChecksum({ type: 'SHA256', checksum: upper })).toEqual({
      ok: true,
      value: { type: 'sha-256', checksum: sha256('x') },
    });
    const short = normaliseChecksum({ type: 'md5', checksum: 'abc' });
    expect(short.ok).toBe(false);
    expect(!short.ok && short.message).toMatch(/32 hexadecimal digits/);
    const notHex = normaliseChecksum({ type: 'md5', checksum: 'z'.repeat(32) });
    expect(notHex.ok).toBe(false);
    const unknown = normaliseChecksum({ type: 'whirlpool', checksum: 'ab' });
    expect(!unknown.ok && unknown.message).toMatch(/not supported; use one of md5/);
  });

  it('keeps opaque ETags as given, without quotes', () => {
    expect(normaliseChecksum({ type: 'etag', checksum: '"9b2cf535f27731c974343645a3985328-3"' })).toEqual({
      ok: true,
      value: { type: 'etag', checksum: '9b2cf535f27731c974343645a3985328-3' },
    });
  });

  it('builds unique keys from the canonical form', () => {
    expect(checksumKey({ type: 'md5', checksum: 'ab' })).toBe('md5:ab');
  });

  it('follows the spec example for bundles: md5 over the sorted concatenation', () => {
    const a = md5('blob one');
    const b = md5('blob two');
    const [first, second] = [a, b].sort();
    expect(bundleChecksums([[{ type: 'md5', checksum: a }], [{ type: 'md5', checksum: b }]])).toEqual([
      { type: 'md5', checksum: md5(`${first}${second}`) },
    ]);
  });

  it('only computes algorithms every member carries, and counts repeated members', () => {
    const one = [
      { type: 'md5', checksum: md5('1') },
      { type: 'sha-256', checksum: sha256('1') },
    ];
    const two = [{ type: 'sha-256', checksum: sha256('2') }];
    const result = bundleChecksums([one, two, two]);
    expect(result).toEqual([
      { type: 'sha-256', checksum: sha256([sha256('1'), sha256('2'), sha256('2')].sort().join('')) },
    ]);
    expect(bundleChecksums([[{ type: 'etag', checksum: 'x' }]])).toEqual([]);
    expect(bundleChecksums([])).toEqual([]);
  });
});
