import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
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

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export class WorkflowRefDto {
  @ApiProperty({ example: 'test' })
  @Matches(ID, { message: 'workflow.id must be a workflow id' })
  id!: string;
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
  config!: Record<string, unknown>;
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
