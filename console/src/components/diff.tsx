import type { PatchOp } from '../api';

/** Reads an RFC 6901 JSON Pointer; undefined when the path does not exist. */
export function pointer(doc: unknown, path: string): unknown {
  if (path === '') {
    return doc;
  }
  let value: unknown = doc;
  for (const raw of path.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (value === null || typeof value !== 'object') {
      return undefined;
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function show(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value, null, 1);
}

/**
 * One document's change, side by side: each path the stored patch touches, with its value before and
 * after. Without the documents (an unreachable id) the patch's own values are all there is to show.
 */
export function DocumentDiff({
  id,
  collection,
  patch,
  before,
  after,
  rows,
}: {
  id: string;
  collection: string;
  patch: PatchOp[];
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  rows?: number[];
}) {
  return (
    <section class="diff" aria-label={`Changes to ${id}`} data-doc={id}>
      <h3>
        <span class="mono">{id}</span> <span class="muted">in {collection}</span>
        {rows?.length ? <span class="muted"> · sheet rows {rows.join(', ')}</span> : null}
      </h3>
      <div class="table-wrap">
        <table class="diff-table">
          <thead>
            <tr>
              <th scope="col">Path</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {patch.map((op, i) => {
              const old = before ? pointer(before, op.path) : undefined;
              const next = after ? pointer(after, op.path) : op.op === 'remove' ? undefined : op.value;
              return (
                <tr key={i} data-op={op.op}>
                  <th scope="row" class="mono">
                    {op.path} <small class="muted">{op.op}</small>
                  </th>
                  <td class="del">
                    <pre>{show(old)}</pre>
                  </td>
                  <td class="ins">
                    <pre>{show(next)}</pre>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
