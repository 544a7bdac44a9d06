import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { DEV_JWT_SECRET, DEV_URL_SIGNING_KEY, loadConfig } from './app-config.js';
import { withDevelopmentSecrets } from './dev-secrets.store.js';

describe('withDevelopmentSecrets', () => {
  const dirs: string[] = [];
  const fileIn = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'rh-secrets-'));
    dirs.push(dir);
    return join(dir, 'data', 'dev-secrets.json');
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('generates random secrets for this install on first start, private to its owner, and keeps them', () => {
    const file = fileIn();
    const first = withDevelopmentSecrets({ DEV_SECRETS_FILE: file });
    expect(first.created).toBe(true);
    expect(first.fromFile).toEqual(['JWT_SECRET', 'URL_SIGNING_KEY']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const config = loadConfig(first.env);
    expect(config.secrets.jwtSecret).not.toBe(DEV_JWT_SECRET);
    expect(config.secrets.urlSigningKey).not.toBe(DEV_URL_SIGNING_KEY);
    expect(config.secrets.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(config.secrets.jwtSecret).not.toBe(config.secrets.urlSigningKey);

    const again = withDevelopmentSecrets({ DEV_SECRETS_FILE: file });
    expect(again.created).toBe(false);
    expect(again.env.JWT_SECRET).toBe(first.env.JWT_SECRET);
    expect(withDevelopmentSecrets({ DEV_SECRETS_FILE: fileIn() }).env.JWT_SECRET).not.toBe(
      first.env.JWT_SECRET,
    );
  });

  it('keeps secrets the environment sets, and generates nothing in production', () => {
    const file = fileIn();
    const own = 'an-operator-chosen-secret-of-32-characters';
    const partly = withDevelopmentSecrets({ DEV_SECRETS_FILE: file, JWT_SECRET: own });
    expect(partly.env.JWT_SECRET).toBe(own);
    expect(partly.fromFile).toEqual(['URL_SIGNING_KEY']);

    const production = withDevelopmentSecrets({ NODE_ENV: 'production', DEV_SECRETS_FILE: fileIn() });
    expect(production.fromFile).toEqual([]);
    expect(production.env.JWT_SECRET).toBeUndefined();
  });

  it('refuses a secrets file it cannot use instead of falling back to a public secret', () => {
    const file = fileIn();
    withDevelopmentSecrets({ DEV_SECRETS_FILE: file });
    const written = readFileSync(file, 'utf8');
    expect(written).toMatch(/JWT_SECRET/);
    rmSync(file);
    const broken = fileIn();
    withDevelopmentSecrets({ DEV_SECRETS_FILE: broken });
    writeFileSync(broken, '{"JWT_SECRET":"short"}');
    expect(() => withDevelopmentSecrets({ DEV_SECRETS_FILE: broken })).toThrow(/delete it to regenerate/);
  });
});
