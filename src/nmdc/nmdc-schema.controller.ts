import { Controller, Get, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import { Public } from '../auth/decorators.js';
import type { Page } from '../common/pagination/list-request.dto.js';
import { MetadataPageDto, ProjectionQueryDto } from '../metadata/metadata.dto.js';
import type { MetadataDoc } from '../metadata/metadata.repository.js';
import { LinkedInstancesService } from './linked-instances.service.js';
import { NmdcCollectionNameDto, NmdcLinkedInstancesRequestDto, NmdcListRequestDto } from './nmdc.dto.js';
import { NmdcService } from './nmdc.service.js';

const DOCUMENT = { schema: { type: 'object', additionalProperties: true } } as const;

/**
 * NMDC's `/nmdcschema/*` routes, for NMDC's clients (the workflow scheduler reads every collection this
 * way): the same documents as `/metadata/*`, with NMDC's list semantics (pages up to 10,000).
 */
@ApiTags('NMDC compatibility')
@Controller('nmdcschema')
@Public()
export class NmdcSchemaController {
  constructor(
    private readonly nmdc: NmdcService,
    private readonly linked: LinkedInstancesService,
  ) {}

  @Get('collection_names')
  @ApiOperation({ operationId: 'nmdcCollectionNames', summary: 'The names of the metadata collections' })
  @ApiOkResponse({ type: [String] })
  collectionNames(): string[] {
    return this.nmdc.collectionNames();
  }

  @Get('ids/:id')
  @ApiOperation({ operationId: 'nmdcGetById', summary: 'A document by id, whichever collection holds it' })
  @ApiOkResponse(DOCUMENT)
  @ApiNotFoundResponse({ description: 'No document has the id' })
  getById(@Param('id') id: string): Promise<MetadataDoc> {
    return this.nmdc.getById(id);
  }

  @Get('ids/:id/collection-name')
  @ApiOperation({ operationId: 'nmdcCollectionNameOfId', summary: 'The collection that holds a document' })
  @ApiOkResponse({ type: NmdcCollectionNameDto })
  @ApiNotFoundResponse({ description: 'No document has the id' })
  collectionNameOf(@Param('id') id: string): Promise<NmdcCollectionNameDto> {
    return this.nmdc.collectionNameOf(id);
  }

  @Get('linked_instances')
  @ApiOperation({
    operationId: 'nmdcLinkedInstances',
    summary: 'Documents linked to the given ids, upstream and downstream (NMDC)',
    description:
      'References are followed transitively from each id: upstream (what it came from: `associated_studies`, `has_input`, `was_informed_by`, `part_of`, … and the processes whose `has_output` names it) and downstream (what came from it: `has_output` … and the documents whose upstream slots name it). Each answer carries `_upstream_of` / `_downstream_of` (the given ids it is linked to). `types` keeps instances of those classes; abstract classes such as `nmdc:DataGeneration` match only with a class hierarchy (METADATA_CLASS_HIERARCHY_PATH), otherwise types match exactly. `hydrate=true` answers whole documents.',
  })
  @ApiOkResponse({ type: MetadataPageDto })
  @ApiBadRequestResponse({ description: 'No ids, or an invalid page token' })
  @ApiNotFoundResponse({ description: 'An id no document has, or a type the schema does not know' })
  linkedInstances(@Query() query: NmdcLinkedInstancesRequestDto): Promise<Page<MetadataDoc>> {
    return this.linked.linkedInstances(query);
  }

  @Get(':collection')
  @ApiOperation({
    operationId: 'nmdcListCollection',
    summary: 'List documents of a metadata collection (NMDC list semantics)',
    description:
      'As `GET /metadata/{collection}`, but `max_page_size` may be up to 10,000, and 0 asks for that many.',
  })
  @ApiOkResponse({ type: MetadataPageDto })
  @ApiBadRequestResponse({ description: 'Unknown collection, invalid filter or projection' })
  list(
    @Param('collection') collection: string,
    @Query() query: NmdcListRequestDto,
  ): Promise<Page<Partial<MetadataDoc>>> {
    return this.nmdc.list(collection, query);
  }

  @Get(':collection/:id')
  @ApiOperation({ operationId: 'nmdcGetDocument', summary: 'One document of a metadata collection' })
  @ApiOkResponse(DOCUMENT)
  @ApiNotFoundResponse({ description: 'No document with this id in the collection' })
  get(
    @Param('collection') collection: string,
    @Param('id') id: string,
    @Query() query: ProjectionQueryDto,
  ): Promise<MetadataDoc> {
    return this.nmdc.get(collection, id, query.projection);
  }
}
