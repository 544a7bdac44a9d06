import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  IsBoolean,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { IsStorableJson } from '../common/http/storable-json.js';

export class OperationErrorDto {
  @ApiProperty({ example: 'WORKFLOW_FAILED' })
  @IsString()
  @Matches(/^[A-Za-z0-9_.:-]{1,100}$/, { message: 'error.code must be 1-100 letters, digits or _.:-' })
  code!: string;

  @ApiProperty()
  @IsString()
  @MaxLength(10_000)
  message!: string;

  @ApiPropertyOptional({ description: 'Any JSON value' })
  @Allow()
  @IsStorableJson()
  details?: unknown;
}

export class OperationPatchDto {
  @ApiPropertyOptional({
    description: 'true when the work finished, failed or was abandoned; a done operation cannot be reopened',
  })
  @IsOptional()
  @IsBoolean()
  done?: boolean;

  @ApiPropertyOptional({ description: 'Any JSON value: by convention references to the outputs' })
  @Allow()
  @IsStorableJson()
  result?: unknown;

  @ApiPropertyOptional({ type: OperationErrorDto, description: 'Set instead of result when the work failed' })
  @IsOptional()
  @ValidateNested()
  @Type(() => OperationErrorDto)
  error?: OperationErrorDto;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Merged key by key into the stored metadata; job, site_id and model cannot change',
  })
  @IsOptional()
  @IsObject({ message: 'metadata must be a JSON object' })
  @IsStorableJson()
  metadata?: Record<string, unknown>;
}

export class OperationJobDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ type: 'object', properties: { id: { type: 'string' } } })
  workflow!: { id: string };

  @ApiProperty({ type: 'object', additionalProperties: true })
  config!: Record<string, unknown>;
}

export class OperationMetadataDto {
  @ApiProperty({ type: OperationJobDto })
  job!: OperationJobDto;

  @ApiProperty()
  site_id!: string;

  @ApiProperty({ enum: ['job-operation'] })
  model!: string;
}

export class OperationDto {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  done!: boolean;

  @ApiProperty({
    format: 'date-time',
    description: 'The lease: a PATCH of an open operation moves it forward',
  })
  expire_time!: string;

  @ApiPropertyOptional({ description: 'Any JSON value' })
  result?: unknown;

  @ApiPropertyOptional({ type: OperationErrorDto })
  error?: OperationErrorDto;

  @ApiPropertyOptional({ description: 'true when the site released the job' })
  cancelled?: boolean;

  @ApiProperty({ type: OperationMetadataDto, description: 'Also carries any keys the site added' })
  metadata!: OperationMetadataDto & Record<string, unknown>;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ format: 'date-time' })
  updated_at!: string;
}

export class OperationPageDto {
  @ApiProperty({ type: [OperationDto] })
  resources!: OperationDto[];

  @ApiPropertyOptional()
  next_page_token?: string;
}
