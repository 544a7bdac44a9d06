import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiNotFoundResponse,
  ApiAcceptedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { Authenticated, CurrentPrincipal, Public, RequireAllowance } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { ListRequestDto, type Page } from '../common/pagination/list-request.dto.js';
import { MetadataInService } from './metadata-in.service.js';
import {
  CollectionListDto,
  MetadataPageDto,
  ProjectionQueryDto,
  SubmissionAcceptedDto,
  ValidateQueryDto,
  ValidationResultDto,
} from './metadata.dto.js';
import type { MetadataDoc } from './metadata.repository.js';
import { MetadataService } from './metadata.service.js';

export const DATABASE_BODY = {
  description:
    'A `Database` object: collection names mapped to arrays of documents, optionally with `"@type": "nmdc:Database"`',
  schema: {
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'object', additionalProperties: true } },
    example: {
      study_set: [
        {
          id: 'nmdc:sty-11-abcdef12',
          type: 'nmdc:Study',
          name: 'Soil microbiome of a prairie',
          study_category: 'research_study',
        },
      ],
    },
  },
} as const;

@ApiTags('Metadata')
@Controller('metadata')
export class MetadataController {
  constructor(
    private readonly metadata: MetadataService,
    private readonly submissions: MetadataInService,
  ) {}

  @Get('collections')
  @Public()
  @ApiOperation({
    operationId: 'listMetadataCollections',
    summary: 'The metadata collections the schema declares, with document counts',
  })
  @ApiOkResponse({ type: CollectionListDto })
  listMetadataCollections(): Promise<CollectionListDto> {
    return this.metadata.collections();
  }

  @Get('ids/:id')
  @Public()
  @ApiOperation({
    operationId: 'getMetadataById',
    summary: 'Get a document by id alone; its typecode says which collection to look in',
  })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true } })
  @ApiBadRequestResponse({ description: 'Not a schema id' })
  @ApiNotFoundResponse({ description: 'No collection holds the typecode, or no document has the id' })
  getMetadataById(@Param('id') id: string): Promise<MetadataDoc> {
    return this.metadata.getById(id);
  }

  @Get(':collection')
  @Public()
  @ApiOperation({
    operationId: 'listMetadataCollection',
    summary: 'List documents of a metadata collection, ordered by id',
    description:
      'Only collections of the metadata schema can be read. `filter` may name the slots of the classes the collection holds.',
  })
  @ApiOkResponse({ type: MetadataPageDto })
  @ApiBadRequestResponse({
    description:
      'Unknown collection, invalid filter, forbidden operator, unknown projection field, page too large',
  })
  listMetadataCollection(
    @Param('collection') collection: string,
    @Query() query: ListRequestDto,
  ): Promise<Page<Partial<MetadataDoc>>> {
    return this.metadata.list(collection, query);
  }

  @Get(':collection/:id')
  @Public()
  @ApiOperation({ operationId: 'getMetadataDocument', summary: 'Get one document of a metadata collection' })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true } })
  @ApiNotFoundResponse({ description: 'No document with this id in the collection' })
  getMetadataDocument(
    @Param('collection') collection: string,
    @Param('id') id: string,
    @Query() query: ProjectionQueryDto,
  ): Promise<MetadataDoc> {
    return this.metadata.get(collection, id, query.projection);
  }

  @Post('json::validate')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'validateMetadataJson',
    summary: 'Validate JSON metadata as a submission would be validated, without storing it',
    description:
      'Checks the schema, duplicate ids within the payload and against the store, and references to ids found neither in the payload nor in the store (unless `check_references=false`). The report is always a 200, as NMDC answers: `valid: true, result: "All Okay!"`, or `valid: false, result: "errors"` with NMDC\'s `detail` (messages per collection) and `errors` (JSON pointers into the payload).',
  })
  @ApiBody(DATABASE_BODY)
  @ApiOkResponse({ type: ValidationResultDto })
  async validateMetadataJson(
    @Body() payload: Record<string, unknown>,
    @Query() query: ValidateQueryDto,
  ): Promise<ValidationResultDto> {
    return this.metadata.validate(payload, { checkReferences: query.check_references ?? true });
  }

  @Post('json::submit')
  @Authenticated()
  @RequireAllowance('json:submit')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'submitMetadataJson',
    summary: 'Submit JSON metadata: checked now, stored as a DRS object, inserted by a job',
    description:
      "Runs the checks of json:validate, stores the payload as a DRS blob typed `metadata-in` and creates its `metadata-in-1.0.0` job. The hub claims that job as its own site and inserts the documents (job `apply_metadata_in`); the job's operation (`GET /jobs/{job_id}`, then `GET /operations/{id}`) ends with the counts per collection, or with the problems if the payload became invalid meanwhile.",
  })
  @ApiBody(DATABASE_BODY)
  @ApiAcceptedResponse({ type: SubmissionAcceptedDto })
  @ApiUnprocessableEntityResponse({
    description: 'Invalid: problem+json with `valid: false` and `errors` (JSON pointers into the payload)',
  })
  submitMetadataJson(
    @Body() payload: Record<string, unknown>,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SubmissionAcceptedDto> {
    return this.submissions.submit(payload, principal);
  }
}
