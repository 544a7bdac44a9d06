import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from './app-config.js';

describe('orchestrator configuration', () => {
  it("defaults to Dagster's limits and timeouts", () => {
    const { orchestrator } = loadConfig({});
    expect(orchestrator).toMatchObject({
      maxConcurrentRuns: 10,
      tagConcurrencyLimits: [],
      startTimeoutMs: 180_000,
      cancelTimeoutMs: 180_000,
      maxResumeAttempts: 3,
      maxCatchupRuns: 1,
      codeLocations: [],
    });
  });

  it('parses tag concurrency limits and code locations', () => {
    const { orchestrator } = loadConfig({
      ORCH_TAG_CONCURRENCY_LIMITS:
        '[{"key":"db","value":"mongo","limit":1},{"key":"team","perUniqueValue":true,"limit":2}]',
      ORCH_CODE_LOCATIONS: 'a.js, b.js',
    });
    expect(orchestrator.tagConcurrencyLimits).toEqual([
      { key: 'db', value: 'mongo', limit: 1 },
      { key: 'team', perUniqueValue: true, limit: 2 },
    ]);
    expect(orchestrator.codeLocations).toEqual(['a.js', 'b.js']);
  });

  it('names every bad orchestrator key', () => {
    let problems: readonly string[] = [];
    try {
      loadConfig({
        ORCH_TAG_CONCURRENCY_LIMITS: '[{"key":"db"}]',
        ORCH_MAX_CONCURRENT_RUNS: '-5',
        ORCH_HEARTBEAT_INTERVAL_MS: '5000',
        ORCH_WORKER_TIMEOUT_MS: '1000',
      });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems.map((p) => p.split(/[:[]/)[0])).toEqual([
      'ORCH_MAX_CONCURRENT_RUNS',
      'ORCH_TAG_CONCURRENCY_LIMITS',
      'ORCH_WORKER_TIMEOUT_MS',
    ]);
  });
});
