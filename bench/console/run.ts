/// <reference lib="dom" />
/**
 * The console in Debian's Chromium against a real hub (production build):
 *   1. first load: the compressed bytes of JS and CSS the browser fetches for /console (target < 300 KB);
 *   2. the runs page with 1,000 runs: from the last API answer to the table laid out (target < 200 ms);
 *      a page that long puts only the rows in view in the DOM (spacer rows stand for the rest), so the
 *      bare baseline measured in the same page, all 1,000 rows as one innerHTML table, is what the
 *      console would cost without that window;
 *   3. the event log at 1,000 events/s: a run that logs 5,000 messages at that rate, followed live over
 *      SSE; every event must be shown (none dropped) and the tail must keep up.
 * The runs list is answered by the browser's request interception with 1,000 generated runs, so that the
 * figure measures the console's rendering, not the time to create runs. BENCH_CONSOLE_EVENTS changes the
 * messages of the event log (1,000–100,000, default 5,000); any other value stops the bench at once.
 */
import { fileURLToPath } from 'node:url';

import type { Page, Route } from 'playwright-core';

import { launchBrowser } from '../../test/support/browser.js';
import { BENCH_ADMIN, BENCH_ADMIN_ENV, fetchToken } from '../lib/auth.js';
import { startHub } from '../lib/hub.js';
import { reportResults, runBenchmark } from '../lib/report.js';
import { benchInteger } from '../lib/settings.js';

const NAME = 'console';
const FIRST_LOAD_BUDGET = 300 * 1024;
const RUNS = 1000;
const RENDER_BUDGET_MS = 200;
const EVENTS_PER_SECOND = 1000;
/** At least one second of logging, so the rate means something; at most 100 s of it. */
const EVENTS = benchInteger('BENCH_CONSOLE_EVENTS', 5000, EVENTS_PER_SECOND, 100_000);
const TAIL_LAG_BUDGET_MS = 2000;
const ROUNDS = 5;

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function fakeRuns(count: number, offset: number): unknown[] {
  const statuses = ['SUCCESS', 'FAILURE', 'STARTED', 'QUEUED', 'CANCELED'];
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => {
    const n = offset + i;
    const created = new Date(now - n * 60_000).toISOString();
    return {
      runId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      jobName: ['hello', 'apply_changesheet', 'export_metadata', 'housekeeping'][n % 4],
      status: statuses[n % statuses.length],
      runConfig: {},
      tags: { team: `team-${n % 7}`, 'dagster/priority': String(n % 3) },
      instigatorType: n % 3 === 0 ? 'sensor' : 'manual',
      ...(n % 3 === 0 ? { instigatorName: 'claim_and_run_apply_changesheet_jobs' } : {}),
      priority: 0,
      resumeAttempts: 0,
      createdAt: created,
      updatedAt: created,
      startTime: created,
      ...(n % 5 === 2 || n % 5 === 3 ? {} : { endTime: new Date(now - n * 60_000 + 4_321).toISOString() }),
    };
  });
}

/** Answers the runs list with pages of generated runs: 500 per page (the API's maximum), 1,000 in all. */
async function serveFakeRuns(route: Route): Promise<void> {
  const url = new URL(route.request().url());
  const offset = Number(url.searchParams.get('page_token') ?? 0);
  const size = Number(url.searchParams.get('max_page_size') ?? 20);
  const count = Math.max(0, Math.min(size, RUNS - offset));
  const next = offset + count < RUNS ? { next_page_token: String(offset + count) } : {};
  await route.fulfill({
    contentType: 'application/json',
    body: JSON.stringify({ resources: fakeRuns(count, offset), ...next }),
  });
}

async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(`${url}/console/login`);
  await page.evaluate(
    ([t, u]) => {
      sessionStorage.setItem('runtime-hub.console.token', t!);
      sessionStorage.setItem('runtime-hub.console.user', u!);
    },
    [token, BENCH_ADMIN.username],
  );
}

async function firstLoad(
  page: Page,
  url: string,
): Promise<{ js: number; css: number; total: number; encoding: string }> {
  const sizes = { js: 0, css: 0 };
  const encodings = new Set<string>();
  const onResponse = async (response: import('playwright-core').Response): Promise<void> => {
    const path = new URL(response.url()).pathname;
    if (!path.startsWith('/console/assets/')) {
      return;
    }
    const headers = await response.allHeaders();
    encodings.add(headers['content-encoding'] ?? 'identity');
    const sizesOf = await response.request().sizes();
    const bytes = sizesOf.responseBodySize;
    if (path.endsWith('.js')) {
      sizes.js += bytes;
    } else if (path.endsWith('.css')) {
      sizes.css += bytes;
    }
  };
  page.on('response', (r) => void onResponse(r));
  await page.goto(`${url}/console/login`, { waitUntil: 'networkidle' });
  page.removeAllListeners('response');
  return { ...sizes, total: sizes.js + sizes.css, encoding: [...encodings].join(',') };
}

/** From the last runs answer to 1,000 rows in the DOM, as the page itself timed it. */
async function renderRuns(
  page: Page,
  url: string,
): Promise<{ console: number; bare: number; fromNavigation: number }> {
  await page.addInitScript(`(() => {
    window.__rows = new Promise((resolve) => {
      const observer = new MutationObserver(() => {
        // Long pages render the rows in view (the rest are spacer rows): done when the table holds them all.
        if (document.querySelector('table.runs[data-rows="${RUNS}"] tr[data-run]')) {
          observer.disconnect();
          // Laid out, as the baseline is: reading a size forces the layout the next paint would do.
          void document.body.offsetHeight;
          resolve(performance.now());
        }
      });
      document.addEventListener('DOMContentLoaded', () =>
        observer.observe(document.body, { childList: true, subtree: true }));
    });
  })()`);
  await page.goto(`${url}/console/runs?size=${RUNS}`);
  const timing = await page.evaluate(async () => {
    const rowsAt = await (window as unknown as { __rows: Promise<number> }).__rows;
    const lastAnswer = Math.max(
      ...performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes('/orchestrator/runs'))
        .map((e) => (e as PerformanceResourceTiming).responseEnd),
    );
    return { rowsAt, lastAnswer };
  });
  // The window follows the scroll: the last run comes into the DOM at the bottom of the page.
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.locator(`tr[data-run$="${String(RUNS - 1).padStart(12, '0')}"]`).waitFor({ timeout: 10_000 });
  await page.evaluate(() => window.scrollTo(0, 0));
  // The baseline: the same rows as one HTML string, parsed and laid out by the browser, no framework.
  const bare = await page.evaluate((count) => {
    // The same cells for every one of the runs, though the console put only the rows in view in the DOM.
    const shown = [...document.querySelectorAll('tr[data-run]')].map((tr) => tr.innerHTML);
    const rows = Array.from({ length: count }, (_, i) => shown[i % shown.length]!);
    const host = document.createElement('div');
    document.body.append(host);
    const started = performance.now();
    host.innerHTML = `<table><tbody>${rows.map((r) => `<tr>${r}</tr>`).join('')}</tbody></table>`;
    void host.offsetHeight;
    const took = performance.now() - started;
    host.remove();
    return took;
  }, RUNS);
  return { console: timing.rowsAt - timing.lastAnswer, bare, fromNavigation: timing.rowsAt };
}

async function eventLog(
  page: Page,
  url: string,
  token: string,
): Promise<{
  written: number;
  shown: number;
  writeSeconds: number;
  ratePerSecond: number;
  tailLagMs: number;
  longTasks: number;
}> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const launched = await fetch(`${url}/orchestrator/jobs/bench_chatty_job/runs`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      runConfig: { ops: { chatter: { config: { events: EVENTS, perSecond: EVENTS_PER_SECOND } } } },
    }),
  });
  if (launched.status !== 201) {
    throw new Error(`launch: ${launched.status} ${await launched.text()}`);
  }
  const { runId } = (await launched.json()) as { runId: string };
  await page.addInitScript(`(() => {
    window.__longTasks = 0;
    new PerformanceObserver((list) => { window.__longTasks += list.getEntries().length; })
      .observe({ type: 'longtask', buffered: true });
  })()`);
  await page.goto(`${url}/console/runs/${runId}`);
  await page.locator('.stream-ended').waitFor({ timeout: 120_000 + EVENTS * 5 });
  const shownAt = Date.now();
  const shown = Number(await page.locator('.event-log').getAttribute('data-total'));
  const longTasks = await page.evaluate(() => (window as unknown as { __longTasks: number }).__longTasks);
  const events: { id: number; type: string; timestamp: string }[] = [];
  for (let after = 0; ;) {
    const res = await fetch(`${url}/orchestrator/runs/${runId}/events?after=${after}&limit=1000`, {
      headers,
    });
    const page = (await res.json()) as { resources: typeof events; cursor: number };
    events.push(...page.resources);
    if (page.resources.length === 0) {
      break;
    }
    after = page.cursor;
  }
  const logs = events.filter((e) => e.type === 'LOGS');
  const first = Date.parse(logs[0]!.timestamp);
  const last = Date.parse(logs.at(-1)!.timestamp);
  const end = Date.parse(events.at(-1)!.timestamp);
  return {
    written: events.length,
    shown,
    writeSeconds: (last - first) / 1000,
    ratePerSecond: logs.length / Math.max(0.001, (last - first) / 1000),
    tailLagMs: shownAt - end,
    longTasks,
  };
}

async function main(): Promise<void> {
  // The benchmark's job is TypeScript, which only the hub run from its sources (through SWC) can load;
  // the console it serves is the same build (dist/console-web) either way.
  process.env.BENCH_HUB_ENTRY ??= 'src';
  const hub = await startHub({
    role: 'all',
    env: {
      ...BENCH_ADMIN_ENV,
      TOKEN_RATE_LIMIT: '100000',
      ORCH_CODE_LOCATIONS: fileURLToPath(new URL('./definitions.ts', import.meta.url)),
    },
  });
  const browser = await launchBrowser();
  try {
    const token = await fetchToken(hub.url);
    const page = browser.page;
    const load = await firstLoad(page, hub.url);
    await signIn(page, hub.url, token);
    await browser.context.route(/\/orchestrator\/runs\?/, serveFakeRuns);
    const renders: { console: number; bare: number; fromNavigation: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const fresh = await browser.context.newPage();
      await signIn(fresh, hub.url, token);
      renders.push(await renderRuns(fresh, hub.url));
      await fresh.close();
    }
    await browser.context.unroute(/\/orchestrator\/runs\?/);
    const renderMs = median(renders.map((r) => r.console));
    const bareMs = median(renders.map((r) => r.bare));
    const log = await eventLog(page, hub.url, token);

    console.log(
      `bench ${NAME}: Chromium ${browser.context.browser()?.version() ?? ''} against ${hub.entry} (APP_ROLE=all)`,
    );
    console.log(
      `first load of /console: JS ${load.js} B + CSS ${load.css} B = ${load.total} B on the wire (${load.encoding}); budget ${FIRST_LOAD_BUDGET} B`,
    );
    console.log(
      `runs page, ${RUNS} runs: ${renderMs.toFixed(1)} ms from the last answer to the rows (median of ${ROUNDS}; ` +
        `${renders.map((r) => r.console.toFixed(0)).join(', ')} ms); bare innerHTML table ${bareMs.toFixed(1)} ms; ` +
        `ratio ${(renderMs / bareMs).toFixed(2)}×; from navigation ${median(renders.map((r) => r.fromNavigation)).toFixed(0)} ms; budget ${RENDER_BUDGET_MS} ms`,
    );
    console.log(
      `event log: ${log.written} events written (${EVENTS} logs at ${log.ratePerSecond.toFixed(0)}/s over ${log.writeSeconds.toFixed(1)} s), ` +
        `${log.shown} shown, ${log.written - log.shown} dropped; the last shown ${log.tailLagMs} ms after it was written; ${log.longTasks} long tasks`,
    );
    const checks = {
      firstLoad: load.total < FIRST_LOAD_BUDGET,
      runsRender: renderMs < RENDER_BUDGET_MS,
      eventLogComplete: log.shown === log.written,
      eventRate: log.ratePerSecond >= EVENTS_PER_SECOND * 0.9,
      tailLag: log.tailLagMs < TAIL_LAG_BUDGET_MS,
    };
    for (const [name, pass] of Object.entries(checks)) {
      console.log(`${name}: ${pass ? 'PASS' : 'FAIL'}`);
    }
    await reportResults(
      NAME,
      {
        hubEntry: hub.entry,
        firstLoad: load,
        runsRender: { runs: RUNS, medianMs: renderMs, bareMedianMs: bareMs, rounds: renders },
        eventLog: log,
        checks,
      },
      Object.values(checks).every(Boolean),
    );
  } finally {
    await browser.close();
    await hub.stop();
  }
}

runBenchmark(NAME, main);
