import type { Collection, Document, Filter, WithId } from 'mongodb';

import type { PageQuery } from '../../common/pagination/paginator.js';
import { REVISION_FIELD } from './revision-log.js';

/** Runs one keyset page: documents after `query.after` in ascending `keyField` order. */
export async function findPage<T extends Document>(
  collection: Collection<T>,
  keyField: string,
  query: PageQuery,
): Promise<WithId<T>[]> {
  const filter: Record<string, unknown> =
    query.after === undefined ? query.filter : { $and: [query.filter, { [keyField]: { $gt: query.after } }] };
  // One batch for the whole page: FerretDB v1 can lose a cursor between batches.
  return collection
    .find(filter as Filter<T>, { batchSize: query.limit, projection: { [REVISION_FIELD]: 0 } })
    .sort({ [keyField]: 1 })
    .limit(query.limit)
    .toArray();
}
