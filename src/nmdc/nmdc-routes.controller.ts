import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import {
  Authenticated,
  CurrentPrincipal,
  Public,
  RequireAllowance,
  RequireSite,
} from '../auth/decorators.js';
import type { Principal, SitePrincipal } from '../auth/principal.js';
import type { MetadataDoc } from '../metadata/metadata.repository.js';
import { customMethodPath } from '../common/http/routes.js';
import { AccessUrlDto } from '../drs/drs.dto.js';
import { FindRequestDto, FindResponseDto } from '../metadata/find.dto.js';
import { DATABASE_BODY } from '../metadata/metadata.controller.js';
import {
  NmdcAccessMethodDto,
  NmdcIdsMintRequestDto,
  NmdcPutObjectOperationDto,
  NmdcPutObjectRequestDto,
  NmdcMessageDto,
  NmdcRunSummaryDto,
} from './nmdc.dto.js';
import { NmdcService } from './nmdc.service.js';

/** NMDC routes outside `/nmdcschema` that NMDC's site clients call. */
@ApiTags('NMDC compatibility')
@Controller()
export class NmdcRoutesController {
  constructor(private readonly nmdc: NmdcService) {}

  @Post('workflows/workflow_executions')
  @Authenticated()
  @RequireAllowance('json:submit')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'postWorkflowExecutions',
    summary: 'Insert workflow executions and their data objects (how NMDC sites publish results)',
    description:
      'An `nmdc:Database` with a `workflow_execution_set` (and usually a `data_object_set`). It gets every check of json:validate (schema, new ids, references) and is then inserted at once. Needs the `json:submit` allowance, which may be granted to a site client id.',
  })
  @ApiBody(DATABASE_BODY)
  @ApiOkResponse({ type: NmdcMessageDto })
  @ApiUnprocessableEntityResponse({
    description: 'Invalid, or without workflow_execution_set: problem+json listing the problems',
  })
  postWorkflowExecutions(
    @Body() payload: Record<string, unknown>,
    @CurrentPrincipal() principal: Principal,
  ): Promise<NmdcMessageDto> {
    return this.nmdc.insertWorkflowExecutions(payload, principal);
  }

  @Post('ids/mint')
  @Authenticated()
  @RequireSite()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'mintIdsByShoulder',
    summary: "Mint new draft ids by typecode (NMDC's former /ids/mint; site clients)",
    description:
      'The body NMDC\'s `NmdcRuntimeApi.mint` sends: `{"populator": "", "naa": "nmdc", "shoulder": "bsm", "number": 2}`. The shoulder names the typecode (a trailing digit, as in NMDC\'s `mga0`, is ignored); the ids are minted as `POST /pids/mint` mints them for that class.',
  })
  @ApiOkResponse({ type: [String] })
  @ApiBadRequestResponse({ description: 'A shoulder naming no typecode, another naa, number out of 1–1000' })
  mintIds(@Body() body: NmdcIdsMintRequestDto, @CurrentPrincipal() site: SitePrincipal): Promise<string[]> {
    return this.nmdc.mintByShoulder(body, site);
  }

  @Get('objects/:object_id/access/:access_id')
  @Public()
  @ApiOperation({
    operationId: 'getObjectAccessUrl',
    summary: 'A URL to fetch the bytes of an object (NMDC path of the DRS access route)',
  })
  @ApiOkResponse({ type: AccessUrlDto })
  @ApiNotFoundResponse({ description: 'No such object or access method' })
  getObjectAccessUrl(
    @Param('object_id') objectId: string,
    @Param('access_id') accessId: string,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<AccessUrlDto> {
    return this.nmdc.accessUrl(objectId, accessId, principal);
  }

  @Post(`sites/${customMethodPath('site_id', 'putObject')}`)
  @Authenticated()
  @RequireSite()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'putSiteObject',
    summary: "A signed, expiring upload URL for a new object (NMDC's site route; the site's own client)",
    description:
      "NMDC's `put_object_in_site`: answers an Operation whose `metadata.url` takes the bytes (`PUT`, `Content-Type: application/octet-stream`) for five minutes, once; the object is then `metadata.object_id`, managed by the site, named and typed as the body said. `:getObjectLink` with `access_id` = that id gives a download link.",
  })
  @ApiOkResponse({ type: NmdcPutObjectOperationDto })
  @ApiForbiddenResponse({ description: 'Not a client of this site' })
  putSiteObject(
    @Param('site_id') siteId: string,
    @Body() body: NmdcPutObjectRequestDto,
    @CurrentPrincipal() site: SitePrincipal,
  ): NmdcPutObjectOperationDto {
    return this.nmdc.putObject(siteId, body, site);
  }

  @Post(`sites/${customMethodPath('site_id', 'getObjectLink')}`)
  @Authenticated()
  @RequireSite()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'getSiteObjectLink',
    summary:
      "A signed, expiring download URL for a blob stored in the hub (NMDC's site route; the site's own client)",
    description:
      "NMDC's `get_site_object_link`: the body is an AccessMethod whose `access_id` names a blob object of the hub; the answer is `{url}`, a signed `/blobs/{id}` URL valid for DRS_SIGNED_URL_TTL_SECONDS. Only a client of the site in the path may ask, and only for objects that site may read.",
  })
  @ApiOkResponse({ type: AccessUrlDto })
  @ApiForbiddenResponse({ description: "Not a client of this site, or the object is not the site's to read" })
  @ApiNotFoundResponse({ description: 'No such blob object' })
  getSiteObjectLink(
    @Param('site_id') siteId: string,
    @Body() body: NmdcAccessMethodDto,
    @CurrentPrincipal() site: SitePrincipal,
  ): Promise<AccessUrlDto> {
    return this.nmdc.siteObjectLink(siteId, body.access_id, site);
  }

  @Get('runs/:run_id')
  @Public()
  @ApiOperation({
    operationId: 'getRunSummary',
    summary: "Progress of a json:submit, as NMDC's RunSummary (run_id is the applying job's id)",
  })
  @ApiOkResponse({ type: NmdcRunSummaryDto })
  @ApiNotFoundResponse({ description: 'No such run' })
  getRunSummary(@Param('run_id') runId: string): Promise<NmdcRunSummaryDto> {
    return this.nmdc.runSummary(runId);
  }

  @Get('planned_processes')
  @Public()
  @ApiOperation({
    operationId: 'findPlannedProcesses',
    summary: 'Find planned processes: data generation, material processing and workflow executions',
    description:
      "NMDC's finder over every planned-process collection, concatenated in collection-name order (each in id order). The filter is NMDC's `attribute:value,…` syntax; page with page and per_page.",
  })
  @ApiOkResponse({ type: FindResponseDto })
  findPlannedProcesses(@Query() query: FindRequestDto): Promise<FindResponseDto> {
    return this.nmdc.findPlannedProcesses(query);
  }

  @Get('data_objects/study/:study_id')
  @Public()
  @ApiOperation({
    operationId: 'findDataObjectsForStudy',
    summary: "The data objects of each biosample of a study (NMDC's route)",
    description:
      'For each biosample associated with the study: the outputs of the data generations that took it as input and of the workflow executions those informed.',
  })
  @ApiOkResponse({
    schema: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          biosample_id: { type: 'string' },
          data_objects: { type: 'array', items: { type: 'object', additionalProperties: true } },
        },
      },
    },
  })
  @ApiNotFoundResponse({ description: 'No such study' })
  dataObjectsForStudy(
    @Param('study_id') studyId: string,
  ): Promise<{ biosample_id: string; data_objects: MetadataDoc[] }[]> {
    return this.nmdc.dataObjectsForStudy(studyId);
  }
}
