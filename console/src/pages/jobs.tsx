import { useMemo, useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';

import { api, ApiError, type FieldError, type Job, type Run } from '../api';
import { JobGraph } from '../components/graph';
import { Empty, Json, Loaded, PageTitle, Tags } from '../components/ui';
import { useFilters, useLoad } from '../hooks';
import { scaffold, validateRunConfig } from '../launch-schema';

export function JobsPage() {
  const jobs = useLoad((signal) => api<{ resources: Job[] }>('/orchestrator/jobs', { signal }), 'jobs');
  return (
    <>
      <PageTitle title="Jobs" />
      <Loaded data={jobs.data} error={jobs.error} reload={jobs.reload} what="jobs">
        {(data) =>
          data.resources.length === 0 ? (
            <Empty>This hub defines no jobs.</Empty>
          ) : (
            <ul class="cards">
              {data.resources.map((job) => (
                <li key={job.name} class="card">
                  <h2>
                    <Link href={`/jobs/${job.name}`}>{job.name}</Link>
                  </h2>
                  <p>{job.description ?? <span class="muted">No description.</span>}</p>
                  <p class="muted">
                    {job.graph.nodes.length} op{job.graph.nodes.length === 1 ? '' : 's'}
                  </p>
                  <Tags tags={job.tags} />
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
    </>
  );
}

function parseTags(text: string): { tags: Record<string, string>; errors: FieldError[] } {
  const tags: Record<string, string> = {};
  const errors: FieldError[] = [];
  text
    .split('\n')
    .map((l) => l.trim())
    .forEach((line, i) => {
      if (!line) {
        return;
      }
      const eq = line.indexOf('=');
      if (eq <= 0) {
        errors.push({ path: `tags line ${i + 1}`, message: 'must be key=value' });
        return;
      }
      tags[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    });
  return { tags, errors };
}

function Launchpad({ job }: { job: Job }) {
  const [, navigate] = useLocation();
  const [text, setText] = useState(() => JSON.stringify(scaffold(job), null, 2));
  const [tagText, setTagText] = useState('');
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const launch = () => {
    setProblem(undefined);
    let config: unknown;
    try {
      config = JSON.parse(text || '{}');
    } catch (error) {
      setErrors([{ path: 'runConfig', message: `is not valid JSON: ${(error as Error).message}` }]);
      return;
    }
    const tags = parseTags(tagText);
    const found = [...validateRunConfig(job, config), ...tags.errors];
    setErrors(found);
    if (found.length > 0) {
      return;
    }
    setBusy(true);
    api<Run>(`/orchestrator/jobs/${encodeURIComponent(job.name)}/runs`, {
      method: 'POST',
      body: { runConfig: config, tags: tags.tags },
    }).then(
      (run) => navigate(`/runs/${run.runId}`),
      (error: unknown) => {
        setBusy(false);
        if (error instanceof ApiError && error.errors.length > 0) {
          setErrors(error.errors);
        }
        setProblem((error as Error).message);
      },
    );
  };
  return (
    <section class="card launchpad" aria-labelledby="launchpad-title">
      <h2 id="launchpad-title">Launchpad</h2>
      <label for="run-config">Run config (JSON)</label>
      <textarea
        id="run-config"
        class="code"
        rows={12}
        spellcheck={false}
        value={text}
        aria-invalid={errors.length > 0}
        aria-describedby="run-config-errors"
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <div class="row">
        <button type="button" class="small" onClick={() => setText(JSON.stringify(scaffold(job), null, 2))}>
          Reset to defaults
        </button>
      </div>
      <label for="run-tags">Tags (key=value, one per line)</label>
      <textarea id="run-tags" rows={3} value={tagText} onInput={(e) => setTagText(e.currentTarget.value)} />
      <div id="run-config-errors" aria-live="polite">
        {errors.length > 0 ? (
          <div role="alert">
            <ul class="errors" aria-label="Run config errors">
              {errors.map((e) => (
                <li key={`${e.path}:${e.message}`} data-path={e.path}>
                  <code>{e.path}</code> {e.message}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {problem ? <p class="field-error">{problem}</p> : null}
      </div>
      <button type="button" class="primary" disabled={busy} onClick={launch}>
        {busy ? 'Launching…' : 'Launch run'}
      </button>
    </section>
  );
}

export function JobPage({ name }: { name: string }) {
  const job = useLoad(
    (signal) => api<Job>(`/orchestrator/jobs/${encodeURIComponent(name)}`, { signal }),
    name,
  );
  const [filters, setFilters] = useFilters(['op'] as const);
  return (
    <Loaded data={job.data} error={job.error} reload={job.reload} what="the job">
      {(data) => <JobView job={data} selected={filters.op} onSelect={(op) => setFilters({ op })} />}
    </Loaded>
  );
}

function JobView({
  job,
  selected,
  onSelect,
}: {
  job: Job;
  selected: string;
  onSelect: (op: string) => void;
}) {
  const node = useMemo(() => job.graph.nodes.find((n) => n.name === selected), [job, selected]);
  return (
    <>
      <PageTitle title={job.name}>
        <Link href={`/runs?job=${encodeURIComponent(job.name)}`}>Runs of this job</Link>
      </PageTitle>
      <p>{job.description}</p>
      <div class="split">
        <section class="card" aria-labelledby="graph-title">
          <h2 id="graph-title">Graph</h2>
          <JobGraph job={job} selected={selected} onSelect={onSelect} />
          <h3>Ops</h3>
          <ul class="ops">
            {job.graph.nodes.map((n) => (
              <li key={n.name}>
                <button
                  type="button"
                  class="link"
                  aria-pressed={selected === n.name}
                  onClick={() => onSelect(selected === n.name ? '' : n.name)}
                >
                  {n.name}
                </button>
                {n.op !== n.name ? <span class="muted"> ({n.op})</span> : null}
                {n.description ? <span> — {n.description}</span> : null}
              </li>
            ))}
          </ul>
          {node ? (
            <div class="op-detail">
              <h3>{node.name}</h3>
              <p>{node.description ?? 'No description.'}</p>
              <p>
                Inputs: {node.inputs.map((i) => i.name).join(', ') || 'none'} · Outputs:{' '}
                {node.outputs.map((o) => o.name).join(', ') || 'none'}
                {node.retryPolicy ? ` · retries: ${node.retryPolicy.maxRetries}` : ''}
              </p>
              {node.configSchema ? (
                <Json value={node.configSchema} label={`Config schema of ${node.name}`} />
              ) : (
                <p class="muted">No config.</p>
              )}
            </div>
          ) : null}
          {job.resources.length > 0 ? (
            <>
              <h3>Resources</h3>
              <ul class="ops">
                {job.resources.map((r) => (
                  <li key={r.key}>
                    <code>{r.key}</code>
                    {r.description ? <span> — {r.description}</span> : null}
                    {r.configSchema ? (
                      <Json value={r.configSchema} label={`Config schema of resource ${r.key}`} />
                    ) : null}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </section>
        <Launchpad job={job} />
      </div>
    </>
  );
}
