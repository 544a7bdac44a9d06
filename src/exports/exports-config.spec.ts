import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../config/app-config.js';
import { DocumentProgress } from '../cli/progress.js';
import { loadHubWorkspace } from '../hub/workspace.js';

describe('export configuration', () => {
  it('runs daily_export_metadata at 03:00 UTC unless EXPORT_METADATA_CRON says otherwise', async () => {
    const byDefault = await loadHubWorkspace(loadConfig({}));
    expect(byDefault.schedules.get('daily_export_metadata')).toMatchObject({
      cron: '0 3 * * *',
      timezone: 'UTC',
    });
    const configured = await loadHubWorkspace(loadConfig({ EXPORT_METADATA_CRON: '30 */6 * * *' }));
    expect(configured.schedules.get('daily_export_metadata')?.cron).toBe('30 */6 * * *');
    expect(configured.schedules.get('housekeeping_weekly')?.cron).toBe('0 3 * * 0');
  });

  it('refuses a cron that does not parse, naming the key', () => {
    let problems: readonly string[] = [];
    try {
      loadConfig({ EXPORT_METADATA_CRON: '0 3 * *' });
    } catch (error) {
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([
      expect.stringMatching(/^EXPORT_METADATA_CRON: cron "0 3 \* \*" must have five fields/),
    ]);
  });
});

describe('import progress', () => {
  it('draws a bar over the bytes read, with documents and documents/s', () => {
    const lines: string[] = [];
    const progress = new DocumentProgress(1000, (text) => lines.push(text), false);
    progress.update(10, 50);
    progress.update(2000, 500);
    progress.finish();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[#{12}\.{12}\] {2}50% {2}2,000 documents {2}[\d,]+ documents\/s\n$/);
    expect(lines[1]).toMatch(/^\[#{24}\] 100% {2}2,000 documents/);
  });
});
