import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Aggregator } from 'mingo';
import type { Document } from 'mongodb';
import type { Logger } from 'pino';

import { AuthService } from '../auth/auth.service.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import { BadRequestError, ForbiddenError, NotFoundError } from '../common/errors/domain-errors.js';
import { mintId } from '../common/ids/ids.js';
import { checkFilter } from '../common/pagination/filter-policy.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { LOGGER } from '../infra/logging/logging.module.js';
import { MetadataService } from './metadata.service.js';
import type { CountResponseDto, CursorResponseDto, QueryCommandDto, QueryResponse } from './queries.dto.js';
import { QueriesRepository, type AggregateSpec, type FindSpec } from './queries.repository.js';
import {
  checkPipeline,
  checkProjection,
  checkSort,
  checkStoreEvaluable,
  filterPolicyOf,
  firstInProcessStage,
  invalidQuery,
} from './query-policy.js';
import { QueryWritesService } from './query-writes.service.js';
import type { CollectionSpec } from './schema/metadata-schema.js';

const COMMANDS = ['find', 'count', 'aggregate', 'getMore', 'update', 'delete'] as const;
type CommandName = (typeof COMMANDS)[number];

/** The fields each command may carry besides its own name. */
const COMMAND_FIELDS: Record<CommandName, readonly (keyof QueryCommandDto)[]> = {
  find: ['filter', 'projection', 'sort', 'limit', 'batchSize'],
  count: ['query'],
  aggregate: ['pipeline', 'cursor', 'allowDiskUse'],
  getMore: ['batchSize'],
  update: ['updates'],
  delete: ['deletes'],
};

const DEFAULT_FIND_BATCH = 101;
const DEFAULT_AGGREGATE_BATCH = 25;
const SWEEP_INTERVAL_MS = 5 * 60_000;
const SCRATCH_MAX_AGE_MS = 60 * 60_000;

/** Documents a pipeline may hand to the hub's part of it (see aggregateInProcess). */
const MAX_IN_PROCESS_DOCUMENTS = 20_000;
/** Values per `$in` read when joining. */
const LOOKUP_BATCH = 1000;

interface LookupStage {
  from: string;
  localField: string;
  foreignField: string;
  as: string;
}

/** The scalar values at a dotted path, arrays flattened (how `$lookup` compares fields). */
function valuesAt(doc: unknown, path: string): unknown[] {
  let current: unknown[] = [doc];
  for (const key of path.split('.')) {
    current = current.flatMap((value): unknown[] => {
      const next: unknown =
        typeof value === 'object' && value !== null && !Array.isArray(value)
          ? (value as Record<string, unknown>)[key]
          : undefined;
      return next === undefined ? [] : Array.isArray(next) ? (next as unknown[]) : [next];
    });
  }
  return current.filter((value) => value !== null && typeof value !== 'object');
}

/** Collection names NMDC's clients still use, and the collection that replaced each. */
const LEGACY_COLLECTIONS: Readonly<Record<string, string>> = { omics_processing_set: 'data_generation_set' };

/**
 * `POST /queries:run`: MongoDB-style find, count, aggregate and getMore over schema collections only;
 * update and delete are {@link QueryWritesService}'s.
 */
@Injectable()
export class QueriesService implements OnModuleInit, OnModuleDestroy {
  private readonly cursorTtlMs: number;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly metadata: MetadataService,
    private readonly queries: QueriesRepository,
    private readonly auth: AuthService,
    private readonly writes: QueryWritesService,
  ) {
    this.cursorTtlMs = config.metadata.queryCursorTtlSeconds * 1000;
  }

  onModuleInit(): void {
    this.sweeper = setInterval(() => {
      this.sweep(new Date()).catch((error: unknown) =>
        this.log.warn({ err: error }, 'queries:run sweep failed'),
      );
    }, SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  /** Forgets expired cursors (no TTL index on FerretDB) and scratch collections of crashed updates. */
  sweep(now: Date): Promise<{ cursors: number; scratch: number }> {
    return this.queries.sweep(now, SCRATCH_MAX_AGE_MS);
  }

  async run(
    command: QueryCommandDto,
    principal: Principal,
    options: { allowBrokenRefs: boolean } = { allowBrokenRefs: false },
  ): Promise<QueryResponse> {
    const name = this.commandOf(command);
    switch (name) {
      case 'find':
        return this.find(command, principal);
      case 'count':
        return this.count(command);
      case 'aggregate':
        return this.aggregate(command, principal);
      case 'getMore':
        return this.getMore(command, principal);
      case 'update':
        await this.requireWriter(principal, 'update');
        return this.writes.update(this.collection(command.update), command.updates ?? [], principal);
      case 'delete':
        await this.requireWriter(principal, 'delete');
        return this.writes.delete(this.collection(command.delete), command.deletes ?? [], principal, options);
    }
  }

  private commandOf(command: QueryCommandDto): CommandName {
    const given = COMMANDS.filter((name) => command[name] !== undefined);
    const name = given[0];
    if (given.length !== 1 || name === undefined) {
      throw new BadRequestError(
        given.length === 0
          ? `The body names no command; send exactly one of ${COMMANDS.join(', ')}`
          : `The body names ${given.length} commands (${given.join(', ')}); send exactly one`,
        {
          errors: [{ path: 'command', message: `exactly one of ${COMMANDS.join(', ')}` }],
          code: 'invalid_query',
        },
      );
    }
    const allowed = new Set<string>([name, ...COMMAND_FIELDS[name]]);
    const stray = Object.keys(command).filter(
      (key) => command[key as keyof QueryCommandDto] !== undefined && !allowed.has(key),
    );
    if (stray.length > 0) {
      throw invalidQuery(stray.map((key) => ({ path: key, message: `does not go with a ${name} command` })));
    }
    if (name === 'aggregate' && command.pipeline === undefined) {
      throw invalidQuery([{ path: 'pipeline', message: 'aggregate needs a pipeline (an array of stages)' }]);
    }
    if (name === 'update' && command.updates === undefined) {
      throw invalidQuery([{ path: 'updates', message: 'update needs updates: [{q, u, multi?}]' }]);
    }
    if (name === 'delete' && command.deletes === undefined) {
      throw invalidQuery([{ path: 'deletes', message: 'delete needs deletes: [{q, limit}]' }]);
    }
    return name;
  }

  private collection(name: string | undefined): CollectionSpec {
    // NMDC's clients still name data_generation_set by its name before nmdc-schema 11.
    const current = name !== undefined ? LEGACY_COLLECTIONS[name] : undefined;
    if (current && !this.metadata.hasCollection(name ?? '') && this.metadata.hasCollection(current)) {
      return this.metadata.requireCollection(current);
    }
    return this.metadata.requireCollection(name ?? '');
  }

  private async requireWriter(principal: Principal, command: string): Promise<void> {
    if (!(await this.auth.holdsAllowance(principal, 'queries:write'))) {
      throw new ForbiddenError(
        `${command} needs the "queries:write" allowance, which the caller does not hold; ask an admin to grant it`,
      );
    }
  }

  private async find(command: QueryCommandDto, principal: Principal): Promise<CursorResponseDto> {
    const spec = this.collection(command.find);
    const problems = [
      ...checkFilter(command.filter ?? {}, filterPolicyOf(spec)).map((p) => ({
        ...p,
        path: `/filter${p.path}`,
      })),
      ...checkStoreEvaluable(command.filter ?? {}, '/filter'),
      ...(command.projection ? checkProjection(command.projection, '/projection') : []),
      ...(command.sort ? checkSort(command.sort, '/sort') : []),
    ];
    if (problems.length > 0) {
      throw invalidQuery(problems);
    }
    const projection = command.projection ?? {};
    const findSpec: FindSpec = {
      filter: command.filter ?? {},
      // `_id` mirrors `id`; it is only returned when asked for.
      projection: '_id' in projection ? projection : { ...projection, _id: 0 },
      // A total order, so a continuation reopened elsewhere skips exactly what was already returned.
      sort: { ...(command.sort ?? {}), ...(command.sort && '_id' in command.sort ? {} : { _id: 1 }) },
      limit: command.limit ?? 0,
    };
    return this.firstBatch(spec.name, 'find', findSpec, command.batchSize ?? DEFAULT_FIND_BATCH, principal);
  }

  private async count(command: QueryCommandDto): Promise<CountResponseDto> {
    const spec = this.collection(command.count);
    const problems = [
      ...checkFilter(command.query ?? {}, filterPolicyOf(spec)).map((p) => ({
        ...p,
        path: `/query${p.path}`,
      })),
      ...checkStoreEvaluable(command.query ?? {}, '/query'),
    ];
    if (problems.length > 0) {
      throw invalidQuery(problems);
    }
    return { ok: 1, n: await this.queries.count(spec.name, command.query ?? {}) };
  }

  private async aggregate(command: QueryCommandDto, principal: Principal): Promise<CursorResponseDto> {
    const spec = this.collection(command.aggregate);
    const pipeline = (command.pipeline ?? []) as Document[];
    const problems = [
      ...checkPipeline(pipeline, filterPolicyOf(spec)),
      ...pipeline.flatMap((stage, i) =>
        '$match' in stage ? checkStoreEvaluable(stage.$match, `/pipeline/${i}/$match`) : [],
      ),
    ];
    if (problems.length > 0) {
      throw invalidQuery(problems);
    }
    for (const stage of pipeline) {
      const lookup = stage.$lookup as { from?: unknown } | undefined;
      if (lookup && typeof lookup.from === 'string') {
        // Joins reach schema collections only, never internal ones.
        this.collection(lookup.from);
      }
    }
    const sorted = pipeline.some((stage) => '$sort' in stage);
    const aggregateSpec: AggregateSpec = {
      pipeline: sorted ? pipeline : [...pipeline, { $sort: { _id: 1 } }],
    };
    return this.firstBatch(
      spec.name,
      'aggregate',
      aggregateSpec,
      command.cursor?.batchSize ?? DEFAULT_AGGREGATE_BATCH,
      principal,
    );
  }

  private async firstBatch(
    collection: string,
    kind: 'find' | 'aggregate',
    spec: FindSpec | AggregateSpec,
    batchSize: number,
    principal: Principal,
  ): Promise<CursorResponseDto> {
    const cursorId = mintId('sys0', 10);
    const docs = await this.read(collection, kind, spec, cursorId, 0, batchSize);
    const more = docs.length > batchSize;
    if (more) {
      const now = new Date();
      await this.queries.saveCursor({
        _id: cursorId,
        collection,
        kind,
        spec_json: JSON.stringify(spec),
        position: batchSize,
        batch_size: batchSize,
        owner: describePrincipal(principal),
        created_at: now,
        expires_at: new Date(now.getTime() + this.cursorTtlMs),
      });
    }
    return { ok: 1, cursor: { batch: docs.slice(0, batchSize), id: more ? cursorId : null } };
  }

  private async getMore(command: QueryCommandDto, principal: Principal): Promise<CursorResponseDto> {
    const id = command.getMore ?? '';
    const now = new Date();
    const owner = describePrincipal(principal);
    // The batch is claimed before it is read, so concurrent continuations each get different documents.
    const claim = await this.queries.claimBatch(
      id,
      (cursor) =>
        cursor.owner === owner && cursor.expires_at > now ? (command.batchSize ?? cursor.batch_size) : null,
      new Date(now.getTime() + this.cursorTtlMs),
    );
    if (!claim) {
      throw new NotFoundError(
        `No cursor ${id}: cursors end when drained, expire ${this.cursorTtlMs / 1000} s after their last use, and only serve whoever opened them`,
      );
    }
    const { cursor, position, count: batchSize } = claim;
    const spec = JSON.parse(cursor.spec_json) as FindSpec | AggregateSpec;
    const docs = await this.read(cursor.collection, cursor.kind, spec, id, position, batchSize);
    const more = docs.length > batchSize;
    if (!more) {
      await this.queries.deleteCursor(id);
    }
    return { ok: 1, cursor: { batch: docs.slice(0, batchSize), id: more ? id : null } };
  }

  /** One batch plus a look-ahead document that tells whether there is more. */
  private read(
    collection: string,
    kind: 'find' | 'aggregate',
    spec: FindSpec | AggregateSpec,
    session: string,
    position: number,
    batchSize: number,
  ): Promise<Document[]> {
    if (kind === 'find') {
      return this.queries.readFind(collection, spec as FindSpec, session, position, batchSize + 1);
    }
    const { pipeline } = spec as AggregateSpec;
    if (firstInProcessStage(pipeline) < pipeline.length) {
      return this.aggregateInProcess(collection, pipeline, position, batchSize + 1);
    }
    return this.queries.readAggregate(collection, spec as AggregateSpec, session, position, batchSize + 1);
  }

  /**
   * A pipeline with stages FerretDB v1 lacks (`$lookup`, `$replaceWith`, `$group` with `$first`, …): the
   * store runs it up to the first of them, the hub the rest (joins as `$in` reads of the named schema
   * collection, every other stage with mingo). Each batch recomputes it, so the part before the first
   * such stage should narrow the documents (`$match`); more than MAX_IN_PROCESS_DOCUMENTS is refused.
   */
  private async aggregateInProcess(
    collection: string,
    pipeline: readonly Document[],
    position: number,
    count: number,
  ): Promise<Document[]> {
    const split = firstInProcessStage(pipeline);
    let docs = await this.queries.aggregateAll(
      collection,
      pipeline.slice(0, split),
      MAX_IN_PROCESS_DOCUMENTS,
    );
    if (docs.length > MAX_IN_PROCESS_DOCUMENTS) {
      throw invalidQuery([
        {
          path: `/pipeline/${split}`,
          message: `this stage runs in the hub, over at most ${MAX_IN_PROCESS_DOCUMENTS} documents; narrow them with $match before it`,
        },
      ]);
    }
    let rest = pipeline.slice(split);
    while (rest.length > 0) {
      const [stage, ...tail] = rest;
      if (stage && '$lookup' in stage) {
        docs = await this.lookup(docs, stage.$lookup as LookupStage);
        rest = tail;
        continue;
      }
      const next = rest.findIndex((s) => '$lookup' in s);
      const chunk = next === -1 ? rest : rest.slice(0, next);
      docs = new Aggregator([...chunk]).run<Document>(docs);
      rest = next === -1 ? [] : rest.slice(next);
    }
    return docs.slice(position, position + count);
  }

  private async lookup(docs: readonly Document[], stage: LookupStage): Promise<Document[]> {
    const from = this.collection(stage.from).name;
    const wanted = [...new Set(docs.flatMap((doc) => valuesAt(doc, stage.localField)))];
    const foreign: Document[] = [];
    for (let start = 0; start < wanted.length; start += LOOKUP_BATCH) {
      foreign.push(
        ...(await this.queries.findWhereIn(
          from,
          stage.foreignField,
          wanted.slice(start, start + LOOKUP_BATCH),
        )),
      );
    }
    return docs.map((doc) => {
      const local = new Set(valuesAt(doc, stage.localField).map(String));
      return {
        ...doc,
        [stage.as]: foreign.filter((other) =>
          valuesAt(other, stage.foreignField).some((v) => local.has(String(v))),
        ),
      };
    });
  }
}
