import { describe, expect, it } from 'vitest';

import { isDataError, MAX_MESSAGE_CHARS, pgSafeEvent, pgSafeJson, pgSafeText } from './pg-safe.js';

describe('PostgreSQL-safe text and JSON', () => {
  it('escapes NUL and replaces lone surrogates, keeping valid pairs', () => {
    expect(pgSafeText('a\u0000b')).toBe('a\\u0000b');
    expect(pgSafeText('x\ud800y\udc00z')).toBe('x\ufffdy\ufffdz');
    expect(pgSafeText('emoji \ud83d\ude00')).toBe('emoji \ud83d\ude00');
  });

  it('caps long text without splitting a surrogate pair and says how much was left out', () => {
    const capped = pgSafeText(`${'a'.repeat(9)}\ud83d\ude00tail`, 10);
    expect(capped).toBe(`${'a'.repeat(9)}… (6 more characters)`);
  });

  it('cleans every string of a JSON value, keys included, and survives cycles', () => {
    const value: Record<string, unknown> = { 'k\u0000': ['v\u0000', { deep: '\udfff' }], n: 1, t: null };
    value.self = value;
    expect(pgSafeJson(value)).toEqual({
      'k\\u0000': ['v\\u0000', { deep: '\ufffd' }],
      n: 1,
      t: null,
      self: '[circular]',
    });
  });

  it('keeps a "__proto__" key of parsed JSON as a field, not as the prototype', () => {
    const safe = pgSafeJson(
      JSON.parse('{"__proto__": {"polluted": true}, "list": [1, "a\\u0000"]}') as object,
    );
    expect(Object.getPrototypeOf(safe)).toBe(Object.prototype);
    expect((safe as { polluted?: boolean }).polluted).toBeUndefined();
    expect(JSON.stringify(safe)).toBe('{"__proto__":{"polluted":true},"list":[1,"a\\\\u0000"]}');
  });

  it('moves a long event message whole into data.fullMessage', () => {
    const long = 'y'.repeat(MAX_MESSAGE_CHARS + 10);
    const event = pgSafeEvent(long, { reason: 'X' });
    expect(event.message.length).toBeLessThan(MAX_MESSAGE_CHARS + 40);
    expect(event.data).toEqual({ reason: 'X', fullMessage: long });
    expect(pgSafeEvent('short', undefined)).toEqual({ message: 'short', data: null });
  });

  it('recognises data errors by SQLSTATE', () => {
    expect(isDataError({ code: '22P05' })).toBe(true);
    expect(isDataError({ code: '54000' })).toBe(true);
    expect(isDataError({ code: '08006' })).toBe(false);
    expect(isDataError(new Error('x'))).toBe(false);
  });
});
