import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';

import { api, type Job, type Run, type RunEvent } from '../api';
import { EventLog, type LogFilters } from '../components/event-log';
import { Gantt } from '../components/gantt';
import { JobGraph } from '../components/graph';
import { ErrorBox, Fact, FilterSelect, Json, Loaded, PageTitle, Status, Tags } from '../components/ui';
import { duration, runDuration, shortId, time } from '../format';
import { useFilters, useLoad, useNow } from '../hooks';
import { stepStates, timelineOf } from '../run-model';
import { followEvents } from '../stream';

const LEVELS = ['debug', 'info', 'warning', 'error'];
const FINISHED = ['SUCCESS', 'FAILURE', 'CANCELED'];

/** The run's events, streamed; batches land at most once per frame however fast they arrive. */
function useRunEvents(runId: string, onRunEvent: () => void) {
  const events = useRef<RunEvent[]>([]);
  const [version, setVersion] = useState(0);
  const [streamState, setStreamState] = useState<'live' | 'ended' | 'retrying'>('live');
  const [streamError, setStreamError] = useState<string>();
  const pending = useRef(false);
  const onRun = useRef(onRunEvent);
  onRun.current = onRunEvent;
  useEffect(() => {
    events.current = [];
    setVersion(0);
    setStreamState('live');
    return followEvents<RunEvent>(`/orchestrator/runs/${encodeURIComponent(runId)}/events`, 0, {
      onEvents(batch) {
        events.current.push(...batch);
        setStreamError(undefined);
        setStreamState('live');
        if (batch.some((e) => e.type.startsWith('RUN_'))) {
          onRun.current();
        }
        if (!pending.current) {
          pending.current = true;
          requestAnimationFrame(() => {
            pending.current = false;
            setVersion((v) => v + 1);
          });
        }
      },
      onEnd() {
        setStreamState('ended');
        setVersion((v) => v + 1);
        onRun.current();
      },
      onError(message) {
        setStreamError(message);
        setStreamState('retrying');
      },
    });
  }, [runId]);
  return { events: events.current, version, streamState, streamError };
}

function Actions({ run, onChange }: { run: Run; onChange: () => void }) {
  const [, navigate] = useLocation();
  const [error, setError] = useState<Error>();
  const [busy, setBusy] = useState(false);
  const act = (path: string, body?: unknown, follow = false) => {
    setBusy(true);
    setError(undefined);
    api<Run>(`/orchestrator/runs/${run.runId}${path}`, { method: 'POST', body }).then(
      (next) => {
        setBusy(false);
        if (follow) {
          navigate(`/runs/${next.runId}`);
        } else {
          onChange();
        }
      },
      (err: unknown) => {
        setBusy(false);
        setError(err as Error);
      },
    );
  };
  const finished = FINISHED.includes(run.status);
  return (
    <>
      {!finished ? (
        <button
          type="button"
          class="danger"
          disabled={busy || run.status === 'CANCELING'}
          onClick={() => act(':cancel')}
        >
          Cancel run
        </button>
      ) : null}
      {finished && run.status !== 'SUCCESS' ? (
        <button type="button" disabled={busy} onClick={() => act(':reexecute', { fromFailure: true }, true)}>
          Re-execute from failure
        </button>
      ) : null}
      {finished ? (
        <button type="button" disabled={busy} onClick={() => act(':reexecute', { fromFailure: false }, true)}>
          Re-execute all
        </button>
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
    </>
  );
}

function Header({ run, now }: { run: Run; now: number }) {
  return (
    <dl class="facts">
      <Fact term="Status">
        <Status value={run.status} />
        {run.failureReason ? <span class="muted"> ({run.failureReason})</span> : null}
      </Fact>
      <Fact term="Job">
        <Link href={`/jobs/${run.jobName}`}>{run.jobName}</Link>
      </Fact>
      <Fact term="Created">{time(run.createdAt)}</Fact>
      <Fact term="Started">{time(run.startTime)}</Fact>
      <Fact term="Ended">{time(run.endTime)}</Fact>
      <Fact term="Duration">{duration(runDuration(run, now))}</Fact>
      <Fact term="Instigator">
        {run.instigatorType}
        {run.instigatorName ? `: ${run.instigatorName}` : ''}
        {run.createdBy ? ` (${run.createdBy})` : ''}
      </Fact>
      {run.parentRunId ? (
        <Fact term="Parent run">
          <Link href={`/runs/${run.parentRunId}`} class="mono">
            {shortId(run.parentRunId)}
          </Link>
        </Fact>
      ) : null}
      {run.rootRunId && run.rootRunId !== run.parentRunId ? (
        <Fact term="Root run">
          <Link href={`/runs/${run.rootRunId}`} class="mono">
            {shortId(run.rootRunId)}
          </Link>
        </Fact>
      ) : null}
      {run.stepKeysToExecute ? <Fact term="Steps executed">{run.stepKeysToExecute.join(', ')}</Fact> : null}
      <Fact term="Tags" wide>
        <Tags tags={run.tags} />
      </Fact>
    </dl>
  );
}

const TABS = ['timeline', 'graph', 'config'] as const;

function RunBody({ run, job, reload }: { run: Run; job: Job | undefined; reload: () => void }) {
  const now = useNow(500);
  const [filters, setFilters] = useFilters(['view', 'level', 'step', 'type', 'q'] as const);
  const view = (TABS as readonly string[]).includes(filters.view) ? filters.view : 'timeline';
  const { events, version, streamState, streamError } = useRunEvents(run.runId, reload);
  const timeline = useMemo(() => timelineOf(events), [version, events]);
  const nodes = job?.graph.nodes.map((n) => n.name) ?? timeline.map((t) => t.step);
  const states = useMemo(() => stepStates(run, nodes, timeline), [run, timeline, job]);
  const types = useMemo(() => [...new Set(events.map((e) => e.type))].sort(), [version, events]);
  const logFilters: LogFilters = {
    level: filters.level,
    step: filters.step,
    type: filters.type,
    q: filters.q,
  };
  return (
    <>
      <PageTitle title={`Run ${shortId(run.runId)}`}>
        <Actions run={run} onChange={reload} />
      </PageTitle>
      <Header run={run} now={now} />
      <div class="tabs" role="tablist" aria-label="Run views">
        {TABS.map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`tab-${t}`}
            aria-selected={view === t}
            aria-controls="run-view"
            onClick={() => setFilters({ view: t === 'timeline' ? '' : t })}
          >
            {t === 'timeline' ? 'Timeline' : t === 'graph' ? 'Graph' : 'Run config'}
          </button>
        ))}
      </div>
      <section id="run-view" role="tabpanel" aria-labelledby={`tab-${view}`} class="panel">
        {view === 'timeline' ? <Gantt run={run} timeline={timeline} now={now} /> : null}
        {view === 'graph' ? (
          job ? (
            <>
              <JobGraph job={job} states={states} />
              <ul class="legend" aria-label="Step states">
                {Object.entries(states).map(([step, state]) => (
                  <li key={step} data-step={step} data-state={state}>
                    <span class={`swatch node-${state}`} aria-hidden="true" /> {step}: {state}
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <p class="state">Loading the graph…</p>
          )
        ) : null}
        {view === 'config' ? <Json value={run.runConfig} label="Run config" /> : null}
      </section>
      <section aria-labelledby="log-title" class="log-section">
        <div class="section-head">
          <h2 id="log-title">Event log</h2>
          <span class={`stream stream-${streamState}`} role="status">
            {streamState === 'live'
              ? 'live'
              : streamState === 'ended'
                ? 'complete'
                : `reconnecting: ${streamError ?? ''}`}
          </span>
        </div>
        <form class="filters" aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
          <FilterSelect
            label="Level"
            value={filters.level}
            options={LEVELS}
            onChange={(level) => setFilters({ level })}
          />
          <FilterSelect
            label="Step"
            value={filters.step}
            options={nodes}
            onChange={(step) => setFilters({ step })}
          />
          <FilterSelect
            label="Type"
            value={filters.type}
            options={types}
            onChange={(type) => setFilters({ type })}
          />
          <label>
            Search
            <input
              type="search"
              value={filters.q}
              onInput={(e) => setFilters({ q: e.currentTarget.value })}
            />
          </label>
        </form>
        <EventLog events={events} filters={logFilters} version={version} />
      </section>
    </>
  );
}

export function RunPage({ id }: { id: string }) {
  const run = useLoad((signal) => api<Run>(`/orchestrator/runs/${encodeURIComponent(id)}`, { signal }), id);
  const jobName = run.data?.jobName;
  const job = useLoad(
    (signal) =>
      jobName
        ? api<Job>(`/orchestrator/jobs/${encodeURIComponent(jobName)}`, { signal })
        : Promise.resolve(undefined),
    jobName ?? '',
  );
  return (
    <Loaded data={run.data} error={run.error} reload={run.reload} what="the run">
      {(data) => <RunBody run={data} job={job.data} reload={run.reload} />}
    </Loaded>
  );
}
