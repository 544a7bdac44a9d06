import type { ObjectTypeSeed } from './object-types.repository.js';

/** The object types the hub itself relies on; other features add theirs through the same repository. */
export const OBJECT_TYPE_SEED: readonly ObjectTypeSeed[] = [
  {
    id: 'test',
    name: 'Test',
    description: 'For use in tests and trials; nothing acts on objects of this type',
  },
  {
    id: 'metadata-in',
    name: 'Metadata submission',
    description: 'A JSON document of metadata submitted for validation and ingest',
  },
  {
    id: 'metadata-changesheet',
    name: 'Metadata changesheet',
    description: 'A TSV/CSV changesheet of edits to metadata documents, applied by the apply-changesheet job',
  },
];
