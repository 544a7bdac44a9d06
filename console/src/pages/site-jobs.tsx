import { Link } from 'wouter-preact';

import { api, query, type Operation, type Page, type SiteJob, type Workflow } from '../api';
import {
  DataTable,
  Empty,
  Fact,
  FilterSelect,
  Json,
  Loaded,
  PageTitle,
  PagedTable,
  Status,
} from '../components/ui';
import { age, time } from '../format';
import { useFilters, useLoad, useNow } from '../hooks';

export function SiteJobsPage() {
  const [filters, setFilters] = useFilters(['workflow', 'status', 'cursor'] as const);
  const workflows = useLoad(
    (signal) => api<Workflow[] | Page<Workflow>>('/workflows', { signal }),
    'workflows',
  );
  const workflowList = Array.isArray(workflows.data) ? workflows.data : (workflows.data?.resources ?? []);
  const filter: Record<string, unknown> = {};
  if (filters.workflow) {
    filter['workflow.id'] = filters.workflow;
  }
  if (filters.status) {
    filter.status = filters.status;
  }
  const jobs = useLoad(
    (signal) =>
      api<Page<SiteJob>>(
        `/jobs${query({
          filter: Object.keys(filter).length ? JSON.stringify(filter) : undefined,
          max_page_size: 25,
          page_token: filters.cursor || undefined,
        })}`,
        { signal },
      ),
    JSON.stringify(filters),
    filters.cursor ? undefined : 5000,
  );
  return (
    <>
      <PageTitle title="Site jobs" />
      <section aria-labelledby="wf-title">
        <h2 id="wf-title">Workflows</h2>
        <Loaded data={workflows.data} error={workflows.error} reload={workflows.reload} what="workflows">
          {() =>
            workflowList.length === 0 ? (
              <Empty>No workflows are registered.</Empty>
            ) : (
              <ul class="cards compact">
                {workflowList.map((w) => (
                  <li key={w.id} class="card">
                    <h3>
                      <button
                        type="button"
                        class="link"
                        aria-pressed={filters.workflow === w.id}
                        onClick={() =>
                          setFilters({ workflow: filters.workflow === w.id ? '' : w.id, cursor: '' })
                        }
                      >
                        {w.name}
                      </button>
                    </h3>
                    <p class="mono small-text">{w.id}</p>
                    <p class="muted">
                      lease {w.lease_seconds} s
                      {w.capability_ids.length ? ` · needs ${w.capability_ids.join(', ')}` : ''}
                    </p>
                  </li>
                ))}
              </ul>
            )
          }
        </Loaded>
      </section>
      <section aria-labelledby="jobs-title">
        <h2 id="jobs-title">Jobs</h2>
        <form class="filters" aria-label="Filter site jobs" onSubmit={(e) => e.preventDefault()}>
          <FilterSelect
            label="Workflow"
            value={filters.workflow}
            options={workflowList.map((w) => ({ value: w.id, label: w.name }))}
            onChange={(workflow) => setFilters({ workflow, cursor: '' })}
          />
          <FilterSelect
            label="Status"
            value={filters.status}
            options={['unclaimed', 'claimed', 'done', 'failed']}
            onChange={(status) => setFilters({ status, cursor: '' })}
          />
        </form>
        <PagedTable
          list={jobs}
          what="site jobs"
          empty="No site job matches."
          columns={['Job', 'Workflow', 'Status', 'Claims', 'Created']}
          label="Pages of site jobs"
          cursor={filters.cursor}
          go={(cursor) => setFilters({ cursor })}
          firstText="First page"
          nextText="Next page"
          row={(j) => (
            <tr key={j.id} data-job={j.id}>
              <td>
                <Link href={`/site-jobs/${j.id}`} class="mono">
                  {j.id}
                </Link>
              </td>
              <td>{j.workflow.name}</td>
              <td>
                <Status value={j.status} />
              </td>
              <td>{j.claims.length}</td>
              <td>{time(j.created_at)}</td>
            </tr>
          )}
        />
      </section>
    </>
  );
}

function ClaimRow({ claim, now }: { claim: SiteJob['claims'][number]; now: number }) {
  const op = useLoad(
    (signal) => api<Operation>(`/operations/${encodeURIComponent(claim.op_id)}`, { signal }),
    claim.op_id,
    5000,
  );
  const o = op.data;
  return (
    <tr data-claim={claim.op_id}>
      <td class="mono">{claim.op_id}</td>
      <td>{claim.site_id}</td>
      <td>
        <Status value={claim.state} />
      </td>
      <td title={time(claim.claimed_at)}>{age(claim.claimed_at, now)}</td>
      <td title={time(o?.expire_time ?? claim.expire_time)}>
        {o?.done
          ? 'finished'
          : age(o?.expire_time ?? claim.expire_time, now).replace(' ago', ' ago (expired)')}
      </td>
      <td title={time(o?.updated_at)}>{o ? age(o.updated_at, now) : '…'}</td>
      <td>
        {op.error ? <span class="field-error">{op.error.message}</span> : null}
        {o?.error ? (
          <span class="field-error">
            {o.error.code}: {o.error.message}
          </span>
        ) : null}
        {o?.result !== undefined ? <code class="clip">{JSON.stringify(o.result)}</code> : null}
        {o && !o.done ? <span class="muted">running</span> : null}
      </td>
    </tr>
  );
}

export function SiteJobPage({ id }: { id: string }) {
  const now = useNow();
  const job = useLoad((signal) => api<SiteJob>(`/jobs/${encodeURIComponent(id)}`, { signal }), id, 3000);
  return (
    <Loaded data={job.data} error={job.error} reload={job.reload} what="the site job">
      {(j) => (
        <>
          <PageTitle title={`Site job ${j.id}`} />
          <dl class="facts">
            <Fact term="Status">
              <Status value={j.status} />
            </Fact>
            <Fact term="Workflow">
              {j.workflow.name} <span class="mono muted">{j.workflow.id}</span>
            </Fact>
            <Fact term="Created">
              {time(j.created_at)} by {j.created_by}
            </Fact>
          </dl>
          <h2>Config</h2>
          <Json value={j.config} label="Job config" />
          <h2>Claims and operations</h2>
          {j.claims.length === 0 ? (
            <Empty>No site has claimed this job yet.</Empty>
          ) : (
            <DataTable
              columns={[
                'Operation',
                'Site',
                'State',
                'Claimed',
                'Lease expires',
                'Last heartbeat',
                'Result or error',
              ]}
            >
              <tbody>
                {j.claims.map((c) => (
                  <ClaimRow key={c.op_id} claim={c} now={now} />
                ))}
              </tbody>
            </DataTable>
          )}
        </>
      )}
    </Loaded>
  );
}
