import { BadRequestError } from '../errors/domain-errors.js';
import { checkDigits, decodeBlade, mintId } from './ids.js';

/**
 * NMDC-style schema ids: `<prefix>:<typecode>-<shoulder>-<blade>[.<version>][_<locus>]`, e.g.
 * `nmdc:bsm-11-0pyv7738` or `nmdc:wfmgas-11-abc12345.1`. The shape is the NMDC minter's validation regex
 * with the prefix generalised; the prefix and typecodes themselves come from the metadata schema.
 */
const SCHEMA_ID =
  /^([a-z][a-z0-9_]{0,19}):([a-z]{1,6})-([0-9][a-z]{0,6}[0-9])-([A-Za-z0-9]+)((?:\.[A-Za-z0-9]+)*)(_[A-Za-z0-9_.-]+)?$/;

export const SCHEMA_ID_SYNTAX = '<prefix>:<typecode>-<shoulder>-<blade>[.<version>][_<locus>]';

export interface SchemaId {
  readonly prefix: string;
  readonly typecode: string;
  readonly shoulder: string;
  readonly blade: string;
  /** The `.N` suffix workflow execution ids carry, without the dot. */
  readonly version?: string;
  readonly locus?: string;
}

export function parseSchemaId(id: string): SchemaId | undefined {
  const match = SCHEMA_ID.exec(id);
  if (!match) {
    return undefined;
  }
  const [, prefix = '', typecode = '', shoulder = '', blade = '', version = '', locus] = match;
  return {
    prefix,
    typecode,
    shoulder,
    blade,
    ...(version ? { version: version.slice(1) } : {}),
    ...(locus ? { locus: locus.slice(1) } : {}),
  };
}

/** Parses an id a caller sent, or answers 400 saying what shape it must have. */
export function requireSchemaId(id: string): SchemaId {
  const parsed = parseSchemaId(id);
  if (!parsed) {
    throw new BadRequestError(
      `${JSON.stringify(id)} is not a schema id; expected ${SCHEMA_ID_SYNTAX}, e.g. nmdc:bsm-11-0pyv7738`,
      { errors: [{ path: 'id', message: 'malformed id' }], code: 'invalid_id' },
    );
  }
  return parsed;
}

/**
 * True when the blade's last two digits are the mod 97-10 check digits of the rest, which is how this
 * hub's minter (and NMDC's) builds blades; a mistyped id fails the check.
 */
export function bladeChecksOut(blade: string): boolean {
  const match = /^([0-9a-hjkmnp-tv-z]+)(\d{2})$/.exec(blade);
  if (!match) {
    return false;
  }
  const value = decodeBlade(match[1] ?? '');
  return value !== undefined && checkDigits(value) === match[2];
}

/** A fresh id: six random Crockford base32 characters and two check digits, as the NMDC minter makes. */
export function mintSchemaId(prefix: string, typecode: string, shoulder: string): string {
  return `${prefix}:${typecode}-${shoulder}-${mintId('', 6)}`;
}
