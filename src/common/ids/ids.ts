import { randomInt } from 'node:crypto';

/** Crockford base32 in lower case: no i, l, o or u, so ids survive being read aloud or retyped. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const DECODE = new Map([...ALPHABET].map((char, index) => [char, index]));

/** ISO 7064 mod 97-10 (DataCite variant) over the blade's integer value: two decimal digits. */
export function checkDigits(value: bigint): string {
  const check = 97n - ((100n * value) % 97n) + 1n;
  return check.toString().padStart(2, '0');
}

export function decodeBlade(chars: string): bigint | undefined {
  let value = 0n;
  for (const char of chars) {
    const digit = DECODE.get(char);
    if (digit === undefined) {
      return undefined;
    }
    value = value * 32n + BigInt(digit);
  }
  return value;
}

/**
 * Mints an internal id such as `sys0xsry7042`: a shoulder, `length` random Crockford base32 characters
 * and two check digits. Uniqueness is enforced by the unique index of the collection the id goes into;
 * callers retry on the (astronomically rare) duplicate.
 */
export function mintId(shoulder = 'sys0', length = 8): string {
  let blade = '';
  for (let i = 0; i < length; i++) {
    blade += ALPHABET[randomInt(32)];
  }
  const value = decodeBlade(blade) ?? 0n;
  return `${shoulder}${blade}${checkDigits(value)}`;
}

const ID_PATTERN = /^([a-z]{3}\d)([0-9a-hjkmnp-tv-z]{2,12})(\d{2})$/;

/** True when `id` has the shape of a minted id and its check digits match. */
export function isValidMintedId(id: string): boolean {
  const match = ID_PATTERN.exec(id);
  if (!match) {
    return false;
  }
  const value = decodeBlade(match[2] ?? '');
  return value !== undefined && checkDigits(value) === match[3];
}
