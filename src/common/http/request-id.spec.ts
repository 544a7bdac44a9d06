import type { IncomingMessage } from 'node:http';

import { describe, expect, it } from 'vitest';

import { mintRequestId, requestIdOf } from './request-id.js';

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const withHeader = (value?: string): IncomingMessage =>
  ({ headers: value === undefined ? {} : { 'x-request-id': value } }) as IncomingMessage;

describe('request ids', () => {
  it('mints UUID-shaped ids, none repeated', () => {
    const ids = Array.from({ length: 10_000 }, () => mintRequestId());
    for (const id of ids.slice(0, 100)) {
      expect(id).toMatch(UUID_SHAPE);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps a well-formed incoming id and replaces a malformed or missing one', () => {
    expect(requestIdOf(withHeader('client-trace.42'))).toBe('client-trace.42');
    expect(requestIdOf(withHeader('bad id\twith spaces'))).toMatch(UUID_SHAPE);
    expect(requestIdOf(withHeader('x'.repeat(129)))).toMatch(UUID_SHAPE);
    expect(requestIdOf(withHeader())).toMatch(UUID_SHAPE);
  });
});
