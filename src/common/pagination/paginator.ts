import { Inject, Injectable } from '@nestjs/common';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { applyProjection, parseFilter, parseProjection, type FilterPolicy } from './filter-policy.js';
import { DEFAULT_PAGE_SIZE, type ListRequestDto, type Page } from './list-request.dto.js';
import { PageTokenCodec } from './page-token.js';

/** What a repository is asked for: a validated filter, the key to continue after, and how many. */
export interface PageQuery {
  readonly filter: Record<string, unknown>;
  readonly after?: string;
  readonly limit: number;
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
}

/** Turns a ListRequest into one keyset-paginated page with a signed continuation token. */
@Injectable()
export class Paginator {
  private readonly tokens: PageTokenCodec;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.tokens = new PageTokenCodec(config.secrets.urlSigningKey);
  }

  async paginate<TDoc, TOut extends object>(
    request: ListRequestDto,
    spec: PaginationSpec<TDoc, TOut>,
  ): Promise<Page<Partial<TOut>>> {
    const userFilter = parseFilter(request.filter, spec.filterPolicy);
    const projection = parseProjection(request.projection, spec.fields, spec.keyField);
    const limit = request.max_page_size ?? DEFAULT_PAGE_SIZE;
    const fingerprint = PageTokenCodec.fingerprint([userFilter, projection ?? null, spec.baseFilter ?? null]);
    const after = request.page_token
      ? this.tokens.decode(request.page_token, spec.scope, fingerprint)
      : undefined;
    const filter = spec.baseFilter ? { $and: [spec.baseFilter, userFilter] } : userFilter;

    const docs = await spec.fetch({ filter, ...(after !== undefined ? { after } : {}), limit: limit + 1 });
    const pageDocs = docs.slice(0, limit);
    const resources = pageDocs.map((doc) => applyProjection(spec.map(doc), projection));
    const last = pageDocs[pageDocs.length - 1];
    if (docs.length > limit && last !== undefined) {
      return { resources, next_page_token: this.tokens.encode(spec.scope, spec.keyOf(last), fingerprint) };
    }
    return { resources };
  }
}
