import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';

import { Authenticated, CurrentPrincipal, Public, RequireSite } from '../auth/decorators.js';
import type { Principal, SitePrincipal } from '../auth/principal.js';
import { customMethodPath } from '../common/http/routes.js';
import { ListRequestDto, type Page } from '../common/pagination/list-request.dto.js';
import { OperationDto } from '../operations/operations.dto.js';
import { JobCreateDto, JobDto, JobPageDto, JobReleaseManyDto } from './jobs.dto.js';
import { JobsService } from './jobs.service.js';

@ApiTags('Jobs')
@Controller('jobs')
export class SiteJobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @Authenticated()
  @RequireSite()
  @ApiOperation({ operationId: 'createJob', summary: 'Create a job for a workflow (site clients)' })
  @ApiCreatedResponse({ type: JobDto })
  @ApiUnprocessableEntityResponse({ description: 'Unknown workflow' })
  createJob(@Body() body: JobCreateDto, @CurrentPrincipal() principal: Principal): Promise<JobDto> {
    return this.jobs.create(body, principal);
  }

  @Get()
  @Public()
  @ApiOperation({
    operationId: 'listJobs',
    summary: 'List jobs',
    description:
      'With a site token and no `filter`, lists only the jobs that site may claim now: it has the capabilities and no one holds an unexpired claim (unless the workflow allows parallel claims). Pass `filter={}` to see every job.',
  })
  @ApiOkResponse({ type: JobPageDto })
  listJobs(
    @Query() query: ListRequestDto,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<Page<Partial<JobDto>>> {
    return this.jobs.list(query, principal);
  }

  @Post('release')
  @Authenticated()
  @RequireSite()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'releaseJobs',
    summary: "Release several jobs: cancels the caller's open operations on them",
    description: 'Unknown ids are skipped, as NMDC does; the answer lists the jobs that exist.',
  })
  @ApiOkResponse({ type: [JobDto] })
  releaseJobs(
    @Body() body: JobReleaseManyDto,
    @CurrentPrincipal() principal: SitePrincipal,
  ): Promise<JobDto[]> {
    return this.jobs.releaseMany(body.job_ids, principal.siteId);
  }

  @Get(':job_id')
  @Public()
  @ApiOperation({ operationId: 'getJob', summary: 'One job, with its claims and derived status' })
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ description: 'No such job' })
  getJob(@Param('job_id') id: string): Promise<JobDto> {
    return this.jobs.get(id);
  }

  @Post(customMethodPath('job_id', 'claim'))
  @Authenticated()
  @RequireSite()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'claimJob',
    summary: 'Claim a job: returns the operation to report on',
    description:
      'Claiming again while your claim is open returns the same operation. The lease is `expire_time`; any PATCH of the operation extends it.',
  })
  @ApiOkResponse({ type: OperationDto })
  @ApiForbiddenResponse({ description: 'The site lacks a capability the workflow needs' })
  @ApiConflictResponse({
    description:
      'Another site holds an unexpired claim (the problem names its operation), or the job is done',
  })
  @ApiNotFoundResponse({ description: 'No such job' })
  async claimJob(
    @Param('job_id') id: string,
    @CurrentPrincipal() principal: SitePrincipal,
  ): Promise<OperationDto> {
    return (await this.jobs.claim(id, principal.siteId)).operation;
  }

  @Post(customMethodPath('job_id', 'release'))
  @Authenticated()
  @RequireSite()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'releaseJob',
    summary: "Release a job: cancels the caller's open operations on it",
  })
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ description: 'No such job' })
  releaseJob(@Param('job_id') id: string, @CurrentPrincipal() principal: SitePrincipal): Promise<JobDto> {
    return this.jobs.release(id, principal.siteId);
  }
}
