import { describe, expect, it } from 'vitest';

import { ConfigError, DEV_JWT_SECRET, loadConfig } from './app-config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('works on local defaults', () => {
    const config = loadConfig({});
    expect(config.role).toBe('all');
    expect(config.http.port).toBe(8000);
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.http.bodyLimitBytes).toBe(10 * 1024 * 1024);
    expect(config.blobs.dir).toBe('./data/blobs');
    expect(config.log.pretty).toBe(true);
  });

  it('reads typed values', () => {
    const config = loadConfig({
      PORT: '9001',
      APP_ROLE: 'worker',
      TRUST_PROXY: 'true',
      LOG_PRETTY: 'no',
      PUBLIC_BASE_URL: 'https://hub.example.org/',
    });
    expect(config.http.port).toBe(9001);
    expect(config.role).toBe('worker');
    expect(config.http.trustProxy).toBe(true);
    expect(config.log.pretty).toBe(false);
    expect(config.http.publicBaseUrl).toBe('https://hub.example.org');
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ PORT: '' }).http.port).toBe(8000);
  });

  it('names every bad key in one error', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      APP_ROLE: 'scheduler',
      MONGO_URL: 'http://nope',
      DATABASE_URL: 'mysql://x',
      REDIS_URL: 'tcp://x',
      PG_SCHEMA: 'Bad-Schema',
      TRUST_PROXY: 'maybe',
      LOG_LEVEL: 'loud',
    });
    const keys = problems.map((p) => p.split(':', 1)[0]);
    expect(keys.sort()).toEqual(
      [
        'APP_ROLE',
        'DATABASE_URL',
        'LOG_LEVEL',
        'MONGO_URL',
        'PG_SCHEMA',
        'PORT',
        'REDIS_URL',
        'TRUST_PROXY',
      ].sort(),
    );
    expect(problems.join('\n')).toContain('(got "eighty")');
  });

  it('never echoes secret or URL values in its messages', () => {
    const problems = problemsOf({ JWT_SECRET: 'short-secret', MONGO_URL: 'http://user:pw@host' });
    expect(problems.join('\n')).not.toContain('short-secret');
    expect(problems.join('\n')).not.toContain('pw@host');
  });

  it('refuses to start in production with development secrets or none', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems.some((p) => p.startsWith('JWT_SECRET'))).toBe(true);
    expect(problems.some((p) => p.startsWith('URL_SIGNING_KEY'))).toBe(true);
    const again = problemsOf({
      NODE_ENV: 'production',
      JWT_SECRET: DEV_JWT_SECRET,
      URL_SIGNING_KEY: 'x'.repeat(40),
    });
    expect(again).toHaveLength(1);
    expect(again[0]).toMatch(/^JWT_SECRET/);
  });

  it('starts in production with real secrets', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: 'a'.repeat(40),
      URL_SIGNING_KEY: 'b'.repeat(40),
    });
    expect(config.env).toBe('production');
    expect(config.log.pretty).toBe(false);
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
    expect(() => {
      (config.http as { port: number }).port = 1;
    }).toThrow();
  });
});
