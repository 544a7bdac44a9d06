import { Injectable } from '@nestjs/common';

import { BadRequestError } from '../common/errors/domain-errors.js';
import { checkFilter, parseProjection } from '../common/pagination/filter-policy.js';
import { Paginator } from '../common/pagination/paginator.js';
import { refusingBadRegex } from '../common/pagination/regex-check.js';
import { parseFields, parseFindFilter, parseFindSort } from './find-syntax.js';
import { DEFAULT_PER_PAGE, type FindRequestDto, type FindResponseDto } from './find.dto.js';
import { withoutMongoId } from '../infra/mongo/mongo-errors.js';
import { MetadataRepository, pageKeyOf, type MetadataDoc } from './metadata.repository.js';
import { MetadataService } from './metadata.service.js';

/** Beyond this offset page numbers get slow (every page skips what came before); cursors do not. */
const MAX_SKIP = 10_000;

/** The finders (`GET /studies`, `/biosamples`, `/data_objects`) over one collection each. */
@Injectable()
export class FindService {
  constructor(
    private readonly metadata: MetadataService,
    private readonly documents: MetadataRepository,
    private readonly paginator: Paginator,
  ) {}

  async find(collection: string, request: FindRequestDto): Promise<FindResponseDto> {
    const spec = this.metadata.requireCollection(collection);
    if (request.search !== undefined || request.group_by !== undefined) {
      throw new BadRequestError(
        `${request.search !== undefined ? 'search' : 'group_by'} is not supported; filter with filter=<attribute>.search:<regex>`,
        {
          errors: [{ path: request.search !== undefined ? 'search' : 'group_by', message: 'not supported' }],
        },
      );
    }
    if (request.page !== undefined && request.cursor !== undefined) {
      throw new BadRequestError('Use either page or cursor, not both', {
        errors: [{ path: 'cursor', message: 'cannot be combined with page' }],
      });
    }
    const filter = parseFindFilter(request.filter);
    const problems = checkFilter(filter, { fields: spec.fields });
    if (problems.length > 0) {
      throw new BadRequestError(
        `filter is not allowed: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
        {
          errors: problems.map((p) => ({ path: `filter${p.path}`, message: p.message })),
          code: 'invalid_filter',
        },
      );
    }
    const sort = parseFindSort(request.sort);
    const unknownSort = sort.filter(
      ([attr]) => !spec.fields.some((f) => attr === f || attr.startsWith(`${f}.`)),
    );
    if (unknownSort.length > 0) {
      throw new BadRequestError(`sort names unknown field(s) ${unknownSort.map(([a]) => a).join(', ')}`, {
        errors: unknownSort.map(([attr]) => ({ path: 'sort', message: `unknown field ${attr}` })),
        code: 'invalid_sort',
      });
    }
    const fields = parseFields(request.fields);
    const projection = parseProjection(fields, spec.fields, 'id');
    const perPage = request.per_page ?? DEFAULT_PER_PAGE;
    const started = Date.now();

    if (request.cursor !== undefined) {
      if (sort.length > 0) {
        throw new BadRequestError('Cursor pages are ordered by id; drop sort, or page with page= instead', {
          errors: [{ path: 'sort', message: 'cannot be combined with cursor' }],
        });
      }
      const page = await this.paginator.page(
        {
          filter,
          ...(projection ? { projection } : {}),
          pageSize: perPage,
          ...(request.cursor !== '*' ? { pageToken: request.cursor } : {}),
        },
        {
          scope: `find:${spec.name}`,
          filterPolicy: { fields: spec.fields },
          fields: spec.fields,
          keyField: 'id',
          keyOf: pageKeyOf(spec),
          fetch: (query) => this.documents.findPage(spec, query),
          map: (doc) => withoutMongoId(doc),
          resumable: true,
          count: (f) => this.documents.countMatching(spec.name, f),
        },
      );
      return {
        meta: {
          mongo_filter_dict: filter,
          mongo_sort_list: [['id', 1]],
          count: page.total ?? 0,
          db_response_time_ms: Date.now() - started,
          page: null,
          per_page: perPage,
          next_cursor: page.next_page_token ?? null,
          ...(fields ? { fields } : {}),
        },
        results: page.resources,
        group_by: [],
      };
    }

    const pageNumber = request.page ?? 1;
    const skip = (pageNumber - 1) * perPage;
    if (skip > MAX_SKIP) {
      throw new BadRequestError(
        `Page-number paging reaches the first ${MAX_SKIP} results only. Use cursor paging: set cursor=* for the first page and then cursor=<meta.next_cursor> until it is null.`,
        { errors: [{ path: 'page', message: `page * per_page must stay within ${MAX_SKIP + perPage}` }] },
      );
    }
    // id breaks ties, so pages neither repeat nor skip documents with equal sort keys.
    const mongoSort: Record<string, 1 | -1> = Object.fromEntries(
      sort.some(([attr]) => attr === 'id') ? sort : [...sort, ['id', 1] as const],
    );
    const [count, results] = await refusingBadRegex(() =>
      Promise.all([
        this.documents.countMatching(spec.name, filter),
        this.documents.findSorted(spec.name, filter, mongoSort, skip, perPage, projection),
      ]),
    );
    return {
      meta: {
        mongo_filter_dict: filter,
        mongo_sort_list: sort.length > 0 ? sort : null,
        count,
        db_response_time_ms: Date.now() - started,
        page: pageNumber,
        per_page: perPage,
        ...(fields ? { fields } : {}),
      },
      results,
      group_by: [],
    };
  }

  get(collection: string, id: string, fields?: string): Promise<MetadataDoc> {
    return this.metadata.get(collection, id, parseFields(fields));
  }
}
