import type { Collection, Document, IndexDescription } from 'mongodb';

/**
 * The indexes of `collection` other than `_id`, ready for `createIndexes`: a baseline collection given the
 * same ones maintains what the hub's collection does, so the two writes compare fairly.
 */
export async function secondaryIndexes(collection: Collection<Document>): Promise<IndexDescription[]> {
  return (await collection.indexes())
    .filter((index) => index.name !== '_id_')
    .map(({ key, name, unique }) => ({ key, ...(name ? { name } : {}), ...(unique ? { unique } : {}) }));
}
