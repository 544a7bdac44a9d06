import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  Res,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { Authenticated, CurrentPrincipal, RequireAllowance } from '../../auth/decorators.js';
import { describePrincipal, type Principal } from '../../auth/principal.js';
import { customMethodPath } from '../../common/http/routes.js';
import type { InstigatorType } from '../storage/records.js';
import { lastEventId, streamEvents, wantsEventStream } from './event-stream.js';
import { InstigatorService } from './instigators.service.js';
import {
  OrchEventListDto,
  OrchJobDto,
  OrchJobListDto,
  OrchLaunchRunDto,
  OrchListEventsQueryDto,
  OrchListRunsQueryDto,
  OrchPageQueryDto,
  OrchReexecuteRunDto,
  OrchRunDto,
  OrchRunListDto,
  OrchScheduleDto,
  OrchScheduleListDto,
  OrchSensorDto,
  OrchSensorListDto,
  OrchTickListDto,
} from './orchestrator.dto.js';
import { RunService } from './runs.service.js';

const createdBy = (principal: Principal | undefined): string | undefined =>
  principal ? describePrincipal(principal) : undefined;

@ApiTags('Orchestrator')
@Controller('orchestrator/jobs')
export class OrchestratorJobsController {
  constructor(private readonly runs: RunService) {}

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'Jobs this hub can run, each with its graph of ops (nodes and edges)' })
  @ApiOkResponse({ type: OrchJobListDto })
  listOrchestratorJobs(): OrchJobListDto {
    return { resources: this.runs.listJobs() };
  }

  @Get(':name')
  @Authenticated()
  @ApiOperation({ summary: 'One job and its graph' })
  @ApiOkResponse({ type: OrchJobDto })
  @ApiNotFoundResponse({ description: 'No job has that name' })
  getOrchestratorJob(@Param('name') name: string): OrchJobDto {
    return this.runs.getJob(name);
  }

  @Post(':name/runs')
  @RequireAllowance('runs:launch')
  @Authenticated()
  @ApiOperation({
    summary: 'Launch a run of a job',
    description:
      'The run config is validated against every op and resource config schema; the run is created QUEUED and started by the run coordinator within the concurrency limits. Without any limit (ORCH_MAX_CONCURRENT_RUNS=-1 and no tag limits) it is created STARTING, already handed to a worker, or STARTED when a run worker of the process that took the request was free and executes it there (ORCH_EAGER_START).',
  })
  @ApiCreatedResponse({ type: OrchRunDto })
  @ApiBadRequestResponse({ description: 'The run config or tags are invalid; `errors` names every bad key' })
  @ApiNotFoundResponse({ description: 'No job has that name' })
  launchOrchestratorRun(
    @Param('name') name: string,
    @Body() body: OrchLaunchRunDto,
    @CurrentPrincipal() principal?: Principal,
  ): Promise<OrchRunDto> {
    return this.runs.launch(name, body, createdBy(principal));
  }
}

@ApiTags('Orchestrator')
@Controller('orchestrator/runs')
export class RunsController implements BeforeApplicationShutdown {
  /** Ends live tails at shutdown, so a graceful close never waits for them; clients resume elsewhere. */
  private readonly shutdown = new AbortController();

  constructor(private readonly runs: RunService) {}

  beforeApplicationShutdown(): void {
    this.shutdown.abort();
  }

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'Runs, newest first, filtered by status, job, tag and creation time' })
  @ApiOkResponse({ type: OrchRunListDto })
  async listOrchestratorRuns(@Query() query: OrchListRunsQueryDto): Promise<OrchRunListDto> {
    const tags = query.tag
      ? Object.fromEntries(query.tag.map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]))
      : undefined;
    const page = await this.runs.list({
      ...(query.status ? { statuses: query.status } : {}),
      ...(query.job ? { jobName: query.job } : {}),
      ...(tags ? { tags } : {}),
      ...(query.created_after ? { createdAfter: query.created_after } : {}),
      ...(query.created_before ? { createdBefore: query.created_before } : {}),
      pageSize: query.max_page_size ?? 20,
      ...(query.page_token ? { pageToken: query.page_token } : {}),
    });
    return { resources: page.runs, ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  }

  @Get(':id')
  @Authenticated()
  @ApiOperation({ summary: 'One run' })
  @ApiOkResponse({ type: OrchRunDto })
  @ApiNotFoundResponse({ description: 'No run has that id' })
  getOrchestratorRun(@Param('id') id: string): Promise<OrchRunDto> {
    return this.runs.get(id);
  }

  @Get(':id/events')
  @Authenticated()
  @ApiOperation({
    summary: "A run's event log after a cursor",
    description:
      'JSON pages by default. With `Accept: text/event-stream` the response is a live tail: each event is sent as it is written (with its cursor as the SSE id; `Last-Event-ID` resumes) and the stream ends with an `end` event when the run has finished.',
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({ type: OrchEventListDto })
  @ApiNotFoundResponse({ description: 'No run has that id' })
  async listOrchestratorRunEvents(
    @Param('id') id: string,
    @Query() query: OrchListEventsQueryDto,
    @Req() request: FastifyRequest,
    // Not passthrough: this handler answers itself, so the framework never sends a second reply.
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const after = Math.max(query.after ?? 0, lastEventId(request));
    if (wantsEventStream(request)) {
      await this.runs.get(id);
      streamEvents(
        request,
        reply,
        after,
        (cursor) => this.runs.events(id, cursor, 500),
        this.shutdown.signal,
      );
      return;
    }
    const page = await this.runs.events(id, after, query.limit ?? 200);
    const body: OrchEventListDto = { resources: page.events, cursor: page.cursor, done: page.done };
    await reply.send(body);
  }

  @Post(customMethodPath('id', 'cancel'))
  @HttpCode(200)
  @RequireAllowance('runs:launch')
  @Authenticated()
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({
    summary: 'Cancel a run',
    description:
      'A queued run is canceled at once; a starting or running run moves to CANCELING and its worker, in whatever process, aborts the running op and stops at the next step boundary.',
  })
  @ApiOkResponse({ type: OrchRunDto })
  @ApiConflictResponse({ description: 'The run has already finished' })
  @ApiNotFoundResponse({ description: 'No run has that id' })
  cancelOrchestratorRun(@Param('id') id: string): Promise<OrchRunDto> {
    return this.runs.cancel(id);
  }

  @Post(customMethodPath('id', 'reexecute'))
  @RequireAllowance('runs:launch')
  @Authenticated()
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({
    summary: 'Re-execute a finished run as a new run',
    description:
      'From failure, steps that succeeded are not executed again: their outputs are reused. The new run records the parent and root run ids.',
  })
  @ApiCreatedResponse({ type: OrchRunDto })
  @ApiConflictResponse({ description: 'The run has not finished, or nothing failed (from failure)' })
  @ApiNotFoundResponse({ description: 'No run has that id' })
  reexecuteOrchestratorRun(
    @Param('id') id: string,
    @Body() body: OrchReexecuteRunDto,
    @CurrentPrincipal() principal?: Principal,
  ): Promise<OrchRunDto> {
    return this.runs.reexecute(id, body.fromFailure, createdBy(principal));
  }
}

@ApiTags('Orchestrator')
@Controller('orchestrator')
export class InstigatorsController {
  constructor(private readonly instigators: InstigatorService) {}

  private async ticks(type: InstigatorType, name: string, query: OrchPageQueryDto): Promise<OrchTickListDto> {
    const page = await this.instigators.ticks(type, name, query.max_page_size ?? 20, query.page_token);
    return { resources: page.ticks, ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  }

  @Get('sensors')
  @Authenticated()
  @ApiOperation({ summary: 'Sensors with their status, cursor and latest ticks' })
  @ApiOkResponse({ type: OrchSensorListDto })
  async listOrchestratorSensors(): Promise<OrchSensorListDto> {
    return { resources: await this.instigators.listSensors() };
  }

  @Get('sensors/:name')
  @Authenticated()
  @ApiOperation({ summary: 'One sensor' })
  @ApiOkResponse({ type: OrchSensorDto })
  @ApiNotFoundResponse({ description: 'No sensor has that name' })
  getOrchestratorSensor(@Param('name') name: string): Promise<OrchSensorDto> {
    return this.instigators.getSensor(name);
  }

  @Post(`sensors/${customMethodPath('name', 'start')}`)
  @HttpCode(200)
  @RequireAllowance('runs:launch')
  @Authenticated()
  @ApiParam({ name: 'name' })
  @ApiOperation({ summary: 'Start a sensor (its job scheduler ticks every minimum interval)' })
  @ApiOkResponse({ type: OrchSensorDto })
  @ApiNotFoundResponse({ description: 'No sensor has that name' })
  async startOrchestratorSensor(@Param('name') name: string): Promise<OrchSensorDto> {
    await this.instigators.setStatus('sensor', name, 'RUNNING');
    return this.instigators.getSensor(name);
  }

  @Post(`sensors/${customMethodPath('name', 'stop')}`)
  @HttpCode(200)
  @RequireAllowance('runs:launch')
  @Authenticated()
  @ApiParam({ name: 'name' })
  @ApiOperation({ summary: 'Stop a sensor' })
  @ApiOkResponse({ type: OrchSensorDto })
  @ApiNotFoundResponse({ description: 'No sensor has that name' })
  async stopOrchestratorSensor(@Param('name') name: string): Promise<OrchSensorDto> {
    await this.instigators.setStatus('sensor', name, 'STOPPED');
    return this.instigators.getSensor(name);
  }

  @Get('sensors/:name/ticks')
  @Authenticated()
  @ApiOperation({ summary: "A sensor's ticks, newest first" })
  @ApiOkResponse({ type: OrchTickListDto })
  @ApiNotFoundResponse({ description: 'No sensor has that name' })
  listOrchestratorSensorTicks(
    @Param('name') name: string,
    @Query() query: OrchPageQueryDto,
  ): Promise<OrchTickListDto> {
    return this.ticks('sensor', name, query);
  }

  @Get('schedules')
  @Authenticated()
  @ApiOperation({ summary: 'Schedules with their status, next time and latest ticks' })
  @ApiOkResponse({ type: OrchScheduleListDto })
  async listOrchestratorSchedules(): Promise<OrchScheduleListDto> {
    return { resources: await this.instigators.listSchedules() };
  }

  @Get('schedules/:name')
  @Authenticated()
  @ApiOperation({ summary: 'One schedule' })
  @ApiOkResponse({ type: OrchScheduleDto })
  @ApiNotFoundResponse({ description: 'No schedule has that name' })
  getOrchestratorSchedule(@Param('name') name: string): Promise<OrchScheduleDto> {
    return this.instigators.getSchedule(name);
  }

  @Post(`schedules/${customMethodPath('name', 'start')}`)
  @HttpCode(200)
  @RequireAllowance('runs:launch')
  @Authenticated()
  @ApiParam({ name: 'name' })
  @ApiOperation({ summary: 'Start a schedule (missed times before now are not caught up)' })
  @ApiOkResponse({ type: OrchScheduleDto })
  @ApiNotFoundResponse({ description: 'No schedule has that name' })
  async startOrchestratorSchedule(@Param('name') name: string): Promise<OrchScheduleDto> {
    await this.instigators.setStatus('schedule', name, 'RUNNING');
    return this.instigators.getSchedule(name);
  }

  @Post(`schedules/${customMethodPath('name', 'stop')}`)
  @HttpCode(200)
  @RequireAllowance('runs:launch')
  @Authenticated()
  @ApiParam({ name: 'name' })
  @ApiOperation({ summary: 'Stop a schedule' })
  @ApiOkResponse({ type: OrchScheduleDto })
  @ApiNotFoundResponse({ description: 'No schedule has that name' })
  async stopOrchestratorSchedule(@Param('name') name: string): Promise<OrchScheduleDto> {
    await this.instigators.setStatus('schedule', name, 'STOPPED');
    return this.instigators.getSchedule(name);
  }

  @Get('schedules/:name/ticks')
  @Authenticated()
  @ApiOperation({ summary: "A schedule's ticks, newest first" })
  @ApiOkResponse({ type: OrchTickListDto })
  @ApiNotFoundResponse({ description: 'No schedule has that name' })
  listOrchestratorScheduleTicks(
    @Param('name') name: string,
    @Query() query: OrchPageQueryDto,
  ): Promise<OrchTickListDto> {
    return this.ticks('schedule', name, query);
  }
}
