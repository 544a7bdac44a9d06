import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { IsStorableJson } from '../common/http/storable-json.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Workflow ids may hold inner spaces, as NMDC's do (`ReadsQC: v1.0.8`). */
const WORKFLOW_ID = /^[A-Za-z0-9](?:[A-Za-z0-9._: -]{0,126}[A-Za-z0-9._:-])?$/;

export class WorkflowRefDto {
  @ApiProperty({ example: 'test' })
  @Matches(WORKFLOW_ID, { message: 'workflow.id must be a workflow id' })
  id!: string;

  // NMDC's clients may send the rest of the workflow record; the registry's copy is what counts.
  @ApiPropertyOptional({ description: 'Ignored: the registry holds the workflow' })
  @Allow()
  name?: unknown;

  @ApiPropertyOptional({ description: 'Ignored: the registry holds the workflow' })
  @Allow()
  capability_ids?: unknown;
}

export class JobCreateDto {
  @ApiProperty({ type: WorkflowRefDto })
  @IsDefined({ message: 'workflow is required: {"id": "<workflow id>"}' })
  @ValidateNested()
  @Type(() => WorkflowRefDto)
  workflow!: WorkflowRefDto;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(500)
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  description?: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Inputs for the workflow, free-form',
  })
  @IsDefined({ message: 'config is required (an object; it may be empty)' })
  @IsObject({ message: 'config must be a JSON object' })
  @IsStorableJson()
  config!: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'array',
    maxItems: 0,
    description: 'Accepted for NMDC clients, which send `claims: []`; a new job has no claims',
  })
  @IsOptional()
  @IsArray({ message: 'claims must be an empty array when given' })
  @ArrayMaxSize(0, { message: 'claims must be empty: a job is claimed with POST /jobs/{id}:claim' })
  claims?: unknown[];
}

export class JobReleaseManyDto {
  @ApiProperty({ type: [String] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @Matches(ID, { each: true, message: 'each job id must be an id' })
  job_ids!: string[];
}

export class JobClaimDto {
  @ApiProperty()
  op_id!: string;

  @ApiProperty()
  site_id!: string;

  @ApiProperty({ format: 'date-time' })
  claimed_at!: string;

  @ApiProperty({ format: 'date-time', description: 'When the lease ends unless the site reports progress' })
  expire_time!: string;

  @ApiProperty({ enum: ['open', 'done', 'failed', 'cancelled', 'expired'] })
  state!: string;

  @ApiPropertyOptional({ description: 'true once the claim is closed, whatever its outcome (NMDC field)' })
  done?: boolean;

  @ApiPropertyOptional({
    description: 'true when the claim ended without a result: released, or its lease ran out (NMDC field)',
  })
  cancelled?: boolean;

  @ApiPropertyOptional({ format: 'date-time' })
  finished_at?: string;
}

export class JobWorkflowDto {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ type: [String] })
  capability_ids!: string[];
}

export class JobDto {
  @ApiProperty({ example: 'sys0abcd1234' })
  id!: string;

  @ApiProperty({ type: JobWorkflowDto })
  workflow!: JobWorkflowDto;

  @ApiPropertyOptional()
  name?: string;

  @ApiPropertyOptional()
  description?: string;

  @ApiProperty({ type: 'object', additionalProperties: true })
  config!: Record<string, unknown>;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ description: 'Who created it: a site, or the hub for trigger-created jobs' })
  created_by!: string;

  @ApiProperty({ type: [JobClaimDto] })
  claims!: JobClaimDto[];

  @ApiProperty({ enum: ['unclaimed', 'claimed', 'done', 'failed'] })
  status!: string;

  @ApiPropertyOptional({
    description: 'When the job was last put back up for claiming after a failure',
    format: 'date-time',
  })
  reopened_at?: string;
}

export class JobPageDto {
  @ApiProperty({ type: [JobDto] })
  resources!: JobDto[];

  @ApiPropertyOptional()
  next_page_token?: string;
}
