import { Injectable } from '@nestjs/common';

import { BadRequestError, NotFoundError } from '../common/errors/domain-errors.js';
import { parseProjection } from '../common/pagination/filter-policy.js';
import type { ListRequestDto } from '../common/pagination/list-request.dto.js';
import { Paginator, type CountedPage } from '../common/pagination/paginator.js';
import { parseSchemaId, requireSchemaId } from '../common/ids/schema-ids.js';
import { MAX_LISTED_PROBLEMS } from '../common/errors/problems.js';
import { withoutMongoId } from '../infra/mongo/mongo-errors.js';

function unescapePointerSegment(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
import type { CollectionListDto, ValidationResultDto } from './metadata.dto.js';
import { MetadataRepository, pageKeyOf, type MetadataDoc } from './metadata.repository.js';
import { MetadataStore } from './metadata-store.service.js';
import type { CollectionSpec } from './schema/metadata-schema.js';

/** Reads of schema collections and JSON validation, as the HTTP API offers them. */
@Injectable()
export class MetadataService {
  constructor(
    private readonly store: MetadataStore,
    private readonly documents: MetadataRepository,
    private readonly paginator: Paginator,
  ) {}

  hasCollection(name: string): boolean {
    return this.store.collectionSpec(name) !== undefined;
  }

  /** The schema collection named by a request, or a 400 listing the ones that exist. */
  requireCollection(name: string): CollectionSpec {
    const spec = this.store.collectionSpec(name);
    if (!spec) {
      const known = this.store.schema.collections().map((c) => c.name);
      throw new BadRequestError(
        `${JSON.stringify(name)} is not a metadata collection; readable collections: ${known.join(', ')}`,
        { errors: [{ path: 'collection', message: 'unknown collection' }], code: 'unknown_collection' },
      );
    }
    return spec;
  }

  async collections(): Promise<CollectionListDto> {
    const schema = this.store.schema;
    const specs = schema.collections();
    const counts = await Promise.all(specs.map((spec) => this.documents.count(spec.name)));
    return {
      schema: `${schema.title} ${schema.version}`,
      resources: specs.map((spec, i) => {
        const classes = spec.classes.map((c) => schema.classNamed(c)).filter((c) => c !== undefined);
        return {
          name: spec.name,
          ...(spec.description ? { description: spec.description } : {}),
          count: counts[i] ?? 0,
          classes: classes.map((c) => c.uri),
          typecodes: [...new Set(classes.flatMap((c) => c.typecodes))],
        };
      }),
    };
  }

  list(collection: string, request: ListRequestDto): Promise<CountedPage<Partial<MetadataDoc>>> {
    const spec = this.requireCollection(collection);
    return this.paginator.paginate(request, {
      scope: `metadata:${spec.name}`,
      filterPolicy: { fields: spec.fields },
      fields: spec.fields,
      keyField: spec.hasId ? 'id' : '_id',
      keyOf: pageKeyOf(spec),
      fetch: (query) => this.documents.findPage(spec, query),
      map: withoutMongoId,
      resumable: true,
    });
  }

  async get(collection: string, id: string, projection?: string): Promise<MetadataDoc> {
    const spec = this.requireCollection(collection);
    if (!spec.hasId) {
      throw new BadRequestError(
        `${spec.name} holds documents without an id slot, so they cannot be fetched by id; list it with a filter`,
        { errors: [{ path: 'collection', message: 'collection has no ids' }], code: 'unknown_collection' },
      );
    }
    const fields = parseProjection(projection, spec.fields, 'id');
    const doc = await this.documents.findById(spec.name, id, fields);
    if (!doc) {
      throw new NotFoundError(`${spec.name} has no document with id ${id}`);
    }
    return doc;
  }

  /**
   * A document by id alone. With a schema that declares typecodes the id must have the schema-id shape
   * and is looked up where its typecode says; otherwise (or when no class has its typecode) every
   * collection addressed by id is searched, so any schema works.
   */
  async getById(id: string): Promise<MetadataDoc> {
    if (this.store.schema.idPrefix) {
      requireSchemaId(id);
    }
    const found = await this.store.findDocument(id);
    if (!found) {
      const typecode = parseSchemaId(id)?.typecode;
      const unknownTypecode =
        typecode !== undefined &&
        this.store.schema.idPrefix !== undefined &&
        this.store.schema.classesForTypecode(typecode).length === 0;
      throw new NotFoundError(
        unknownTypecode
          ? `No document has id ${id} (and no metadata collection holds ids with typecode "${typecode}")`
          : `No document has id ${id}`,
      );
    }
    return found.document;
  }

  /** Runs every check a submission gets; 422 listing the problems with JSON pointers. */
  /**
   * A validation report is a successful answer whatever it finds: NMDC's clients read `result` from a
   * 200, and the hub's own callers get the same structured problems a refused submission lists.
   */
  async validate(payload: unknown, options: { checkReferences: boolean }): Promise<ValidationResultDto> {
    const { counts, problems } = await this.store.inspectSubmission(payload, options);
    if (problems.length === 0) {
      return { valid: true, counts, result: 'All Okay!' };
    }
    const errors = problems.slice(0, MAX_LISTED_PROBLEMS);
    const detail: Record<string, string[]> = {};
    for (const problem of errors) {
      const collection = unescapePointerSegment(problem.path.split('/')[1] ?? '') || 'Database';
      (detail[collection] ??= []).push(
        problem.path ? `${problem.path}: ${problem.message}` : problem.message,
      );
    }
    return {
      valid: false,
      result: 'errors',
      counts,
      detail,
      errors,
      problem_count: problems.length,
    };
  }
}
