import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBody,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { Authenticated, CurrentPrincipal, Public, RequireAllowance } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { AccessUrlDto } from '../drs/drs.dto.js';
import { DATABASE_BODY } from '../metadata/metadata.controller.js';
import { NmdcMessageDto } from './nmdc.dto.js';
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
}
