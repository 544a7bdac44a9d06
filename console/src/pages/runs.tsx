import { memo } from 'preact/compat';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';

import { api, query, type Job, type Page, type Run } from '../api';
import { FilterSelect, ListLoaded, PageTitle, Pager, Status, TableHead, Tags } from '../components/ui';
import { duration, runDuration, shortId, time } from '../format';
import { useFilters, useLoad, useNow } from '../hooks';

const STATUSES = [
  'QUEUED',
  'STARTING',
  'STARTED',
  'CANCELING',
  'SUCCESS',
  'FAILURE',
  'CANCELED',
  'NOT_STARTED',
];
const SIZES = ['20', '50', '100', '500', '1000'];
const API_MAX_PAGE = 500;
const KEYS = ['status', 'job', 'tag', 'after', 'before', 'size', 'cursor'] as const;

/** One page of the console may be bigger than one page of the API: it reads on until it has `size` runs. */
async function loadRuns(
  filters: Record<(typeof KEYS)[number], string>,
  signal: AbortSignal,
): Promise<Page<Run>> {
  const size = Number(filters.size) || 20;
  const runs: Run[] = [];
  let token: string | undefined = filters.cursor || undefined;
  do {
    const page: Page<Run> = await api<Page<Run>>(
      `/orchestrator/runs${query({
        status: filters.status || undefined,
        job: filters.job || undefined,
        tag: filters.tag || undefined,
        created_after: filters.after ? new Date(filters.after).toISOString() : undefined,
        created_before: filters.before ? new Date(filters.before).toISOString() : undefined,
        max_page_size: Math.min(API_MAX_PAGE, size - runs.length),
        page_token: token,
      })}`,
      { signal },
    );
    runs.push(...page.resources);
    token = page.next_page_token;
  } while (token && runs.length < size);
  return { resources: runs, ...(token ? { next_page_token: token } : {}) };
}

const FINISHED = ['SUCCESS', 'FAILURE', 'CANCELED'];

/**
 * One row, re-rendered only when its run changes (or, while it runs, when the clock ticks): a page of
 * 1,000 runs then costs one render, not one a second. Plain anchors; the table navigates for them.
 */
const RunRow = memo(function RunRow({ run, now, index }: { run: Run; now: number; index: number }) {
  return (
    <tr data-run={run.runId} data-status={run.status} aria-rowindex={index}>
      <td>
        <a href={`/console/runs/${run.runId}`} class="mono">
          {shortId(run.runId)}
        </a>
      </td>
      <td>
        <Status value={run.status} />
      </td>
      <td>{run.jobName}</td>
      <td>
        <Tags tags={run.tags} />
      </td>
      <td>
        {run.instigatorType}
        {run.instigatorName ? `: ${run.instigatorName}` : ''}
      </td>
      <td>{time(run.startTime ?? run.createdAt)}</td>
      <td>{duration(runDuration(run, now))}</td>
    </tr>
  );
});

/** Every row of a runs table has this height (see .runs tr in style.css), so a window can be computed. */
const ROW_H = 38;
/** Up to this many rows are all in the DOM (find-in-page works); a longer page renders the rows in view. */
const WINDOW_FROM = 200;
const OVERSCAN = 20;

/** The slice of `count` rows that the window can see, from where the table's body sits on the page. */
function useRowWindow(count: number): {
  body: { current: HTMLTableSectionElement | null };
  first: number;
  last: number;
} {
  const body = useRef<HTMLTableSectionElement>(null);
  const [range, setRange] = useState({ first: 0, last: Math.min(count, 60) });
  useEffect(() => {
    if (count <= WINDOW_FROM) {
      return undefined;
    }
    const update = (): void => {
      const top = body.current?.getBoundingClientRect().top ?? 0;
      const first = Math.max(0, Math.floor(-top / ROW_H) - OVERSCAN);
      const last = Math.min(count, Math.ceil((window.innerHeight - top) / ROW_H) + OVERSCAN);
      setRange((r) => (r.first === first && r.last === last ? r : { first, last }));
    };
    update();
    window.addEventListener('scroll', update, { passive: true });
    window.addEventListener('resize', update);
    return () => {
      window.removeEventListener('scroll', update);
      window.removeEventListener('resize', update);
    };
  }, [count]);
  return count <= WINDOW_FROM
    ? { body, first: 0, last: count }
    : { body, ...range, last: Math.min(range.last, count) };
}

const CREATED = [
  ['Created after', 'after'],
  ['Created before', 'before'],
] as const;

export function RunsPage() {
  const [, navigate] = useLocation();
  const [filters, setFilters] = useFilters(KEYS);
  const now = useNow();
  const key = JSON.stringify(filters);
  // Live while looking at the newest runs; an older page stays as it was when opened.
  const runs = useLoad((signal) => loadRuns(filters, signal), key, filters.cursor ? undefined : 2000);
  const jobs = useLoad(() => api<{ resources: Job[] }>('/orchestrator/jobs'), 'jobs');
  const rows = runs.data?.resources ?? [];
  const view = useRowWindow(rows.length);
  return (
    <>
      <PageTitle title="Runs" />
      <form class="filters" aria-label="Filter runs" onSubmit={(e) => e.preventDefault()}>
        <FilterSelect
          label="Status"
          value={filters.status}
          options={STATUSES}
          onChange={(status) => setFilters({ status, cursor: '' })}
        />
        <FilterSelect
          label="Job"
          value={filters.job}
          options={(jobs.data?.resources ?? []).map((j) => j.name)}
          onChange={(job) => setFilters({ job, cursor: '' })}
        >
          {filters.job && !jobs.data?.resources.some((j) => j.name === filters.job) ? (
            <option value={filters.job}>{filters.job}</option>
          ) : null}
        </FilterSelect>
        <label>
          Tag
          <input
            placeholder="key=value"
            value={filters.tag}
            onChange={(e) => setFilters({ tag: e.currentTarget.value.trim(), cursor: '' })}
          />
        </label>
        {CREATED.map(([label, key]) => (
          <label key={key}>
            {label}
            <input
              type="datetime-local"
              value={filters[key]}
              onChange={(e) => setFilters({ [key]: e.currentTarget.value, cursor: '' })}
            />
          </label>
        ))}
        <label>
          Per page
          <select
            value={filters.size || '20'}
            onChange={(e) => setFilters({ size: e.currentTarget.value, cursor: '' })}
          >
            {SIZES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        {KEYS.some((k) => filters[k]) ? (
          <button
            type="button"
            class="link"
            onClick={() => setFilters(Object.fromEntries(KEYS.map((k) => [k, ''])))}
          >
            Clear filters
          </button>
        ) : null}
      </form>
      <ListLoaded
        data={runs.data}
        error={runs.error}
        reload={runs.reload}
        what="runs"
        empty={
          <>
            No runs match. Launch one from <Link href="/jobs">Jobs</Link>.
          </>
        }
      >
        {(page) => (
          <>
            {runs.error ? (
              <p class="state state-error" role="alert">
                Live update failed: {runs.error.message}
              </p>
            ) : null}
            <div class="table-wrap">
              <table class="runs" aria-rowcount={page.resources.length + 1} data-rows={page.resources.length}>
                <colgroup>
                  <col class="w-id" />
                  <col class="w-status" />
                  <col class="w-job" />
                  <col />
                  <col class="w-inst" />
                  <col class="w-time" />
                  <col class="w-dur" />
                </colgroup>
                <caption class="sr-only">Runs, newest first</caption>
                <TableHead columns={['Run', 'Status', 'Job', 'Tags', 'Instigator', 'Started', 'Duration']} />
                <tbody
                  ref={view.body}
                  onClick={(e) => {
                    const anchor = (e.target as Element).closest('a');
                    if (anchor && !e.ctrlKey && !e.metaKey && !e.shiftKey && e.button === 0) {
                      e.preventDefault();
                      navigate(anchor.getAttribute('href')?.replace(/^\/console/, '') ?? '/runs');
                    }
                  }}
                >
                  {view.first > 0 ? (
                    <tr aria-hidden="true" style={{ height: `${view.first * ROW_H}px` }} />
                  ) : null}
                  {page.resources.slice(view.first, view.last).map((run, i) => (
                    <RunRow
                      key={run.runId}
                      run={run}
                      index={view.first + i + 2}
                      now={FINISHED.includes(run.status) ? 0 : now}
                    />
                  ))}
                  {view.last < page.resources.length ? (
                    <tr
                      aria-hidden="true"
                      style={{ height: `${(page.resources.length - view.last) * ROW_H}px` }}
                    />
                  ) : null}
                </tbody>
              </table>
            </div>
            <Pager
              label="Pages of runs"
              cursor={filters.cursor}
              next={page.next_page_token}
              go={(cursor) => setFilters({ cursor })}
              firstText="Newest runs"
              nextText="Older runs"
            />
          </>
        )}
      </ListLoaded>
    </>
  );
}
