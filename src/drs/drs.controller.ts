import { Body, Controller, Get, HttpCode, Options, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

import { CurrentPrincipal, Public } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { BadRequestError } from '../common/errors/domain-errors.js';
import {
  AccessRequestDto,
  AccessUrlDto,
  AuthorizationsDto,
  BulkAccessRequestDto,
  BulkAccessResponseDto,
  BulkAuthorizationsResponseDto,
  BulkObjectsRequestDto,
  BulkObjectsResponseDto,
  BulkOptionsRequestDto,
  DrsErrorDto,
  DrsObjectDto,
  DrsObjectRequestDto,
  parseExpand,
  ServiceInfoDto,
} from './drs.dto.js';
import { DrsService } from './drs.service.js';

function expandFrom(raw: string | undefined): boolean {
  if (raw === undefined) {
    return false;
  }
  const expand = parseExpand(raw);
  if (expand === undefined) {
    throw new BadRequestError(`expand must be true or false, not "${raw}"`, {
      errors: [{ path: 'expand', message: 'expected true, false, 1 or 0' }],
    });
  }
  return expand;
}

const EXPAND_QUERY = {
  name: 'expand',
  required: false,
  type: Boolean,
  description: 'Expand nested bundles recursively (true/True/1 or false/0)',
} as const;

/** GA4GH DRS 1.5 (or strict 1.2 with DRS_SPEC_VERSION=1.2). Errors are `{msg, status_code}`. */
@ApiTags('DRS')
@ApiExtraModels(DrsErrorDto)
@ApiBadRequestResponse({ type: DrsErrorDto, description: 'A malformed id or request' })
@Public()
@Controller('ga4gh/drs/v1')
export class DrsController {
  constructor(private readonly drs: DrsService) {}

  @Get('service-info')
  @ApiOperation({ operationId: 'getDrsServiceInfo', summary: 'GA4GH service-info for this DRS server' })
  @ApiOkResponse({ type: ServiceInfoDto })
  getDrsServiceInfo(): Promise<ServiceInfoDto> {
    return this.drs.serviceInfo();
  }

  @Post('objects/access')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'getBulkDrsAccessUrls',
    summary: 'Access URLs for several objects at once; failures are grouped by status code',
  })
  @ApiOkResponse({ type: BulkAccessResponseDto })
  @ApiPayloadTooLargeResponse({ type: DrsErrorDto, description: 'More pairs than maxBulkRequestLength' })
  getBulkDrsAccessUrls(
    @Body() body: BulkAccessRequestDto,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<BulkAccessResponseDto> {
    return this.drs.bulkAccessUrls(body.bulk_object_access_ids, principal);
  }

  @Post('objects')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'getBulkDrsObjects',
    summary: 'Several objects at once; failures are grouped by status code (the answer is 200 regardless)',
  })
  @ApiQuery(EXPAND_QUERY)
  @ApiOkResponse({ type: BulkObjectsResponseDto })
  @ApiPayloadTooLargeResponse({ type: DrsErrorDto, description: 'More ids than maxBulkRequestLength' })
  getBulkDrsObjects(
    @Body() body: BulkObjectsRequestDto,
    @Query('expand') expand: string | undefined,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<BulkObjectsResponseDto> {
    return this.drs.bulkObjects(body.bulk_object_ids, expandFrom(expand), principal);
  }

  @Options('objects')
  @ApiOperation({
    operationId: 'optionsBulkDrsObjects',
    summary: 'How to authorize each of several objects',
  })
  @ApiOkResponse({ type: BulkAuthorizationsResponseDto })
  @ApiPayloadTooLargeResponse({ type: DrsErrorDto, description: 'More ids than maxBulkRequestLength' })
  optionsBulkDrsObjects(@Body() body: BulkOptionsRequestDto): Promise<BulkAuthorizationsResponseDto> {
    return this.drs.bulkAuthorizations(body.bulk_object_ids);
  }

  @Get('objects/:object_id')
  @ApiOperation({ operationId: 'getDrsObject', summary: 'A DRS object (blob or bundle)' })
  @ApiQuery(EXPAND_QUERY)
  @ApiOkResponse({ type: DrsObjectDto })
  @ApiUnauthorizedResponse({ type: DrsErrorDto, description: 'A controlled object, and no bearer token' })
  @ApiForbiddenResponse({ type: DrsErrorDto, description: 'A controlled object the caller may not read' })
  @ApiNotFoundResponse({ type: DrsErrorDto })
  getDrsObject(
    @Param('object_id') objectId: string,
    @Query('expand') expand: string | undefined,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<DrsObjectDto> {
    return this.drs.getObject(objectId, expandFrom(expand), principal);
  }

  @Post('objects/:object_id')
  @HttpCode(200)
  @ApiOperation({ operationId: 'postDrsObject', summary: 'A DRS object, with the options in the body' })
  @ApiOkResponse({ type: DrsObjectDto })
  @ApiUnauthorizedResponse({ type: DrsErrorDto })
  @ApiForbiddenResponse({ type: DrsErrorDto })
  @ApiNotFoundResponse({ type: DrsErrorDto })
  postDrsObject(
    @Param('object_id') objectId: string,
    @Body() body: DrsObjectRequestDto,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<DrsObjectDto> {
    return this.drs.getObject(objectId, body.expand ?? false, principal);
  }

  @Options('objects/:object_id')
  @ApiOperation({
    operationId: 'optionsDrsObject',
    summary: 'How to authorize requests for this object (no credentials needed)',
  })
  @ApiOkResponse({ type: AuthorizationsDto })
  @ApiNotFoundResponse({ type: DrsErrorDto })
  optionsDrsObject(@Param('object_id') objectId: string): Promise<AuthorizationsDto> {
    return this.drs.authorizations(objectId);
  }

  @Get('objects/:object_id/access/:access_id')
  @ApiOperation({ operationId: 'getDrsAccessUrl', summary: 'A URL to fetch the bytes (signed and expiring)' })
  @ApiOkResponse({ type: AccessUrlDto })
  @ApiUnauthorizedResponse({ type: DrsErrorDto })
  @ApiForbiddenResponse({ type: DrsErrorDto })
  @ApiNotFoundResponse({ type: DrsErrorDto })
  getDrsAccessUrl(
    @Param('object_id') objectId: string,
    @Param('access_id') accessId: string,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<AccessUrlDto> {
    return this.drs.getAccessUrl(objectId, accessId, principal);
  }

  @Post('objects/:object_id/access/:access_id')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'postDrsAccessUrl',
    summary: 'A URL to fetch the bytes, with passports in the body',
  })
  @ApiOkResponse({ type: AccessUrlDto })
  @ApiUnauthorizedResponse({ type: DrsErrorDto })
  @ApiForbiddenResponse({ type: DrsErrorDto })
  @ApiNotFoundResponse({ type: DrsErrorDto })
  postDrsAccessUrl(
    @Param('object_id') objectId: string,
    @Param('access_id') accessId: string,
    @Body() _body: AccessRequestDto,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<AccessUrlDto> {
    return this.drs.getAccessUrl(objectId, accessId, principal);
  }
}
