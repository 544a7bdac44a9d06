import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsDate,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  registerDecorator,
} from 'class-validator';

import { EVENT_TYPES, RUN_STATUSES, type RunStatus } from '../core/index.js';

const toList = ({ value }: { value: unknown }): unknown =>
  value === undefined
    ? undefined
    : (Array.isArray(value) ? (value as unknown[]) : [value]).flatMap((v: unknown) =>
        typeof v === 'string' ? v.split(',') : [v],
      );

/** Repeated query parameters arrive as an array, a single one as a string; tag values may hold commas. */
const toArray = ({ value }: { value: unknown }): unknown =>
  value === undefined ? undefined : Array.isArray(value) ? (value as unknown[]) : [value];

/** A flat map of string tag keys (≤ 255 characters) to string values (≤ 4096). */
function IsTagMap(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isTagMap',
      target: target.constructor,
      propertyName: String(propertyName),
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.entries(value).every(
            ([k, v]) => k.length > 0 && k.length <= 255 && typeof v === 'string' && v.length <= 4096,
          ),
        defaultMessage: () => `${String(propertyName)} must map non-empty keys to string values`,
      },
    });
}

export class OrchLaunchRunDto {
  @ApiPropertyOptional({
    description:
      'Dagster-style run config: `ops.<node>.config`, `resources.<key>.config`, `execution.config`',
    example: { ops: { generate_numbers: { config: { upTo: 10 } } } },
  })
  @IsOptional()
  @IsObject()
  runConfig?: Record<string, unknown>;

  @ApiPropertyOptional({
    description: 'Tags for the run; `dagster/priority` (an integer) orders the queue',
    example: { team: 'metadata' },
  })
  @IsOptional()
  @IsTagMap()
  tags?: Record<string, string>;
}

export class OrchReexecuteRunDto {
  @ApiProperty({
    description:
      'true: execute only the steps that did not succeed, reusing the others’ outputs; false: everything',
  })
  @IsBoolean()
  fromFailure!: boolean;
}

/** Keyset pagination of the orchestrator's lists. */
export class OrchPageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  max_page_size?: number;

  @ApiPropertyOptional({ description: 'The next_page_token of the previous page' })
  @IsOptional()
  @IsString()
  page_token?: string;
}

export class OrchListRunsQueryDto extends OrchPageQueryDto {
  @ApiPropertyOptional({
    description: 'Only runs in these statuses (comma-separated or repeated)',
    enum: RUN_STATUSES,
    isArray: true,
  })
  @IsOptional()
  @Transform(toList)
  @IsIn(RUN_STATUSES, { each: true })
  status?: RunStatus[];

  @ApiPropertyOptional({ description: 'Only runs of this job' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  job?: string;

  @ApiPropertyOptional({
    description: 'Only runs carrying this tag, as key=value (repeat for several)',
    isArray: true,
    type: String,
  })
  @IsOptional()
  @Transform(toArray)
  @Matches(/^[^=]+=[\s\S]*$/, { each: true, message: 'tag must be key=value' })
  tag?: string[];

  @ApiPropertyOptional({
    description: 'Only runs created after this time (ISO 8601)',
    type: String,
    format: 'date-time',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'created_after must be an ISO 8601 date-time' })
  created_after?: Date;

  @ApiPropertyOptional({
    description: 'Only runs created before this time (ISO 8601)',
    type: String,
    format: 'date-time',
  })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'created_before must be an ISO 8601 date-time' })
  created_before?: Date;
}

export class OrchListEventsQueryDto {
  @ApiPropertyOptional({
    description: 'Only events after this cursor (an event id); 0 or omitted: from the start',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  after?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class OrchRunDto {
  @ApiProperty({ format: 'uuid' }) runId!: string;
  @ApiProperty() jobName!: string;
  @ApiProperty({ enum: RUN_STATUSES }) status!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) runConfig!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) tags!: Record<string, string>;
  @ApiPropertyOptional({ format: 'uuid' }) parentRunId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) rootRunId?: string;
  @ApiPropertyOptional({ type: [String], description: 'The steps this run executes when not all' })
  stepKeysToExecute?: readonly string[];
  @ApiProperty({ enum: ['manual', 'sensor', 'schedule', 'reexecution'] }) instigatorType!: string;
  @ApiPropertyOptional({ description: 'The sensor or schedule that requested the run' })
  instigatorName?: string;
  @ApiPropertyOptional() runKey?: string;
  @ApiPropertyOptional({ format: 'date-time' }) scheduledTime?: Date;
  @ApiProperty() priority!: number;
  @ApiProperty({ description: 'How many times the monitor handed the run to a new worker' })
  resumeAttempts!: number;
  @ApiPropertyOptional() workerId?: string;
  @ApiPropertyOptional({ format: 'date-time' }) heartbeatAt?: Date;
  @ApiPropertyOptional({
    enum: [
      'STEP_FAILURE',
      'JOB_INITIALIZATION_FAILURE',
      'START_TIMEOUT',
      'RUN_WORKER_RESTART',
      'RUN_EXCEPTION',
    ],
  })
  failureReason?: string;
  @ApiPropertyOptional({ description: 'Who launched the run' }) createdBy?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: Date;
  @ApiProperty({ format: 'date-time' }) updatedAt!: Date;
  @ApiPropertyOptional({ format: 'date-time' }) startTime?: Date;
  @ApiPropertyOptional({ format: 'date-time' }) endTime?: Date;
}

export class OrchRunListDto {
  @ApiProperty({ type: [OrchRunDto] }) resources!: OrchRunDto[];
  @ApiPropertyOptional() next_page_token?: string;
}

export class OrchEventDto {
  @ApiProperty({ description: 'The event cursor (strictly increasing)' }) id!: number;
  @ApiProperty({ format: 'uuid' }) runId!: string;
  @ApiProperty({ enum: EVENT_TYPES }) type!: string;
  @ApiPropertyOptional() stepKey?: string;
  @ApiProperty({ enum: ['debug', 'info', 'warning', 'error'] }) level!: string;
  @ApiProperty() message!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) data?: Record<string, unknown>;
  @ApiPropertyOptional() assetKey?: string;
  @ApiProperty({ format: 'date-time' }) timestamp!: Date;
}

export class OrchEventListDto {
  @ApiProperty({ type: [OrchEventDto] }) resources!: OrchEventDto[];
  @ApiProperty({ description: 'Pass as `after` to read on from here' }) cursor!: number;
  @ApiProperty({ description: 'True once the run has finished and every event has been read' })
  done!: boolean;
}

class OrchOutputRefDto {
  @ApiProperty() node!: string;
  @ApiProperty() output!: string;
}

class OrchInputRefDto {
  @ApiProperty() node!: string;
  @ApiProperty() input!: string;
}

class OrchNodeInputDto {
  @ApiProperty() name!: string;
  @ApiPropertyOptional() description?: string;
  @ApiProperty() optional!: boolean;
  @ApiProperty({ description: 'The input receives a list of its sources’ values' }) fanIn!: boolean;
  @ApiProperty({ type: [OrchOutputRefDto] }) sources!: OrchOutputRefDto[];
}

class OrchNodeOutputDto {
  @ApiProperty() name!: string;
  @ApiPropertyOptional() description?: string;
}

class OrchRetryPolicyDto {
  @ApiProperty() maxRetries!: number;
  @ApiPropertyOptional() delayMs?: number;
  @ApiPropertyOptional({ enum: ['linear', 'exponential'] }) backoff?: string;
  @ApiPropertyOptional({ enum: ['full', 'plus_minus'] }) jitter?: string;
}

class OrchGraphNodeDto {
  @ApiProperty({ description: 'The node (step) name' }) name!: string;
  @ApiProperty({ description: 'The op it invokes' }) op!: string;
  @ApiPropertyOptional() description?: string;
  @ApiProperty({ type: [OrchNodeInputDto] }) inputs!: OrchNodeInputDto[];
  @ApiProperty({ type: [OrchNodeOutputDto] }) outputs!: OrchNodeOutputDto[];
  @ApiProperty({ type: [String] }) requiredResources!: string[];
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'JSON Schema of its config',
  })
  configSchema?: Record<string, unknown>;
  @ApiPropertyOptional({ type: OrchRetryPolicyDto }) retryPolicy?: OrchRetryPolicyDto;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) tags!: Record<string, string>;
}

class OrchGraphEdgeDto {
  @ApiProperty({ type: OrchOutputRefDto }) from!: OrchOutputRefDto;
  @ApiProperty({ type: OrchInputRefDto }) to!: OrchInputRefDto;
}

class OrchGraphDto {
  @ApiProperty() name!: string;
  @ApiProperty({ type: [OrchGraphNodeDto], description: 'In topological order' }) nodes!: OrchGraphNodeDto[];
  @ApiProperty({ type: [OrchGraphEdgeDto] }) edges!: OrchGraphEdgeDto[];
}

class OrchExecutorDto {
  @ApiProperty() name!: string;
  @ApiProperty() maxConcurrent!: number;
}

class OrchJobResourceDto {
  @ApiProperty() key!: string;
  @ApiPropertyOptional() description?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) configSchema?: Record<string, unknown>;
}

export class OrchJobDto {
  @ApiProperty() name!: string;
  @ApiPropertyOptional() description?: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) tags!: Record<string, string>;
  @ApiProperty({ type: OrchExecutorDto }) executor!: OrchExecutorDto;
  @ApiProperty({ type: [OrchJobResourceDto] }) resources!: OrchJobResourceDto[];
  @ApiProperty({ type: OrchGraphDto }) graph!: OrchGraphDto;
}

export class OrchJobListDto {
  @ApiProperty({ type: [OrchJobDto] }) resources!: OrchJobDto[];
}

export class OrchTickDto {
  @ApiProperty() id!: number;
  @ApiProperty() instigatorName!: string;
  @ApiProperty({ enum: ['sensor', 'schedule'] }) instigatorType!: string;
  @ApiProperty({ enum: ['STARTED', 'SKIPPED', 'SUCCESS', 'FAILURE'] }) status!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: Date;
  @ApiPropertyOptional({ format: 'date-time' }) endedAt?: Date;
  @ApiPropertyOptional() cursorBefore?: string;
  @ApiPropertyOptional() cursorAfter?: string;
  @ApiProperty({ type: [String], description: 'Runs this tick created' }) runIds!: readonly string[];
  @ApiProperty({ type: [String] }) runKeys!: readonly string[];
  @ApiProperty({ type: [String], format: 'date-time' }) scheduledTimes!: readonly Date[];
  @ApiPropertyOptional() skipReason?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) error?: Record<string, unknown>;
  @ApiPropertyOptional({ type: 'array', items: { type: 'object' } }) logs?: readonly unknown[];
}

export class OrchTickListDto {
  @ApiProperty({ type: [OrchTickDto] }) resources!: OrchTickDto[];
  @ApiPropertyOptional() next_page_token?: string;
}

export class OrchSensorDto {
  @ApiProperty() name!: string;
  @ApiPropertyOptional() description?: string;
  @ApiProperty({ type: [String] }) jobNames!: string[];
  @ApiProperty() minimumIntervalSeconds!: number;
  @ApiProperty({ enum: ['RUNNING', 'STOPPED'] }) defaultStatus!: string;
  @ApiProperty({ enum: ['RUNNING', 'STOPPED'] }) status!: string;
  @ApiPropertyOptional() cursor?: string;
  @ApiPropertyOptional() lastRunKey?: string;
  @ApiPropertyOptional({ format: 'date-time' }) lastTickStart?: Date;
  @ApiPropertyOptional({ format: 'date-time' }) lastTickEnd?: Date;
  @ApiPropertyOptional({ description: 'Seconds since the last evaluation started' })
  lastTickAgeSeconds?: number;
  @ApiProperty({
    enum: ['TICKING', 'LATE', 'STOPPED'],
    description:
      'Whether the daemon really evaluates it: LATE when a RUNNING sensor has not ticked for twice its interval plus 30 s (the daemon rebuilds lost schedulers within ORCH_RECOVERY_INTERVAL_MS)',
  })
  tickHealth!: string;
  @ApiProperty({ type: [OrchTickDto] }) lastTicks!: OrchTickDto[];
}

export class OrchSensorListDto {
  @ApiProperty({ type: [OrchSensorDto] }) resources!: OrchSensorDto[];
}

export class OrchScheduleDto {
  @ApiProperty() name!: string;
  @ApiPropertyOptional() description?: string;
  @ApiProperty() jobName!: string;
  @ApiProperty({ example: '0 3 * * 0' }) cron!: string;
  @ApiProperty({ example: 'UTC' }) timezone!: string;
  @ApiProperty({ enum: ['RUNNING', 'STOPPED'] }) defaultStatus!: string;
  @ApiProperty({ enum: ['RUNNING', 'STOPPED'] }) status!: string;
  @ApiPropertyOptional({ format: 'date-time' }) lastScheduledTime?: Date;
  @ApiPropertyOptional({ format: 'date-time' }) nextScheduledTime?: Date;
  @ApiPropertyOptional({ format: 'date-time' }) lastTickStart?: Date;
  @ApiPropertyOptional({ format: 'date-time' }) lastTickEnd?: Date;
  @ApiPropertyOptional({ description: 'Seconds since the last evaluation started' })
  lastTickAgeSeconds?: number;
  @ApiProperty({
    enum: ['TICKING', 'LATE', 'STOPPED'],
    description:
      'Whether the daemon really evaluates it: LATE when a RUNNING schedule is more than 60 s past a due time it has not taken',
  })
  tickHealth!: string;
  @ApiProperty({ type: [OrchTickDto] }) lastTicks!: OrchTickDto[];
}

export class OrchScheduleListDto {
  @ApiProperty({ type: [OrchScheduleDto] }) resources!: OrchScheduleDto[];
}
