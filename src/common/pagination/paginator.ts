import { randomBytes } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import { Query } from 'mingo';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import {
  applyProjection,
  needsInProcessMatch,
  parseFilter,
  parseProjection,
  type FilterPolicy,
} from './filter-policy.js';
import { DEFAULT_PAGE_SIZE, type ListRequestDto, type Page } from './list-request.dto.js';
import { PageTokenCodec } from './page-token.js';
import { refusingBadRegex } from './regex-check.js';

/** What a repository is asked for: a validated filter, the key to continue after, and how many. */
export interface PageQuery {
  readonly filter: Record<string, unknown>;
  readonly after?: string;
  /** The page size plus one look-ahead document, which tells whether another page exists. */
  readonly limit: number;
  /** The fields asked for (the key field included); repositories may project in the database with it. */
  readonly fields?: readonly string[];
  /** Identifies one traversal across pages, for repositories that keep a cursor open between them. */
  readonly session?: string;
}

export interface PaginationSpec<TDoc, TOut extends object> {
  /** Names the list, so a token from one list cannot be replayed on another. */
  readonly scope: string;
  readonly filterPolicy: FilterPolicy;
  /** The fields of the public representation, which `projection` may name. */
  readonly fields: readonly string[];
  /** The unique field results are ordered by. */
  readonly keyField: string;
  readonly keyOf: (doc: TDoc) => string;
  readonly fetch: (query: PageQuery) => Promise<TDoc[]>;
  readonly map: (doc: TDoc) => TOut;
  /** Conditions the caller cannot see or lift (for example "only this site's jobs"). */
  readonly baseFilter?: Record<string, unknown>;
  /** Give each traversal a session id that travels in its tokens (see {@link PageQuery.session}). */
  readonly resumable?: boolean;
  /** Counts the matches when a traversal begins; the count then travels in the tokens. */
  readonly count?: (filter: Record<string, unknown>) => Promise<number>;
  /** Turns the caller's filter (public field names) into one over the stored documents. */
  readonly storedFilter?: (filter: Record<string, unknown>) => Record<string, unknown>;
}

/** How many documents one database read brings when a filter is matched in process. */
const IN_PROCESS_BATCH = 500;

/** A list request whose filter and projection are already parsed and checked. */
export interface ParsedListRequest {
  readonly filter: Record<string, unknown>;
  readonly projection?: readonly string[];
  readonly pageSize: number;
  readonly pageToken?: string;
}

export interface CountedPage<T> extends Page<T> {
  /** Present when the spec counts: the number of matches when the traversal began. */
  total?: number;
}

/** Turns a ListRequest into one keyset-paginated page with a signed continuation token. */
@Injectable()
export class Paginator {
  private readonly tokens: PageTokenCodec;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.tokens = new PageTokenCodec(config.secrets.urlSigningKey);
  }

  paginate<TDoc, TOut extends object>(
    request: ListRequestDto,
    spec: PaginationSpec<TDoc, TOut>,
  ): Promise<CountedPage<Partial<TOut>>> {
    const projection = parseProjection(request.projection, spec.fields, spec.keyField);
    return this.page(
      {
        filter: parseFilter(request.filter, spec.filterPolicy),
        ...(projection ? { projection } : {}),
        pageSize: request.max_page_size ?? DEFAULT_PAGE_SIZE,
        ...(request.page_token ? { pageToken: request.page_token } : {}),
      },
      spec,
    );
  }

  /** One page of an already parsed request (for routes whose filters have another syntax). */
  async page<TDoc, TOut extends object>(
    request: ParsedListRequest,
    spec: PaginationSpec<TDoc, TOut>,
  ): Promise<CountedPage<Partial<TOut>>> {
    const { filter: userFilter, projection, pageSize: limit } = request;
    const fingerprint = PageTokenCodec.fingerprint([userFilter, projection ?? null, spec.baseFilter ?? null]);
    const decoded = request.pageToken
      ? this.tokens.decodeWithExtras(request.pageToken, spec.scope, fingerprint)
      : undefined;
    const storedFilter = spec.storedFilter ? spec.storedFilter(userFilter) : userFilter;
    if (needsInProcessMatch(storedFilter)) {
      return this.pageMatchedInProcess(storedFilter, request, spec, fingerprint, decoded?.after);
    }
    const filter = spec.baseFilter ? { $and: [spec.baseFilter, storedFilter] } : storedFilter;
    const session = spec.resumable ? (decoded?.session ?? randomBytes(12).toString('base64url')) : undefined;
    const total = spec.count
      ? decoded
        ? decoded.total
        : await refusingBadRegex(() => spec.count!(filter))
      : undefined;

    const docs = await refusingBadRegex(() =>
      spec.fetch({
        filter,
        ...(decoded ? { after: decoded.after } : {}),
        limit: limit + 1,
        ...(projection ? { fields: projection } : {}),
        ...(session ? { session } : {}),
      }),
    );
    const pageDocs = docs.slice(0, limit);
    const resources = pageDocs.map((doc) => applyProjection(spec.map(doc), projection));
    const last = pageDocs[pageDocs.length - 1];
    const page: CountedPage<Partial<TOut>> = { resources };
    if (docs.length > limit && last !== undefined) {
      page.next_page_token = this.tokens.encode(spec.scope, spec.keyOf(last), fingerprint, {
        ...(session ? { session } : {}),
        ...(total !== undefined ? { total } : {}),
      });
    }
    if (total !== undefined) {
      page.total = total;
    }
    return page;
  }

  /**
   * A page for a filter the database cannot evaluate correctly: documents are read in key order, in
   * batches, under the base filter alone, and matched here with a MongoDB query engine (mingo).
   */
  private async pageMatchedInProcess<TDoc, TOut extends object>(
    filter: Record<string, unknown>,
    request: ParsedListRequest,
    spec: PaginationSpec<TDoc, TOut>,
    fingerprint: string,
    startAfter: string | undefined,
  ): Promise<CountedPage<Partial<TOut>>> {
    const limit = request.pageSize;
    const query = new Query(filter);
    const matched: TDoc[] = [];
    let after = startAfter;
    for (;;) {
      const batch = await spec.fetch({
        filter: spec.baseFilter ?? {},
        ...(after !== undefined ? { after } : {}),
        limit: IN_PROCESS_BATCH,
      });
      for (const doc of batch) {
        if (query.test(doc as Record<string, unknown>)) {
          matched.push(doc);
        }
      }
      const last = batch[batch.length - 1];
      if (batch.length < IN_PROCESS_BATCH || last === undefined || matched.length > limit) {
        break;
      }
      after = spec.keyOf(last);
    }
    const pageDocs = matched.slice(0, limit);
    const page: CountedPage<Partial<TOut>> = {
      resources: pageDocs.map((doc) => applyProjection(spec.map(doc), request.projection)),
    };
    const lastOnPage = pageDocs[pageDocs.length - 1];
    if (matched.length > limit && lastOnPage !== undefined) {
      page.next_page_token = this.tokens.encode(spec.scope, spec.keyOf(lastOnPage), fingerprint, {});
    }
    return page;
  }
}
