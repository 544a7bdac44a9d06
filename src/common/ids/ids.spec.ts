import { describe, expect, it } from 'vitest';

import { checkDigits, decodeBlade, isValidMintedId, mintId } from './ids.js';

describe('minted ids', () => {
  it('have a shoulder, Crockford base32 blade and valid check digits', () => {
    for (let i = 0; i < 200; i++) {
      const id = mintId();
      expect(id).toMatch(/^sys0[0-9a-hjkmnp-tv-z]{8}\d{2}$/);
      expect(isValidMintedId(id)).toBe(true);
    }
  });

  it('computes the DataCite mod 97-10 check', () => {
    // 97 - ((100 * n) % 97) + 1 for n = 0 → 98
    expect(checkDigits(0n)).toBe('98');
    expect(checkDigits(decodeBlade('xsry')!)).toHaveLength(2);
  });

  it('rejects a changed character or wrong check digits', () => {
    const id = mintId('sys0', 6);
    const blade = id.slice(4, 10);
    const flipped = blade[0] === 'a' ? `b${blade.slice(1)}` : `a${blade.slice(1)}`;
    expect(isValidMintedId(`sys0${flipped}${id.slice(10)}`)).toBe(false);
    expect(isValidMintedId('sys0abc')).toBe(false);
    expect(isValidMintedId('sys0ilou0000')).toBe(false);
  });

  it('produces distinct ids', () => {
    const ids = new Set(Array.from({ length: 5000 }, () => mintId()));
    expect(ids.size).toBe(5000);
  });
});
