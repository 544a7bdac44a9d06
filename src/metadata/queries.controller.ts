import { Body, Controller, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
  getSchemaPath,
} from '@nestjs/swagger';

import { Authenticated, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import {
  CountResponseDto,
  CursorResponseDto,
  QueryCommandDto,
  QueryOptionsDto,
  WriteResponseDto,
  type QueryResponse,
} from './queries.dto.js';
import { QueriesService } from './queries.service.js';

@ApiTags('Metadata')
@Controller()
@ApiExtraModels(CursorResponseDto, CountResponseDto, WriteResponseDto)
export class QueriesController {
  constructor(private readonly queries: QueriesService) {}

  @Post('queries::run')
  @Authenticated()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'runQuery',
    summary: 'Run a MongoDB-style command on a metadata collection',
    description: [
      'Exactly one of `find` (`filter`, `projection`, `sort`, `limit`, `batchSize`), `count` (`query`),',
      '`aggregate` (`pipeline`, `cursor.batchSize`), `getMore` (a cursor id), `update` (`updates: [{q, u, multi}]`)',
      'or `delete` (`deletes: [{q, limit}]`). Only metadata schema collections can be named. Filters use the',
      'operators $eq $ne $gt $gte $lt $lte $in $nin $exists $regex $and $or; pipelines the stages $match $project',
      '$group $sort $limit $skip $unwind $count $addFields $set $unset. `update` and `delete` need the',
      '`queries:write` allowance: every changed document is validated against the schema first (422 lists the',
      'problems per document id, with JSON pointers), and the previous versions of changed and deleted documents',
      'are backed up. Nothing matched is a 200 with zero counts. A batch comes with a cursor id while more',
      'results remain; pass it as `getMore`. `delete` of documents other documents still refer to is a 422 naming',
      'them, unless `allow_broken_refs=true`. `$elemMatch` works over values (`{"$elemMatch": {"$eq": …}}`); over',
      'sub-documents use dotted paths. `omics_processing_set` (the name before nmdc-schema 11) reads',
      '`data_generation_set` when the schema has only the latter.',
    ].join(' '),
  })
  @ApiOkResponse({
    schema: {
      oneOf: [
        { $ref: getSchemaPath(CursorResponseDto) },
        { $ref: getSchemaPath(CountResponseDto) },
        { $ref: getSchemaPath(WriteResponseDto) },
      ],
    },
  })
  @ApiBadRequestResponse({
    description:
      'Not exactly one command, an unknown collection, a forbidden operator or stage, a bad projection',
  })
  @ApiForbiddenResponse({ description: 'update or delete without the queries:write allowance' })
  @ApiNotFoundResponse({ description: 'getMore with an unknown, drained or expired cursor id' })
  @ApiConflictResponse({
    description:
      'update or delete of documents another writer holds or changed meanwhile (`documents_locked`, `documents_changed`); nothing was written, retry',
  })
  @ApiUnprocessableEntityResponse({
    description: 'The update would leave documents invalid, or the delete would break references',
  })
  runQuery(
    @Body() command: QueryCommandDto,
    @Query() options: QueryOptionsDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<QueryResponse> {
    return this.queries.run(command, principal, { allowBrokenRefs: options.allow_broken_refs ?? false });
  }
}
