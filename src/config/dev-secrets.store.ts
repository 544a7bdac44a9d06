import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const DEFAULT_DEV_SECRETS_FILE = './data/dev-secrets.json';

const SECRET_KEYS = ['JWT_SECRET', 'URL_SIGNING_KEY'] as const;
type SecretKey = (typeof SECRET_KEYS)[number];

export interface DevelopmentSecrets {
  /** The environment with JWT_SECRET and URL_SIGNING_KEY filled in from this install's secrets file. */
  readonly env: Record<string, string | undefined>;
  /** The keys taken from the file, and whether the file was written just now. */
  readonly fromFile: readonly SecretKey[];
  readonly created: boolean;
  readonly file?: string;
}

function isSecrets(value: unknown): value is Record<SecretKey, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    SECRET_KEYS.every((key) => {
      const secret = (value as Record<string, unknown>)[key];
      return typeof secret === 'string' && secret.length >= 32;
    })
  );
}

/** Reads the install's secrets, writing them first if absent; safe when several processes start at once. */
function readOrCreate(file: string): { secrets: Record<SecretKey, string>; created: boolean } {
  try {
    const existing: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (isSecrets(existing)) {
      return { secrets: existing, created: false };
    }
    throw new Error(
      `${file} does not hold JWT_SECRET and URL_SIGNING_KEY of 32+ characters; delete it to regenerate`,
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw error;
    }
  }
  const secrets = {
    JWT_SECRET: randomBytes(48).toString('base64url'),
    URL_SIGNING_KEY: randomBytes(48).toString('base64url'),
  };
  mkdirSync(dirname(file), { recursive: true });
  // Written aside, then linked into place: link fails if another process got there first, and nobody
  // ever reads a half-written file.
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  try {
    linkSync(temporary, file);
    return { secrets, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw error;
    }
    return readOrCreate(file);
  } finally {
    unlinkSync(temporary);
  }
}

/**
 * Outside production, a secret left unset comes from a file of random secrets generated for this install
 * on first start (DEV_SECRETS_FILE, in the local data directory) instead of the public built-in value,
 * so nobody can forge this install's tokens or signed URLs from the source code. Production must set
 * both secrets itself (loadConfig refuses otherwise), so nothing is generated there.
 */
export function withDevelopmentSecrets(
  source: Readonly<Record<string, string | undefined>>,
): DevelopmentSecrets {
  const missing = SECRET_KEYS.filter((key) => !source[key]);
  if (source.NODE_ENV === 'production' || missing.length === 0) {
    return { env: { ...source }, fromFile: [], created: false };
  }
  const file = source.DEV_SECRETS_FILE || DEFAULT_DEV_SECRETS_FILE;
  const { secrets, created } = readOrCreate(file);
  const env: Record<string, string | undefined> = { ...source };
  for (const key of missing) {
    env[key] = secrets[key];
  }
  return { env, fromFile: missing, created, file };
}
