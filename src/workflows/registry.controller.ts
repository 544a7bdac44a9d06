import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { Public } from '../auth/decorators.js';
import { FilterQueryDto } from '../common/pagination/filter-query.dto.js';
import { CapabilityDto, ObjectTypeDto, TriggerDto, WorkflowDto } from './registry.dto.js';
import { RegistryService } from './registry.service.js';

@ApiTags('Workflows')
@Public()
@Controller()
export class RegistryController {
  constructor(private readonly registry: RegistryService) {}

  @Get('workflows')
  @ApiOperation({ operationId: 'listWorkflows', summary: 'Every workflow the hub knows' })
  @ApiOkResponse({ type: [WorkflowDto] })
  listWorkflows(@Query() query: FilterQueryDto): Promise<WorkflowDto[]> {
    return this.registry.listWorkflows(query.filter);
  }

  @Get('workflows/:workflow_id')
  @ApiOperation({ operationId: 'getWorkflow', summary: 'One workflow' })
  @ApiOkResponse({ type: WorkflowDto })
  @ApiNotFoundResponse({ description: 'No such workflow' })
  getWorkflow(@Param('workflow_id') id: string): Promise<WorkflowDto> {
    return this.registry.getWorkflow(id);
  }

  @Get('workflows/:workflow_id/object_types')
  @ApiOperation({
    operationId: 'listWorkflowObjectTypes',
    summary: 'The object types whose objects trigger jobs of this workflow',
  })
  @ApiOkResponse({ type: [ObjectTypeDto] })
  listWorkflowObjectTypes(@Param('workflow_id') id: string): Promise<ObjectTypeDto[]> {
    return this.registry.workflowObjectTypes(id);
  }

  @Get('capabilities')
  @ApiOperation({ operationId: 'listCapabilities', summary: 'Every capability a site can declare' })
  @ApiOkResponse({ type: [CapabilityDto] })
  listCapabilities(@Query() query: FilterQueryDto): Promise<CapabilityDto[]> {
    return this.registry.listCapabilities(query.filter);
  }

  @Get('capabilities/:capability_id')
  @ApiOperation({ operationId: 'getCapability', summary: 'One capability' })
  @ApiOkResponse({ type: CapabilityDto })
  @ApiNotFoundResponse({ description: 'No such capability' })
  getCapability(@Param('capability_id') id: string): Promise<CapabilityDto> {
    return this.registry.getCapability(id);
  }

  @Get('object_types/:object_type_id/workflows')
  @ApiOperation({
    operationId: 'listObjectTypeWorkflows',
    summary: 'The workflows objects of this type trigger',
  })
  @ApiOkResponse({ type: [WorkflowDto] })
  listObjectTypeWorkflows(@Param('object_type_id') id: string): Promise<WorkflowDto[]> {
    return this.registry.objectTypeWorkflows(id);
  }

  @Get('triggers')
  @ApiOperation({ operationId: 'listTriggers', summary: 'Which object types trigger which workflows' })
  @ApiOkResponse({ type: [TriggerDto] })
  listTriggers(@Query() query: FilterQueryDto): Promise<TriggerDto[]> {
    return this.registry.listTriggers(query.filter);
  }

  @Get('triggers/:trigger_id')
  @ApiOperation({ operationId: 'getTrigger', summary: 'One trigger' })
  @ApiOkResponse({ type: TriggerDto })
  @ApiNotFoundResponse({ description: 'No such trigger' })
  getTrigger(@Param('trigger_id') id: string): Promise<TriggerDto> {
    return this.registry.getTrigger(id);
  }
}
