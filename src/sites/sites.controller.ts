import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import { Authenticated, CurrentPrincipal, Public } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { customMethodPath } from '../common/http/routes.js';
import { ListRequestDto, type Page } from '../common/pagination/list-request.dto.js';
import {
  CapabilityDecisionDto,
  SiteCreateDto,
  SiteCredentialsDto,
  SiteDto,
  SitePageDto,
  SiteUpdateDto,
} from './sites.dto.js';
import { SitesService } from './sites.service.js';

@ApiTags('Sites')
@Controller('sites')
export class SitesController {
  constructor(private readonly sites: SitesService) {}

  @Post()
  @Authenticated()
  @ApiOperation({
    operationId: 'createSite',
    summary: 'Register a compute site; the caller becomes its admin',
  })
  @ApiCreatedResponse({ type: SiteDto })
  @ApiConflictResponse({ description: 'A site with this id exists' })
  createSite(@Body() body: SiteCreateDto, @CurrentPrincipal() principal: Principal): Promise<SiteDto> {
    return this.sites.create(body, principal);
  }

  @Get()
  @Public()
  @ApiOperation({ operationId: 'listSites', summary: 'List sites, ordered by id' })
  @ApiOkResponse({ type: SitePageDto })
  listSites(@Query() query: ListRequestDto): Promise<Page<Partial<SiteDto>>> {
    return this.sites.list(query);
  }

  @Get(':site_id')
  @Public()
  @ApiOperation({ operationId: 'getSite', summary: 'Get a site' })
  @ApiOkResponse({ type: SiteDto })
  @ApiNotFoundResponse({ description: 'No such site' })
  getSite(@Param('site_id') siteId: string): Promise<SiteDto> {
    return this.sites.get(siteId);
  }

  @Patch(':site_id')
  @Authenticated()
  @ApiOperation({
    operationId: 'updateSite',
    summary: "Change a site's capabilities or description (its admins or its own clients)",
    description:
      'New capabilities from anyone but an admin or a sites:admin holder wait in requested_capability_ids for approval.',
  })
  @ApiOkResponse({ type: SiteDto })
  updateSite(
    @Param('site_id') siteId: string,
    @Body() body: SiteUpdateDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SiteDto> {
    return this.sites.update(siteId, body, principal);
  }

  @Post(customMethodPath('site_id', 'approveCapabilities'))
  @Authenticated()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'approveSiteCapabilities',
    summary: "Grant a site's requested capabilities (admins and sites:admin holders)",
  })
  @ApiOkResponse({ type: SiteDto })
  approveSiteCapabilities(
    @Param('site_id') siteId: string,
    @Body() body: CapabilityDecisionDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SiteDto> {
    return this.sites.approveCapabilities(siteId, body, principal);
  }

  @Post(customMethodPath('site_id', 'denyCapabilities'))
  @Authenticated()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'denySiteCapabilities',
    summary: "Turn down a site's requested capabilities (admins and sites:admin holders)",
  })
  @ApiOkResponse({ type: SiteDto })
  denySiteCapabilities(
    @Param('site_id') siteId: string,
    @Body() body: CapabilityDecisionDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SiteDto> {
    return this.sites.denyCapabilities(siteId, body, principal);
  }

  @Post(customMethodPath('site_id', 'generateCredentials'))
  @Authenticated()
  @ApiOperation({
    operationId: 'generateSiteCredentials',
    summary: 'Create a site client; the secret is shown only in this answer',
  })
  @ApiCreatedResponse({ type: SiteCredentialsDto })
  generateSiteCredentials(
    @Param('site_id') siteId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<SiteCredentialsDto> {
    return this.sites.generateCredentials(siteId, principal);
  }

  @Delete(':site_id/clients/:client_id')
  @Authenticated()
  @HttpCode(204)
  @ApiOperation({
    operationId: 'revokeSiteClient',
    summary: 'Revoke a site client: its tokens stop working at once',
  })
  @ApiNoContentResponse({ description: 'Revoked' })
  async revokeSiteClient(
    @Param('site_id') siteId: string,
    @Param('client_id') clientId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.sites.revokeClient(siteId, clientId, principal);
  }
}
