import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { Operation } from 'fast-json-patch';

import { ObjectRecordDto } from '../drs/objects.dto.js';

const PATCH_SCHEMA: ApiPropertyOptions = {
  type: 'array',
  description: 'RFC 6902 JSON Patch turning `before` into `after`',
  items: {
    type: 'object',
    properties: {
      op: { type: 'string', enum: ['add', 'remove', 'replace'] },
      path: { type: 'string', example: '/name' },
      value: {},
    },
    required: ['op', 'path'],
  },
};

export class ChangesheetChangeDto {
  @ApiProperty({ example: 'nmdc:sty-11-abcdef12' })
  id!: string;

  @ApiProperty({ example: 'study_set' })
  collection!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The document now' })
  before!: Record<string, unknown>;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The document once the sheet applies',
  })
  after!: Record<string, unknown>;

  @ApiProperty(PATCH_SCHEMA)
  patch!: Operation[];
}

export class ChangesheetValidDto {
  @ApiProperty({ enum: [true] })
  valid!: true;

  @ApiProperty({ type: [ChangesheetChangeDto] })
  changes!: ChangesheetChangeDto[];
}

export class ChangesheetSubmittedDto {
  @ApiProperty({
    type: ObjectRecordDto,
    description: 'The DRS object holding the sheet (type metadata-changesheet)',
  })
  object!: ObjectRecordDto;

  @ApiProperty({
    description: 'Where to follow the sheet until it is applied',
    example: 'http://localhost:8000/metadata/changesheets/sys0abcd1234',
  })
  status_url!: string;
}

export class ChangesheetPlannedChangeDto {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  collection!: string;

  @ApiProperty(PATCH_SCHEMA)
  patch!: Operation[];

  @ApiProperty({ type: [Number], description: 'The sheet rows behind this change' })
  rows!: number[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Once applied: the document as it was before the sheet, from the transaction log',
  })
  before?: Record<string, unknown>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Once applied: the document as the sheet left it, from the transaction log',
  })
  after?: Record<string, unknown>;
}

class StatusJobDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({ enum: ['unclaimed', 'claimed', 'done', 'failed'] })
  status!: string;
}

class StatusOperationDto {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  done!: boolean;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: '`{changed_ids, txn_id}`' })
  result?: unknown;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  error?: unknown;
}

class StatusRunDto {
  @ApiProperty()
  run_id!: string;

  @ApiProperty({ example: 'SUCCESS' })
  status!: string;
}

class StatusErrorDto {
  @ApiProperty({ example: 'changesheet_conflict' })
  code!: string;

  @ApiProperty()
  message!: string;

  @ApiPropertyOptional()
  details?: unknown;
}

class StatusAttemptDto {
  @ApiProperty({ example: 'user:alice' })
  submitted_by!: string;

  @ApiProperty({ format: 'date-time' })
  submitted_at!: string;

  @ApiPropertyOptional({ format: 'date-time' })
  failed_at?: string;

  @ApiPropertyOptional({ type: StatusErrorDto })
  error?: StatusErrorDto;
}

export class ChangesheetStatusDto {
  @ApiProperty()
  object_id!: string;

  @ApiProperty({ enum: ['pending', 'applied', 'failed', 'reverted'] })
  status!: 'pending' | 'applied' | 'failed' | 'reverted';

  @ApiProperty({ example: 'user:alice' })
  submitted_by!: string;

  @ApiProperty({ format: 'date-time' })
  submitted_at!: string;

  @ApiProperty({
    type: StatusJobDto,
    nullable: true,
    description: 'The apply-changesheet-1.0.0 job, once created',
  })
  job!: StatusJobDto | null;

  @ApiProperty({ type: StatusOperationDto, nullable: true, description: "The operation of the hub's claim" })
  operation!: StatusOperationDto | null;

  @ApiProperty({ type: StatusRunDto, nullable: true, description: 'The apply_changesheet run' })
  run!: StatusRunDto | null;

  @ApiPropertyOptional({ description: 'The transaction that applied the sheet' })
  txn_id?: string;

  @ApiPropertyOptional({ type: [String] })
  changed_ids?: string[];

  @ApiPropertyOptional({ type: StatusErrorDto, description: 'Why the sheet failed' })
  error?: StatusErrorDto;

  @ApiPropertyOptional({ format: 'date-time' })
  applied_at?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  reverted_at?: string;

  @ApiPropertyOptional({ description: 'The transaction that reverted the sheet' })
  revert_txn_id?: string;

  @ApiPropertyOptional({
    type: [StatusAttemptDto],
    description: 'Earlier attempts that failed before the same sheet was submitted again, oldest first',
  })
  attempts?: StatusAttemptDto[];

  @ApiProperty({ type: [ChangesheetPlannedChangeDto], description: 'The changes as validated at submission' })
  changes!: ChangesheetPlannedChangeDto[];
}

export const CHANGESHEET_STATUSES = ['pending', 'applied', 'failed', 'reverted'] as const;

export class ListChangesheetsQueryDto {
  @ApiPropertyOptional({ enum: CHANGESHEET_STATUSES, description: 'Only sheets in this status' })
  @IsOptional()
  @IsIn(CHANGESHEET_STATUSES, { message: `status must be one of ${CHANGESHEET_STATUSES.join(', ')}` })
  status?: (typeof CHANGESHEET_STATUSES)[number];

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'max_page_size must be an integer' })
  @Min(1, { message: 'max_page_size must be at least 1' })
  @Max(200, { message: 'max_page_size must be at most 200' })
  max_page_size?: number;

  @ApiPropertyOptional({ description: 'The next_page_token of the previous page, with the same status' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  page_token?: string;
}

export class ChangesheetSummaryDto {
  @ApiProperty({ description: 'The DRS object holding the sheet' })
  object_id!: string;

  @ApiProperty({ enum: CHANGESHEET_STATUSES })
  status!: 'pending' | 'applied' | 'failed' | 'reverted';

  @ApiProperty({ example: 'user:alice' })
  submitted_by!: string;

  @ApiProperty({ format: 'date-time' })
  submitted_at!: string;

  @ApiProperty({ description: 'How many documents the sheet changes' })
  documents!: number;

  @ApiPropertyOptional({ format: 'date-time' })
  applied_at?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  failed_at?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  reverted_at?: string;

  @ApiPropertyOptional({ type: StatusErrorDto, description: 'Why the sheet failed' })
  error?: StatusErrorDto;
}

export class ChangesheetPageDto {
  @ApiProperty({ type: [ChangesheetSummaryDto] })
  resources!: ChangesheetSummaryDto[];

  @ApiPropertyOptional()
  next_page_token?: string;
}
