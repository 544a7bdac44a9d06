import { readFileSync } from 'node:fs';

interface PackageInfo {
  readonly name: string;
  readonly version: string;
}

let cached: PackageInfo | undefined;

/** The hub's own package.json, found relative to this file so it works from `src/` and `dist/` alike. */
export function packageInfo(): PackageInfo {
  if (!cached) {
    const raw = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const parsed = JSON.parse(raw) as { name: string; version: string };
    cached = Object.freeze({ name: parsed.name, version: parsed.version });
  }
  return cached;
}
