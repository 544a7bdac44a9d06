import { Body, Controller, Get, Param, Patch, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { Authenticated, CurrentPrincipal, Public, RequireSite } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { ListRequestDto, type Page } from '../common/pagination/list-request.dto.js';
import { OperationDto, OperationPageDto, OperationPatchDto } from './operations.dto.js';
import { OperationsService } from './operations.service.js';

@ApiTags('Operations on jobs')
@Controller('operations')
export class OperationsController {
  constructor(private readonly operations: OperationsService) {}

  @Get()
  @Public()
  @ApiOperation({ operationId: 'listOperations', summary: 'List operations' })
  @ApiOkResponse({ type: OperationPageDto })
  listOperations(@Query() query: ListRequestDto): Promise<Page<Partial<OperationDto>>> {
    return this.operations.list(query);
  }

  @Get(':operation_id')
  @Public()
  @ApiOperation({ operationId: 'getOperation', summary: 'One operation' })
  @ApiOkResponse({ type: OperationDto })
  @ApiNotFoundResponse({ description: 'No such operation' })
  getOperation(@Param('operation_id') id: string): Promise<OperationDto> {
    return this.operations.get(id);
  }

  @Patch(':operation_id')
  @Authenticated()
  @RequireSite()
  @ApiOperation({
    operationId: 'updateOperation',
    summary: 'Report progress (heartbeat), a result or a failure (the claiming site only)',
    description:
      'metadata is merged key by key; job, site_id and model cannot change. Any PATCH of an open operation extends its lease. `done: true` with `result` completes the job; with `error {code, message, details?}` it fails the claim and the job can be claimed again. A done operation cannot change (409).',
  })
  @ApiOkResponse({ type: OperationDto })
  @ApiForbiddenResponse({ description: 'Another site claimed this job' })
  @ApiConflictResponse({ description: 'The operation is done, or its lease has ended' })
  @ApiUnprocessableEntityResponse({ description: 'Reserved metadata keys, or result and error together' })
  updateOperation(
    @Param('operation_id') id: string,
    @Body() body: OperationPatchDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<OperationDto> {
    return this.operations.patch(id, principal, body);
  }
}
