import { describe, expect, it } from 'vitest';

import { BlobUrlSigner } from './signed-urls.js';

const SECRET = 'a-test-signing-secret-of-at-least-32-chars';

function partsOf(url: string): { path: string; exp: string; sig: string } {
  const parsed = new URL(url);
  return {
    path: parsed.pathname,
    exp: parsed.searchParams.get('exp') ?? '',
    sig: parsed.searchParams.get('sig') ?? '',
  };
}

describe(BlobUrlSigner.name, () => {
  const signer = new BlobUrlSigner(SECRET, 'https://hub.example.org', 900);
  const now = Date.UTC(2030, 0, 1);

  it('signs a URL under the public base URL that expires after the configured lifetime', () => {
    const { url, expiresAt } = signer.sign('sys0abc', now);
    const { path, exp, sig } = partsOf(url);
    expect(path).toBe('/blobs/sys0abc');
    expect(Number(exp)).toBe(now / 1000 + 900);
    expect(expiresAt).toBe(Number(exp));
    expect(signer.check('sys0abc', exp, sig, now)).toBe('valid');
    expect(signer.check('sys0abc', exp, sig, now + 899_000)).toBe('valid');
  });

  it('refuses an expired URL, a tampered expiry, another id and another key', () => {
    const { exp, sig } = partsOf(signer.sign('sys0abc', now).url);
    expect(signer.check('sys0abc', exp, sig, now + 901_000)).toBe('expired');
    expect(signer.check('sys0abc', String(Number(exp) + 3600), sig, now)).toBe('invalid');
    expect(signer.check('sys0abd', exp, sig, now)).toBe('invalid');
    const other = new BlobUrlSigner(`${SECRET}-other`, 'https://hub.example.org', 900);
    expect(other.check('sys0abc', exp, sig, now)).toBe('invalid');
  });

  it('refuses malformed parameters without throwing', () => {
    expect(signer.check('sys0abc', undefined, undefined)).toBe('invalid');
    expect(signer.check('sys0abc', '12x', 'ab')).toBe('invalid');
    expect(signer.check('sys0abc', '1', 'z'.repeat(64))).toBe('invalid');
  });
  it('signs upload URLs over the site, name and mime type, which never pass as download signatures', () => {
    const upload = { objectId: 'sys0up', site: 'nersc', name: 'a.txt', mimeType: 'text/plain' };
    const { url, expiresAt } = signer.signUpload(upload, 300, now);
    const { path, exp, sig } = partsOf(url);
    expect(path).toBe('/blobs/sys0up');
    expect(expiresAt).toBe(now / 1000 + 300);
    expect(new URL(url).searchParams.get('site')).toBe('nersc');
    expect(signer.checkUpload(upload, exp, sig, now)).toBe('valid');
    expect(signer.checkUpload({ ...upload, name: 'b.txt' }, exp, sig, now)).toBe('invalid');
    expect(signer.checkUpload({ ...upload, site: 'emsl' }, exp, sig, now)).toBe('invalid');
    expect(signer.checkUpload(upload, exp, sig, now + 301_000)).toBe('expired');
    expect(signer.check('sys0up', exp, sig, now)).toBe('invalid');
    const download = partsOf(signer.sign('sys0up', now).url);
    expect(signer.checkUpload(upload, download.exp, download.sig, now)).toBe('invalid');
  });
});
