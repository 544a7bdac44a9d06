import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';

import { api, query, type DrsContents, type DrsObject, type Page } from '../api';
import { CopyButton, Empty, ErrorBox, Fact, Loaded, PageTitle, PagedTable } from '../components/ui';
import { bytes, time } from '../format';
import { useFilters, useLoad } from '../hooks';

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function ObjectsPage() {
  const [filters, setFilters] = useFilters(['q', 'cursor'] as const);
  const [draft, setDraft] = useState(filters.q);
  const filter = filters.q
    ? JSON.stringify({
        $or: [
          { id: filters.q },
          { name: { $regex: escapeRegex(filters.q), $options: 'i' } },
          { description: { $regex: escapeRegex(filters.q), $options: 'i' } },
        ],
      })
    : undefined;
  const list = useLoad(
    (signal) =>
      api<Page<DrsObject>>(
        `/objects${query({ filter, max_page_size: 25, page_token: filters.cursor || undefined })}`,
        {
          signal,
        },
      ),
    JSON.stringify(filters),
  );
  return (
    <>
      <PageTitle title="Objects" />
      <form
        class="filters"
        role="search"
        aria-label="Search objects"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ q: draft.trim(), cursor: '' });
        }}
      >
        <label>
          Name, description or id
          <input type="search" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} />
        </label>
        <button type="submit">Search</button>
      </form>
      <PagedTable
        list={list}
        what="objects"
        empty={filters.q ? `No object matches “${filters.q}”.` : 'The registry holds no objects yet.'}
        columns={['Object', 'Name', 'Kind', 'Size', 'Types', 'Created']}
        label="Pages of objects"
        cursor={filters.cursor}
        go={(cursor) => setFilters({ cursor })}
        firstText="First page"
        nextText="Next page"
        row={(o) => (
          <tr key={o.id} data-object={o.id}>
            <td>
              <Link href={`/objects/${o.id}`} class="mono">
                {o.id}
              </Link>
            </td>
            <td>{o.name ?? '—'}</td>
            <td>{o.contents ? 'bundle' : 'blob'}</td>
            <td>{bytes(o.size)}</td>
            <td>{(o.types ?? []).join(', ')}</td>
            <td>{time(o.created_time)}</td>
          </tr>
        )}
      />
    </>
  );
}

function Tree({ contents }: { contents: DrsContents[] }) {
  return (
    <ul class="tree">
      {contents.map((c) => (
        <li key={`${c.name}:${c.id ?? ''}`}>
          {c.contents ? '📁 ' : ''}
          {c.id ? <Link href={`/objects/${c.id}`}>{c.name}</Link> : c.name}
          {c.id ? <span class="mono muted"> {c.id}</span> : null}
          {c.contents && c.contents.length > 0 ? <Tree contents={c.contents} /> : null}
        </li>
      ))}
    </ul>
  );
}

/** Resolves an access method to a URL (signed for the hub's own blobs) and lets the browser fetch it. */
function Download({ object }: { object: DrsObject }) {
  const [error, setError] = useState<Error>();
  const method = object.access_methods?.[0];
  if (!method || object.contents) {
    return null;
  }
  return (
    <>
      <button
        type="button"
        onClick={() => {
          setError(undefined);
          const resolve = method.access_url
            ? Promise.resolve(method.access_url.url)
            : api<{ url: string }>(
                `/ga4gh/drs/v1/objects/${encodeURIComponent(object.id)}/access/${encodeURIComponent(method.access_id ?? '')}`,
              ).then((r) => r.url);
          resolve.then(
            (url) => {
              const a = document.createElement('a');
              a.href = url;
              a.download = object.name ?? object.id;
              document.body.append(a);
              a.click();
              a.remove();
            },
            (err: unknown) => setError(err as Error),
          );
        }}
      >
        Download
      </button>
      {error ? <ErrorBox error={error} /> : null}
    </>
  );
}

export function ObjectPage({ id }: { id: string }) {
  const object = useLoad(
    (signal) =>
      api<DrsObject>(`/ga4gh/drs/v1/objects/${encodeURIComponent(id)}${query({ expand: 'true' })}`, {
        signal,
      }),
    id,
  );
  const record = useLoad((signal) => api<DrsObject>(`/objects/${encodeURIComponent(id)}`, { signal }), id);
  return (
    <Loaded data={object.data} error={object.error} reload={object.reload} what="the object">
      {(o) => (
        <>
          <PageTitle title={o.name ?? o.id}>
            <CopyButton text={o.self_uri} label="Copy drs:// URI" />
            <Download object={o} />
          </PageTitle>
          <dl class="facts">
            <Fact term="DRS URI" wide valueClass="mono">
              {o.self_uri}
            </Fact>
            <Fact term="Id" valueClass="mono">
              {o.id}
            </Fact>
            <Fact term="Kind">{o.contents ? 'bundle' : 'blob'}</Fact>
            <Fact term="Size">{bytes(o.size)}</Fact>
            <Fact term="Created">{time(o.created_time)}</Fact>
            {o.mime_type ? <Fact term="Media type">{o.mime_type}</Fact> : null}
            {record.data?.types?.length ? <Fact term="Types">{record.data.types.join(', ')}</Fact> : null}
            <Fact term="Checksums" wide valueClass="mono clip">
              {o.checksums.map((c) => (
                <div key={c.type}>
                  {c.type}: {c.checksum}
                </div>
              ))}
            </Fact>
          </dl>
          {o.description ? <p>{o.description}</p> : null}
          {o.contents ? (
            <section aria-labelledby="tree-title">
              <h2 id="tree-title">Contents</h2>
              {o.contents.length === 0 ? (
                <Empty>This bundle is empty.</Empty>
              ) : (
                <Tree contents={o.contents} />
              )}
            </section>
          ) : null}
        </>
      )}
    </Loaded>
  );
}
