export type RangeRequest =
  | { readonly kind: 'whole' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/;

/**
 * Interprets a `Range` header against a representation of `size` bytes (RFC 9110 §14). Only one range is
 * served; a header this cannot honour (several ranges, another unit, bad syntax) is ignored and the whole
 * representation is sent, which the RFC allows.
 */
export function parseByteRange(header: string | undefined, size: number): RangeRequest {
  if (!header) {
    return { kind: 'whole' };
  }
  const match = SINGLE_RANGE.exec(header.trim().replace(/\s+/g, ''));
  if (!match) {
    return { kind: 'whole' };
  }
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') {
    return { kind: 'whole' };
  }
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) {
      return { kind: 'unsatisfiable' };
    }
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Number.MAX_SAFE_INTEGER : Number(last);
  if (end < start) {
    return { kind: 'whole' };
  }
  if (start >= size) {
    return { kind: 'unsatisfiable' };
  }
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}
