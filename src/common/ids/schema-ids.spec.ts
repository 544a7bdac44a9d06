import { describe, expect, it } from 'vitest';

import { checkDigits, decodeBlade } from './ids.js';
import { bladeChecksOut, mintSchemaId, parseSchemaId } from './schema-ids.js';

describe('schema ids', () => {
  it('parses typecode, shoulder, blade, version and locus', () => {
    expect(parseSchemaId('nmdc:bsm-11-0pyv7738')).toEqual({
      prefix: 'nmdc',
      typecode: 'bsm',
      shoulder: '11',
      blade: '0pyv7738',
    });
    expect(parseSchemaId('nmdc:wfmgas-11-abc12345.2_contig.7')).toEqual({
      prefix: 'nmdc',
      typecode: 'wfmgas',
      shoulder: '11',
      blade: 'abc12345',
      version: '2',
      locus: 'contig.7',
    });
  });

  it.each([
    '',
    'bsm-11-abc',
    'nmdc:bsm-x1-abc',
    'nmdc:toolongcode-11-abc',
    'nmdc:bsm-11-',
    'NMDC:bsm-11-abc',
    'nmdc:bsm-11-a b',
  ])('refuses %j', (id) => {
    expect(parseSchemaId(id)).toBeUndefined();
  });

  it('mints ids whose blade carries mod 97-10 check digits', () => {
    for (let i = 0; i < 200; i++) {
      const id = mintSchemaId('nmdc', 'bsm', '11');
      expect(id).toMatch(/^nmdc:bsm-11-[0-9a-hjkmnp-tv-z]{6}\d{2}$/);
      const blade = parseSchemaId(id)?.blade ?? '';
      expect(bladeChecksOut(blade)).toBe(true);
      expect(checkDigits(decodeBlade(blade.slice(0, 6)) ?? -1n)).toBe(blade.slice(6));
    }
  });

  it('notices a mistyped blade', () => {
    const blade = parseSchemaId(mintSchemaId('nmdc', 'sty', '11'))?.blade ?? '';
    const swapped = `${blade[1]}${blade[0]}${blade.slice(2)}`;
    expect(bladeChecksOut(blade)).toBe(true);
    if (swapped !== blade) {
      expect(bladeChecksOut(swapped)).toBe(false);
    }
    expect(bladeChecksOut('abcdefgh')).toBe(false);
    expect(bladeChecksOut('ABCDEF12')).toBe(false);
  });
});
