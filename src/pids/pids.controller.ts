import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import { Authenticated, CurrentPrincipal, RequireSite } from '../auth/decorators.js';
import type { SitePrincipal } from '../auth/principal.js';
import { BindRequestDto, IdentifierDto, MintRequestDto, PidRefDto } from './pids.dto.js';
import { PidsService } from './pids.service.js';

@ApiTags('Persistent identifiers')
@Controller('pids')
@Authenticated()
@RequireSite()
export class PidsController {
  constructor(private readonly pids: PidsService) {}

  @Post('mint')
  @ApiOperation({
    operationId: 'mintIds',
    summary: 'Mint new draft ids for a schema class (site clients)',
    description:
      'Answers the new ids, e.g. `["nmdc:bsm-11-0pyv7738"]`: typecode from the class, shoulder from PID_SHOULDER, six random Crockford base32 characters and two mod 97-10 check digits.',
  })
  @ApiCreatedResponse({ type: [String] })
  @ApiBadRequestResponse({
    description: 'Unknown schema class, a class without typecode, or how_many out of 1–1000',
  })
  mintIds(@Body() body: MintRequestDto, @CurrentPrincipal() site: SitePrincipal): Promise<string[]> {
    return this.pids.mint(body, site);
  }

  @Get('resolve/:id')
  @ApiOperation({ operationId: 'resolveId', summary: 'What is known about a minted id' })
  @ApiOkResponse({ type: IdentifierDto })
  @ApiBadRequestResponse({ description: 'Not an id, or its check digits do not match' })
  @ApiNotFoundResponse({ description: 'The id was never minted here' })
  resolveId(@Param('id') id: string): Promise<IdentifierDto> {
    return this.pids.resolve(id);
  }

  @Post('bind')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'bindId',
    summary: 'Attach a metadata record to a draft id (the minting site)',
  })
  @ApiOkResponse({ type: IdentifierDto })
  @ApiConflictResponse({ description: 'The id is no longer a draft' })
  bindId(@Body() body: BindRequestDto, @CurrentPrincipal() site: SitePrincipal): Promise<IdentifierDto> {
    return this.pids.bind(body.id_name, body.metadata_record, site);
  }

  @Post('delete')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteId', summary: 'Delete a draft id (the minting site)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiConflictResponse({ description: 'The id is registered: a stored document carries it' })
  async deleteId(@Body() body: PidRefDto, @CurrentPrincipal() site: SitePrincipal): Promise<void> {
    await this.pids.delete(body.id_name, site);
  }
}
