import { readFileSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { CONFIG_KEYS, loadConfig } from './app-config.js';

interface ExampleEntry {
  readonly key: string;
  readonly value: string;
  /** Written as `# KEY=` so that copying the file keeps the built-in behaviour (secrets, derived values). */
  readonly commentedOut: boolean;
  readonly previousLine: string;
}

const ENTRY = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/;

function readExample(): ExampleEntry[] {
  const lines = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8').split('\n');
  const entries: ExampleEntry[] = [];
  lines.forEach((line, index) => {
    const match = ENTRY.exec(line.trim());
    if (match) {
      entries.push({
        key: match[2]!,
        value: match[3]!,
        commentedOut: match[1] !== undefined,
        previousLine: lines[index - 1]?.trim() ?? '',
      });
    }
  });
  return entries;
}

describe('.env.example', () => {
  const entries = readExample();
  const keys = entries.map((entry) => entry.key);

  it('derives the config keys from the schema, optional ones included', () => {
    expect(CONFIG_KEYS).toEqual(expect.arrayContaining(['NODE_ENV', 'LOG_PRETTY', 'GIT_COMMIT']));
    expect(new Set(CONFIG_KEYS).size).toBe(CONFIG_KEYS.length);
  });

  it('lists every key of the config schema exactly once', () => {
    const missing = CONFIG_KEYS.filter((key) => !keys.includes(key));
    const repeated = keys.filter((key, index) => keys.indexOf(key) !== index);
    expect({ missing, repeated }).toEqual({ missing: [], repeated: [] });
  });

  it('lists no key that neither the hub nor the set-up script reads', () => {
    // A few keys choose how scripts/setup.sh starts the local services; .env is where users set them too.
    const setup = readFileSync(new URL('../../scripts/setup.sh', import.meta.url), 'utf8');
    const unread = keys.filter(
      (key) => !CONFIG_KEYS.includes(key) && !new RegExp(`\\$\\{?${key}\\b`).test(setup),
    );
    expect(unread).toEqual([]);
  });

  it('gives each key a one-line comment above it', () => {
    const uncommented = entries
      .filter(({ previousLine }) => !previousLine.startsWith('#') || ENTRY.test(previousLine))
      .map(({ key }) => key);
    expect(uncommented).toEqual([]);
  });

  it('shows the built-in defaults, so copying it to .env changes nothing', () => {
    const active = Object.fromEntries(
      entries.filter(({ commentedOut }) => !commentedOut).map(({ key, value }) => [key, value]),
    );
    expect(loadConfig(active)).toEqual(loadConfig({}));
  });

  it('leaves the secrets commented out', () => {
    const secrets = entries.filter(({ key }) => key === 'JWT_SECRET' || key === 'URL_SIGNING_KEY');
    expect(secrets.map(({ commentedOut, value }) => ({ commentedOut, value }))).toEqual([
      { commentedOut: true, value: '' },
      { commentedOut: true, value: '' },
    ]);
  });
});
