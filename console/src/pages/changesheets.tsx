import { applyPatch, deepClone, type Operation } from 'fast-json-patch';
import { useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';

import {
  api,
  ApiError,
  query,
  type ChangesheetStatus,
  type ChangesheetSummary,
  type FieldError,
  type Page,
  type PatchOp,
} from '../api';
import { DocumentDiff } from '../components/diff';
import {
  Empty,
  ErrorBox,
  Fact,
  FilterSelect,
  Loaded,
  PageTitle,
  PagedTable,
  Status,
  TableHead,
} from '../components/ui';
import { shortId, time } from '../format';
import { useFilters, useLoad } from '../hooks';

const STATUSES = ['pending', 'applied', 'failed', 'reverted'];

interface ValidChange {
  id: string;
  collection: string;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  patch: PatchOp[];
}

type Checked =
  | { kind: 'valid'; file: File; changes: ValidChange[] }
  | { kind: 'invalid'; file: File; message: string; errors: FieldError[] };

function contentTypeOf(file: File): string {
  return /\.csv$/i.test(file.name) || file.type === 'text/csv' ? 'text/csv' : 'text/tab-separated-values';
}

/** Validates a dropped or chosen sheet with changesheets:validate and, once valid, submits the same bytes. */
function DropZone() {
  const [, navigate] = useLocation();
  const [checked, setChecked] = useState<Checked>();
  const [busy, setBusy] = useState(false);
  const [hover, setHover] = useState(false);
  const [error, setError] = useState<Error>();
  const check = (file: File) => {
    setBusy(true);
    setError(undefined);
    setChecked(undefined);
    api<{ changes: ValidChange[] }>('/metadata/changesheets:validate', {
      method: 'POST',
      raw: file,
      contentType: contentTypeOf(file),
    }).then(
      (res) => {
        setBusy(false);
        setChecked({ kind: 'valid', file, changes: res.changes });
      },
      (err: unknown) => {
        setBusy(false);
        if (err instanceof ApiError && err.status < 500) {
          setChecked({ kind: 'invalid', file, message: err.message, errors: err.errors });
        } else {
          setError(err as Error);
        }
      },
    );
  };
  const submit = (file: File) => {
    setBusy(true);
    api<{ object: { id: string } }>('/metadata/changesheets:submit', {
      method: 'POST',
      raw: file,
      contentType: contentTypeOf(file),
    }).then(
      (res) => navigate(`/changesheets/${res.object.id}`),
      (err: unknown) => {
        setBusy(false);
        setError(err as Error);
      },
    );
  };
  const rows =
    checked?.kind === 'invalid' ? [...checked.errors].sort((a, b) => (a.row ?? 0) - (b.row ?? 0)) : [];
  return (
    <section class="card" aria-labelledby="drop-title">
      <h2 id="drop-title">Check and submit a sheet</h2>
      <label
        class={`dropzone${hover ? ' dropzone-hover' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setHover(true);
        }}
        onDragLeave={() => setHover(false)}
        onDrop={(e) => {
          e.preventDefault();
          setHover(false);
          const file = e.dataTransfer?.files[0];
          if (file) {
            check(file);
          }
        }}
      >
        <span>Drop a TSV or CSV changesheet here, or choose one</span>
        <input
          type="file"
          accept=".tsv,.csv,.txt,text/tab-separated-values,text/csv"
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            if (file) {
              check(file);
            }
          }}
        />
      </label>
      {busy ? <p role="status">Working…</p> : null}
      {error ? <ErrorBox error={error} /> : null}
      {checked?.kind === 'invalid' ? (
        <div role="alert" class="sheet-errors">
          <p class="field-error">
            {checked.file.name}: {checked.message}
          </p>
          {rows.length > 0 ? (
            <table>
              <TableHead columns={['Row', 'Id', 'Field', 'Problem']} />
              <tbody>
                {rows.map((e, i) => (
                  <tr key={i} data-row={e.row}>
                    <td>{e.row ?? '—'}</td>
                    <td class="mono">{e.id ?? ''}</td>
                    <td class="mono">{e.path}</td>
                    <td>{e.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
      ) : null}
      {checked?.kind === 'valid' ? (
        <div class="sheet-valid">
          <p role="status">
            {checked.file.name} is valid: it changes {checked.changes.length} document
            {checked.changes.length === 1 ? '' : 's'}.
          </p>
          {checked.changes.map((c) => (
            <DocumentDiff key={c.id} {...c} />
          ))}
          <button type="button" class="primary" disabled={busy} onClick={() => submit(checked.file)}>
            Submit {checked.file.name}
          </button>
        </div>
      ) : null}
    </section>
  );
}

export function ChangesheetsPage() {
  const [filters, setFilters] = useFilters(['status', 'cursor'] as const);
  const list = useLoad(
    (signal) =>
      api<Page<ChangesheetSummary>>(
        `/metadata/changesheets${query({ status: filters.status || undefined, page_token: filters.cursor || undefined, max_page_size: 25 })}`,
        { signal },
      ),
    JSON.stringify(filters),
    filters.cursor ? undefined : 3000,
  );
  return (
    <>
      <PageTitle title="Changesheets" />
      <DropZone />
      <section aria-labelledby="sheets-title">
        <h2 id="sheets-title">Submitted sheets</h2>
        <form class="filters" aria-label="Filter changesheets" onSubmit={(e) => e.preventDefault()}>
          <FilterSelect
            label="Status"
            value={filters.status}
            options={STATUSES}
            onChange={(status) => setFilters({ status, cursor: '' })}
          />
        </form>
        <PagedTable
          list={list}
          what="changesheets"
          empty={`No changesheet has been submitted${filters.status ? ` with status ${filters.status}` : ''}.`}
          columns={['Sheet', 'Status', 'Documents', 'Submitted by', 'Submitted', 'Applied / reverted']}
          label="Pages of changesheets"
          cursor={filters.cursor}
          go={(cursor) => setFilters({ cursor })}
          firstText="Newest"
          nextText="Older"
          row={(s) => (
            <tr key={s.object_id} data-sheet={s.object_id} data-status={s.status}>
              <td>
                <Link href={`/changesheets/${s.object_id}`}>{s.name ?? s.object_id}</Link>
              </td>
              <td>
                <Status value={s.status} />
              </td>
              <td>{s.documents}</td>
              <td>{s.submitted_by}</td>
              <td>{time(s.submitted_at)}</td>
              <td>{time(s.reverted_at ?? s.applied_at)}</td>
            </tr>
          )}
        />
      </section>
    </>
  );
}

interface Docs {
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
}

/**
 * Before and after of each document. An applied or reverted sheet carries both from its transaction
 * log; for a pending or failed one the document as it is now is the before, and the stored patch gives
 * the after.
 */
async function documentsOf(sheet: ChangesheetStatus, signal: AbortSignal): Promise<Record<string, Docs>> {
  const docs: Record<string, Docs> = {};
  for (const change of sheet.changes) {
    if (change.before && change.after) {
      docs[change.id] = { before: change.before, after: change.after };
      continue;
    }
    try {
      const now = await api<Record<string, unknown>>(`/metadata/ids/${encodeURIComponent(change.id)}`, {
        signal,
      });
      const after = applyPatch(
        deepClone(now) as Record<string, unknown>,
        deepClone(change.patch) as Operation[],
        false,
        false,
      ).newDocument;
      docs[change.id] = { before: now, after };
    } catch {
      docs[change.id] = {};
    }
  }
  return docs;
}

export function ChangesheetPage({ id }: { id: string }) {
  const sheet = useLoad(
    (signal) => api<ChangesheetStatus>(`/metadata/changesheets/${encodeURIComponent(id)}`, { signal }),
    id,
    2000,
  );
  const status = sheet.data?.status ?? '';
  const docs = useLoad(
    (signal) => (sheet.data ? documentsOf(sheet.data, signal) : Promise.resolve(undefined)),
    `${id}/${status}/${sheet.data ? 'loaded' : ''}`,
  );
  const [reverting, setReverting] = useState(false);
  const [error, setError] = useState<Error>();
  return (
    <Loaded data={sheet.data} error={sheet.error} reload={sheet.reload} what="the changesheet">
      {(s) => (
        <>
          <PageTitle title={`Changesheet ${shortId(s.object_id)}`}>
            {s.status === 'applied' ? (
              <button
                type="button"
                class="danger"
                disabled={reverting}
                onClick={() => {
                  setReverting(true);
                  api(`/metadata/changesheets/${encodeURIComponent(s.object_id)}:revert`, {
                    method: 'POST',
                  }).then(
                    () => {
                      setReverting(false);
                      sheet.reload();
                    },
                    (err: unknown) => {
                      setReverting(false);
                      setError(err as Error);
                    },
                  );
                }}
              >
                Revert
              </button>
            ) : null}
          </PageTitle>
          {error ? <ErrorBox error={error} /> : null}
          <dl class="facts">
            <Fact term="Status">
              <Status value={s.status} />
            </Fact>
            <Fact term="Object">
              <Link href={`/objects/${s.object_id}`} class="mono">
                {s.object_id}
              </Link>
            </Fact>
            <Fact term="Submitted">
              {time(s.submitted_at)} by {s.submitted_by}
            </Fact>
            {s.applied_at ? <Fact term="Applied">{time(s.applied_at)}</Fact> : null}
            {s.reverted_at ? <Fact term="Reverted">{time(s.reverted_at)}</Fact> : null}
            {s.run ? (
              <Fact term="Run">
                <Link href={`/runs/${s.run.run_id}`} class="mono">
                  {shortId(s.run.run_id)}
                </Link>{' '}
                <Status value={s.run.status} />
              </Fact>
            ) : null}
            {s.job ? (
              <Fact term="Site job">
                <Link href={`/site-jobs/${s.job.id}`} class="mono">
                  {s.job.id}
                </Link>{' '}
                <Status value={s.job.status} />
              </Fact>
            ) : null}
          </dl>
          {s.error ? (
            <p class="state state-error" role="alert">
              {s.error.code}: {s.error.message}
            </p>
          ) : null}
          <h2>Changes</h2>
          {s.changes.length === 0 ? <Empty>This sheet changes no document.</Empty> : null}
          {s.changes.map((c) => (
            <DocumentDiff
              key={c.id}
              id={c.id}
              collection={c.collection}
              patch={c.patch}
              rows={c.rows}
              {...(docs.data?.[c.id] ?? {})}
            />
          ))}
        </>
      )}
    </Loaded>
  );
}
