import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Injectable } from '@nestjs/common';

import { MetadataSchema, SchemaLoadError } from './metadata-schema.js';

/** The schema shipped with the hub, used unless METADATA_SCHEMA_PATH names another. */
export const SHIPPED_SCHEMA_PATH = fileURLToPath(new URL('./nmdc-lite.schema.json', import.meta.url));

/** Reads the metadata schema file; done once at boot, so a bad file stops the hub with a clear message. */
@Injectable()
export class MetadataSchemaRepository {
  load(path: string = SHIPPED_SCHEMA_PATH): MetadataSchema {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new SchemaLoadError(path, `it cannot be read (${(error as Error).message})`);
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new SchemaLoadError(path, `it is not valid JSON (${(error as Error).message})`);
    }
    return MetadataSchema.fromDocument(document, path);
  }
}
