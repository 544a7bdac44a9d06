import { describe, expect, it } from 'vitest';

import { withFieldsSet, withFieldsUnset } from './document-changes.js';

describe('document changes', () => {
  it('sets top-level and dotted fields on a copy', () => {
    const doc = { a: 1, metadata: { x: 1 }, at: new Date(0) };
    const next = withFieldsSet(doc, { a: 2, 'metadata.y': 3, 'deep.er': true });
    expect(next).toEqual({ a: 2, metadata: { x: 1, y: 3 }, deep: { er: true }, at: new Date(0) });
    expect(doc).toEqual({ a: 1, metadata: { x: 1 }, at: new Date(0) });
  });

  it('unsets top-level and dotted fields on a copy, ignoring missing ones', () => {
    const doc = { a: 1, b: 2, metadata: { x: 1, y: 2 } };
    expect(withFieldsUnset(doc, ['b', 'metadata.y', 'none.here'])).toEqual({ a: 1, metadata: { x: 1 } });
    expect(doc.b).toBe(2);
  });
});
