import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { AllowanceDto, AllowanceFilterDto, AllowanceListDto, AllowanceRecordDto } from './allowances.dto.js';
import { AllowancesService } from './allowances.service.js';
import { Authenticated, CurrentPrincipal, RequireAdmin } from './decorators.js';
import type { Principal } from './principal.js';

@ApiTags('Allowances')
@Authenticated()
@RequireAdmin()
@Controller('admin/allowances')
export class AllowancesController {
  constructor(private readonly allowances: AllowancesService) {}

  @Get()
  @ApiOperation({
    operationId: 'listAllowances',
    summary: 'List allowances, optionally for one user or action (admin)',
  })
  @ApiOkResponse({ type: AllowanceListDto })
  listAllowances(@Query() query: AllowanceFilterDto): Promise<{ resources: AllowanceRecordDto[] }> {
    return this.allowances.list(query);
  }

  @Get('actions')
  @ApiOperation({
    operationId: 'listAllowanceActions',
    summary: 'The actions an allowance can grant (admin)',
  })
  @ApiOkResponse({ schema: { type: 'array', items: { type: 'string' } } })
  listAllowanceActions(): string[] {
    return this.allowances.actions();
  }

  @Post()
  @ApiOperation({ operationId: 'grantAllowance', summary: 'Allow a user an action (admin)' })
  @ApiCreatedResponse({ type: AllowanceRecordDto })
  @ApiConflictResponse({ description: 'The user already holds it' })
  @ApiUnprocessableEntityResponse({ description: 'No such user' })
  grantAllowance(
    @Body() body: AllowanceDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<AllowanceRecordDto> {
    return this.allowances.grant(body, principal);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    operationId: 'revokeAllowance',
    summary: 'Take an allowance away (admin); both parameters are required',
  })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiNotFoundResponse({ description: 'The user does not hold it' })
  async revokeAllowance(@Query() query: AllowanceDto): Promise<void> {
    await this.allowances.revoke(query);
  }
}
