// Code passed to page.evaluate runs in the browser.
/// <reference lib="dom" />
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildConsole } from '../scripts/build-console.js';
import { ADMIN, bearer, createSiteWithClient, passwordToken } from './support/auth.js';
import { launchBrowser, seriousViolations, type Browser } from './support/browser.js';
import { startTestHub, type TestHub } from './support/harness.js';
import { nmdcId, seed, study } from './support/metadata.js';
import { control } from './support/orchestrator-fixtures.js';
import { FAST_ORCHESTRATOR_ENV, waitFor } from './support/orchestrator.js';

const REGISTRY = fileURLToPath(new URL('./fixtures/registry.test.yaml', import.meta.url));
const CHANGESHEET_SENSORS = ['claim_and_run_apply_changesheet_jobs', 'process_workflow_job_triggers'];
// CONSOLE_SCREENSHOTS=1 refreshes the README's pictures in docs/console; otherwise they go to a temp dir.
const SHOTS_TO_DOCS = process.env.CONSOLE_SCREENSHOTS === '1';
/** A free loopback port in the range kept for the console's tests (31700–31799). */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 31700 + Math.floor(Math.random() * 100);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) {
      return port;
    }
  }
  throw new Error('no free port in 31700–31799');
}

const tsv = (...rows: string[]): string => `${['id\taction\tattribute\tvalue', ...rows].join('\n')}\n`;

describe('the console in Chromium, against the real hub', () => {
  let hub: TestHub;
  let browser: Browser;
  let page: Page;
  let admin: string;
  let shots: string;
  const axeReport: Record<string, number> = {};

  const base = (): string => hub.url as string;
  const api = async (method: string, url: string, body?: unknown, token = admin) => {
    const res = await fetch(`${base()}${url}`, {
      method,
      headers: { ...bearer(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) {
      throw new Error(`${method} ${url}: ${res.status} ${text}`);
    }
    return text ? JSON.parse(text) : undefined;
  };
  const waitForRunStatus = (status: string, timeout = 30_000) =>
    page.waitForFunction((s) => document.querySelector('dl.facts dd .status')?.textContent === s, status, {
      timeout,
    });
  /** Screenshot and accessibility check of the page as it is now. */
  const check = async (name: string): Promise<void> => {
    await page.screenshot({ path: join(shots, `${name}.png`) });
    const serious = await seriousViolations(page);
    axeReport[name] = serious.length;
    expect(serious, `${name}: ${JSON.stringify(serious, null, 1)}`).toEqual([]);
  };

  beforeAll(async () => {
    await buildConsole();
    shots = SHOTS_TO_DOCS
      ? fileURLToPath(new URL('../docs/console/', import.meta.url))
      : await mkdtemp(join(tmpdir(), 'rh-console-shots-'));
    await mkdir(shots, { recursive: true });
    // Signed download URLs name the public base URL, so the hub must listen where that says.
    const port = await freePort();
    hub = await startTestHub({
      listen: true,
      port,
      env: {
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        ...FAST_ORCHESTRATOR_ENV,
        REGISTRY_PATH: REGISTRY,
        ORCH_SENSOR_INTERVALS: JSON.stringify(Object.fromEntries(CHANGESHEET_SENSORS.map((s) => [s, 0.3]))),
      },
    });
    admin = await passwordToken(hub, ADMIN.username, ADMIN.password);
    browser = await launchBrowser();
    page = browser.page;
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base() });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await hub?.close();
    console.log(`console axe serious violations per page: ${JSON.stringify(axeReport)}`);
  });

  it('serves the console offline from the hub: every request stays on the hub', async () => {
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (
        !request.url().startsWith(base()) &&
        !request.url().startsWith('data:') &&
        !request.url().startsWith('blob:')
      ) {
        foreign.push(request.url());
      }
    });
    const home = await fetch(`${base()}/`);
    expect(await home.text()).toContain('href="/console"');
    await page.goto(`${base()}/console/runs?status=SUCCESS`);
    await page.getByLabel('Username').waitFor();
    expect(page.url()).toContain('/console/login?next=');
    await check('login');
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/console\/runs\?status=SUCCESS$/);
    await page.getByText('No runs match').waitFor();
    expect(foreign).toEqual([]);
  });

  it('launches hello from the launchpad: a bad config shows errors per key, a good one runs to SUCCESS live', async () => {
    await page.goto(`${base()}/console/jobs`);
    await page.getByRole('link', { name: 'hello' }).waitFor();
    await check('jobs');
    await page.getByRole('link', { name: 'hello' }).click();
    await page.locator('.graph g.node').first().waitFor();
    expect(await page.locator('.graph g.node').count()).toBe(6);
    await page
      .locator('#run-config')
      .fill('{"ops": {"generate_numbers": {"config": {"upTo": "ten", "extra": 1}}}}');
    await page.getByRole('button', { name: 'Launch run' }).click();
    const errors = page.locator('ul.errors li');
    await errors.first().waitFor();
    expect(await errors.evaluateAll((items) => items.map((i) => i.getAttribute('data-path')).sort())).toEqual(
      ['runConfig.ops.generate_numbers.config.extra', 'runConfig.ops.generate_numbers.config.upTo'],
    );
    await page.getByRole('button', { name: 'generate_numbers' }).click();
    await check('job-launchpad');
    // Nothing was launched by the bad config.
    expect((await api('GET', '/orchestrator/runs?job=hello')).resources).toEqual([]);

    await page.locator('#run-config').fill('{"ops": {"generate_numbers": {"config": {"upTo": 10}}}}');
    await page.locator('#run-tags').fill('team=console');
    await page.getByRole('button', { name: 'Launch run' }).click();
    await page.waitForURL(/\/console\/runs\/[0-9a-f-]{36}$/);
    await page.evaluate(() => ((window as unknown as { stillThisPage: boolean }).stillThisPage = true));
    await waitForRunStatus('SUCCESS');
    expect(await page.evaluate(() => (window as unknown as { stillThisPage?: boolean }).stillThisPage)).toBe(
      true,
    );
    await page.locator('.log-row[data-type="RUN_SUCCESS"]').waitFor();
    await page.locator('.stream-ended').waitFor();
    const runId = page.url().split('/').pop() as string;
    const { resources: events } = await api('GET', `/orchestrator/runs/${runId}/events?limit=1000`);
    expect(Number(await page.locator('.event-log').getAttribute('data-total'))).toBe(events.length);
    expect(await page.locator('.gantt-row[data-step]').count()).toBe(6);
    expect(await page.locator('.gantt .bar-success').count()).toBe(6);
    await check('run-timeline');

    await page.locator('#log-title').scrollIntoViewIfNeeded();
    await page.getByLabel('Type').selectOption('LOGS');
    await page.locator('.log-row[data-type="LOGS"]').first().waitFor();
    expect(await page.locator('.log-row:not([data-type="LOGS"])').count()).toBe(0);
    await page.getByLabel('Search').fill('add up to 55');
    await page.waitForFunction(
      () => document.querySelector('.event-log')?.getAttribute('data-count') === '1',
    );
    expect(page.url()).toContain('type=LOGS');

    await page.getByRole('tab', { name: 'Graph' }).click();
    await page.locator('.graph g.node[data-state="success"]').first().waitFor();
    expect(await page.locator('.graph g.node[data-state="success"]').count()).toBe(6);
    await check('run-graph');

    await page.goto(`${base()}/console/runs`);
    await page.locator(`tr[data-run="${runId}"][data-status="SUCCESS"]`).waitFor();
    expect(await page.locator(`tr[data-run="${runId}"]`).textContent()).toContain('team=console');
    await check('runs');
    await page.locator(`tr[data-run="${runId}"] a`).click();
    await page.waitForURL(new RegExp(`/console/runs/${runId}$`));
    await waitForRunStatus('SUCCESS');
  });

  it('shows retries as bars on the timeline, and says so when a run does not exist', async () => {
    const run = await api('POST', '/orchestrator/jobs/flaky_job/runs', {});
    await page.goto(`${base()}/console/runs/${run.runId}`);
    await waitForRunStatus('SUCCESS');
    const bars = page.locator('.gantt-row[data-step="flaky"] .bar');
    await page.locator('.gantt-row[data-step="flaky"] .bar-success').waitFor();
    expect(await bars.evaluateAll((all) => all.map((b) => b.getAttribute('data-outcome')))).toEqual([
      'retry',
      'retry',
      'success',
    ]);
    await page.goto(`${base()}/console/runs/00000000-0000-4000-8000-000000000000`);
    await page.getByRole('alert').getByText('(404)').waitFor();
  });

  it('cancels a slow run from its page, after the runs page showed it arrive without a reload', async () => {
    await page.goto(`${base()}/console/runs?job=slow_job`);
    await page.getByText('No runs match').waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    const run = await api('POST', '/orchestrator/jobs/slow_job/runs', {
      runConfig: { ops: { wait: { config: { ms: 60_000 } } } },
    });
    await page.locator(`tr[data-run="${run.runId}"]`).waitFor();
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.locator(`tr[data-run="${run.runId}"] a`).click();
    await page.waitForURL(new RegExp(`/console/runs/${run.runId}$`));
    await waitForRunStatus('STARTED');
    await page.locator('.gantt .bar-running').waitFor();
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await waitForRunStatus('CANCELED');
    expect((await api('GET', `/orchestrator/runs/${run.runId}`)).status).toBe('CANCELED');
  });

  it('re-executes a failed run from failure: only the failed step runs again', async () => {
    control.failSecondStep = true;
    control.executions.clear();
    const failed = await api('POST', '/orchestrator/jobs/fixable_job/runs', {});
    await waitFor('fixable_job to fail', async () =>
      (await api('GET', `/orchestrator/runs/${failed.runId}`)).status === 'FAILURE' ? true : undefined,
    );
    control.failSecondStep = false;
    await page.goto(`${base()}/console/runs/${failed.runId}?view=graph`);
    await waitForRunStatus('FAILURE');
    await page.locator('.graph g.node[data-node="second"][data-state="failure"]').waitFor();
    await page.getByRole('button', { name: 'Re-execute from failure' }).click();
    await page.waitForURL((url) => !url.pathname.endsWith(failed.runId));
    await waitForRunStatus('SUCCESS');
    await page.getByRole('tab', { name: 'Graph' }).click();
    await page.locator('.graph g.node[data-node="second"][data-state="success"]').waitFor();
    expect(await page.locator('.graph g.node[data-node="first"]').getAttribute('data-state')).toBe('reused');
    expect(await page.locator('dl.facts').textContent()).toContain('Parent run');
    expect(control.executions.get('first')).toBe(1);
    expect(control.executions.get('second')).toBe(2);
  });

  it('starts and stops a sensor and shows its ticks, with the runs they requested and skip reasons', async () => {
    await page.goto(`${base()}/console/automation`);
    const row = page.locator('tr[data-sensor="cursor_sensor"]');
    await row.waitFor();
    await page.getByRole('button', { name: 'Start cursor_sensor' }).click();
    await page.locator('tr[data-sensor="cursor_sensor"][data-status="RUNNING"]').waitFor();
    await page.getByRole('button', { name: 'Start every_minute' }).click();
    const schedule = page.locator('tr[data-schedule="every_minute"][data-status="RUNNING"]');
    await schedule.waitFor();
    expect(await schedule.textContent()).toContain('* * * * * UTC');
    await check('sensors-schedules');
    await page.getByRole('button', { name: 'Stop every_minute' }).click();
    await page.locator('tr[data-schedule="every_minute"][data-status="STOPPED"]').waitFor();
    await page.getByRole('link', { name: 'cursor_sensor' }).click();
    await page.locator('tr[data-tick][data-status="SKIPPED"]').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('tr[data-tick][data-status="SKIPPED"]').first().textContent()).toContain(
      'caught up',
    );
    expect(
      await page.locator('tr[data-tick][data-status="SUCCESS"] a.run-link').count(),
    ).toBeGreaterThanOrEqual(1);
    await page.getByRole('button', { name: 'Stop cursor_sensor' }).click();
    await page.getByRole('button', { name: 'Start cursor_sensor' }).waitFor();
    expect((await api('GET', '/orchestrator/sensors/cursor_sensor')).status).toBe('STOPPED');
    await check('sensor');
  });

  it('checks a changesheet by row, submits it, shows it applied with its diff, and reverts it', async () => {
    await seed(hub, { study_set: [study(1)] });
    const id = nmdcId('sty', 1);
    await page.goto(`${base()}/console/changesheets`);
    await page.getByText('No changesheet has been submitted').waitFor();
    const file = page.locator('input[type="file"]');
    await file.setInputFiles({
      name: 'bad.tsv',
      mimeType: 'text/tab-separated-values',
      buffer: Buffer.from(tsv(`${id}\tupdate\tno_such_slot\tx`, `nmdc:sty-11-zzzzzzzz\tupdate\tname\tY`)),
    });
    await page.locator('.sheet-errors tr[data-row]').first().waitFor();
    expect(await page.locator('.sheet-errors tr[data-row]').count()).toBe(2);
    await file.setInputFiles({
      name: 'rename.tsv',
      mimeType: 'text/tab-separated-values',
      buffer: Buffer.from(tsv(`${id}\tupdate\tname\tStudy one, renamed in the console`)),
    });
    await page.locator('.sheet-valid .diff').waitFor();
    await check('changesheet-check');
    await page.getByRole('button', { name: 'Submit rename.tsv' }).click();
    await page.waitForURL(/\/console\/changesheets\/[^/]+$/);
    await waitForRunStatus('applied', 60_000);
    const diff = page.locator(`.diff[data-doc="${id}"]`);
    await page.waitForFunction(
      () => document.querySelector('.diff-table td.del pre')?.textContent === '"Study 1"',
    );
    expect(await diff.locator('td.ins pre').textContent()).toBe('"Study one, renamed in the console"');
    await check('changesheet');
    await page.getByRole('button', { name: 'Revert' }).click();
    await waitForRunStatus('reverted');
    expect((await api('GET', `/metadata/ids/${id}`)).name).toBe('Study 1');
    await page.goto(`${base()}/console/changesheets?status=reverted`);
    await page.locator('tr[data-sheet][data-status="reverted"]').waitFor();
    await check('changesheets');
  });

  it('shows a site job with its claim and operation', async () => {
    const site = await createSiteWithClient(hub, admin, 'console-site', ['test']);
    const job = await api(
      'POST',
      '/jobs',
      { workflow: { id: 'test' }, config: { input: 'reads.fastq' } },
      site.token,
    );
    const op = await api('POST', `/jobs/${job.id}:claim`, undefined, site.token);
    await api('PATCH', `/operations/${op.id}`, { metadata: { progress: 40 } }, site.token);
    await page.goto(`${base()}/console/site-jobs?workflow=test`);
    await page.locator(`tr[data-job="${job.id}"]`).waitFor();
    await check('site-jobs');
    await page.getByRole('link', { name: job.id }).click();
    const claim = page.locator(`tr[data-claim="${op.id}"]`);
    await claim.waitFor();
    expect(await claim.textContent()).toContain('console-site');
    await page.waitForFunction(() => !document.querySelector('tr[data-claim]')?.textContent?.includes('…'));
    expect(await claim.textContent()).toContain('running');
    await check('site-job');
  });

  it('finds an object, copies its drs:// URI and downloads it', async () => {
    const site = await createSiteWithClient(hub, admin, 'console-objects', ['test']);
    const form = new FormData();
    form.append('description', 'notes for the console test');
    form.append(
      'file',
      new Blob(['hello from the console test\n'], { type: 'text/plain' }),
      'console-notes.txt',
    );
    const res = await fetch(`${base()}/objects:upload`, {
      method: 'POST',
      body: form,
      headers: bearer(site.token),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const object = (await res.json()) as { id: string; self_uri: string };
    await page.goto(`${base()}/console/objects`);
    await page.getByLabel('Name, description or id').fill('console-NOTES');
    await page.getByLabel('Name, description or id').press('Enter');
    await page.locator(`tr[data-object="${object.id}"]`).waitFor();
    expect(page.url()).toContain('q=console-NOTES');
    await check('objects');
    await page.getByRole('link', { name: object.id }).click();
    await page.getByRole('button', { name: 'Copy drs:// URI' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(object.self_uri);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download' }).click(),
    ]);
    expect(await readFile(await download.path())).toEqual(Buffer.from('hello from the console test\n'));
    await check('object');

    const bundle = await api(
      'POST',
      '/objects',
      { name: 'console-bundle', contents: [{ name: 'notes.txt', id: object.id }] },
      site.token,
    );
    await page.goto(`${base()}/console/objects/${bundle.id}`);
    await page.locator('.tree').getByRole('link', { name: 'notes.txt' }).click();
    await page.waitForURL(new RegExp(`/console/objects/${object.id}$`));
  });

  it('is usable on a narrow window, and logging out revokes the token', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    await page.goto(`${base()}/console/runs`);
    await page.locator('tr[data-run]').first().waitFor();
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Objects' }).waitFor();
    await check('narrow-menu');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Objects' }).waitFor({ state: 'hidden' });
    await check('narrow-runs');
    await page.setViewportSize({ width: 1280, height: 800 });
    const token = await page.evaluate(() => sessionStorage.getItem('runtime-hub.console.token'));
    expect(token).toBeTruthy();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByLabel('Username').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('runtime-hub.console.token'))).toBeNull();
    const after = await fetch(`${base()}/users/me`, { headers: bearer(token as string) });
    expect(after.status).toBe(401);
  });
});
