import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

import { ApiError, type Page } from '../api';

const STATUS_TONE: Record<string, string> = {
  SUCCESS: 'ok',
  applied: 'ok',
  done: 'ok',
  RUNNING: 'ok',
  FAILURE: 'bad',
  failed: 'bad',
  CANCELED: 'muted',
  CANCELING: 'warn',
  STOPPED: 'muted',
  reverted: 'muted',
  SKIPPED: 'muted',
  STARTED: 'run',
  STARTING: 'run',
  claimed: 'run',
  QUEUED: 'wait',
  NOT_STARTED: 'wait',
  pending: 'wait',
  unclaimed: 'wait',
};

export function Status({ value }: { value: string }) {
  return <span class={`status status-${STATUS_TONE[value] ?? 'muted'}`}>{value}</span>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="state" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

export function ErrorBox({ error, retry }: { error: Error; retry?: () => void }) {
  const status = error instanceof ApiError ? ` (${error.status})` : '';
  return (
    <div class="state state-error" role="alert">
      <strong>Could not load{status}:</strong> {error.message}
      {retry ? (
        <button type="button" class="link" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state state-empty">{children}</p>;
}

/** The three states every list and detail goes through before it has something to show. */
export function Loaded<T>(props: {
  data: T | undefined;
  error: Error | undefined;
  reload: () => void;
  what: string;
  children: (data: T) => ComponentChildren;
}) {
  if (props.data !== undefined) {
    return <>{props.children(props.data)}</>;
  }
  if (props.error) {
    return <ErrorBox error={props.error} retry={props.reload} />;
  }
  return <Loading what={props.what} />;
}

export function Tags({ tags }: { tags: Record<string, string> }) {
  const entries = Object.entries(tags);
  if (entries.length === 0) {
    return <span class="muted">—</span>;
  }
  return (
    <ul class="tags" aria-label="tags">
      {entries.map(([k, v]) => (
        <li key={k} class="tag">
          {k}={v}
        </li>
      ))}
    </ul>
  );
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      class="small"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(
          () => setCopied(true),
          () => setCopied(false),
        );
      }}
    >
      {copied ? 'Copied' : label}
    </button>
  );
}

export function PageTitle({ title, children }: { title: string; children?: ComponentChildren }) {
  document.title = `${title} · Runtime Hub console`;
  return (
    <header class="page-title">
      <h1>{title}</h1>
      {children ? <div class="page-actions">{children}</div> : null}
    </header>
  );
}

export function Json({ value, label }: { value: unknown; label: string }) {
  return (
    <pre class="json" tabIndex={0} aria-label={label}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** A list's loading and error states, then its empty message or its rows. */
export function ListLoaded<T extends { resources: unknown[] }>(props: {
  data: T | undefined;
  error: Error | undefined;
  reload: () => void;
  what: string;
  empty: ComponentChildren;
  children: (data: T) => ComponentChildren;
}) {
  return (
    <Loaded data={props.data} error={props.error} reload={props.reload} what={props.what}>
      {(data) => (data.resources.length === 0 ? <Empty>{props.empty}</Empty> : props.children(data))}
    </Loaded>
  );
}

/** A header row of column names. */
export function TableHead({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((c) => (
          <th key={c} scope="col">
            {c}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A scrollable table whose header row is the given column names. */
export function DataTable({
  columns,
  class: className,
  children,
}: {
  columns: string[];
  class?: string;
  children: ComponentChildren;
}) {
  return (
    <div class="table-wrap">
      <table class={className}>
        <TableHead columns={columns} />
        {children}
      </table>
    </div>
  );
}

/**
 * Cursor paging: back to the first page when a cursor is set, on to the next while the server hands
 * one out. `go('')` means the first page.
 */
export function Pager({
  label,
  cursor,
  next,
  go,
  firstText,
  nextText,
}: {
  label: string;
  cursor: string;
  next: string | undefined;
  go: (cursor: string) => void;
  firstText: string;
  nextText: string;
}) {
  return (
    <nav class="pager" aria-label={label}>
      {cursor ? (
        <button type="button" onClick={() => go('')}>
          {firstText}
        </button>
      ) : null}
      {next ? (
        <button type="button" onClick={() => go(next)}>
          {nextText}
        </button>
      ) : null}
    </nav>
  );
}

/** A labelled filter select whose first choice, "Any", clears the filter. */
export function FilterSelect({
  label,
  value,
  options,
  onChange,
  children,
}: {
  label: string;
  value: string;
  options: readonly (string | { value: string; label: string })[];
  onChange: (value: string) => void;
  children?: ComponentChildren;
}) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">Any</option>
        {options.map((o) =>
          typeof o === 'string' ? (
            <option key={o} value={o}>
              {o}
            </option>
          ) : (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ),
        )}
        {children}
      </select>
    </label>
  );
}

/** One page of a cursor-paged list: its loading, error and empty states, its table and its pager. */
export function PagedTable<R>(props: {
  list: { data: Page<R> | undefined; error: Error | undefined; reload: () => void };
  what: string;
  empty: ComponentChildren;
  columns: string[];
  class?: string;
  label: string;
  cursor: string;
  go: (cursor: string) => void;
  firstText: string;
  nextText: string;
  row: (item: R) => ComponentChildren;
}) {
  const { list } = props;
  return (
    <ListLoaded
      data={list.data}
      error={list.error}
      reload={list.reload}
      what={props.what}
      empty={props.empty}
    >
      {(page) => (
        <>
          <DataTable class={props.class} columns={props.columns}>
            <tbody>{page.resources.map(props.row)}</tbody>
          </DataTable>
          <Pager
            label={props.label}
            cursor={props.cursor}
            next={page.next_page_token}
            go={props.go}
            firstText={props.firstText}
            nextText={props.nextText}
          />
        </>
      )}
    </ListLoaded>
  );
}

/** One term and its value in a `dl.facts` list. */
export function Fact({
  term,
  wide,
  valueClass,
  children,
}: {
  term: string;
  wide?: boolean;
  valueClass?: string;
  children: ComponentChildren;
}) {
  return (
    <div class={wide ? 'wide' : undefined}>
      <dt>{term}</dt>
      <dd class={valueClass}>{children}</dd>
    </div>
  );
}
