import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

export const MAX_BATCH_SIZE = 2000;
export const MAX_STATEMENTS = 1000;
const COLLECTION_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,119}$/;
const COLLECTION_MESSAGE = (command: string) => `${command} takes a collection name`;

export class CursorOptionsDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_BATCH_SIZE, default: 25 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_BATCH_SIZE)
  batchSize?: number;
}

export class UpdateStatementDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Which documents (a filter)' })
  @IsObject({ message: 'q must be a filter object' })
  q!: Record<string, unknown>;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'Update operators, e.g. {"$set": {"name": "…"}}',
  })
  @IsObject({ message: 'u must be an object of update operators' })
  u!: Record<string, unknown>;

  @ApiPropertyOptional({ default: false, description: 'Update every match rather than the first' })
  @IsOptional()
  @IsBoolean()
  multi?: boolean;

  @ApiPropertyOptional({
    default: false,
    description: 'Refused when true: create documents with json:submit',
  })
  @IsOptional()
  @IsBoolean()
  upsert?: boolean;
}

export class DeleteStatementDto {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Which documents (a filter)' })
  @IsObject({ message: 'q must be a filter object' })
  q!: Record<string, unknown>;

  @ApiProperty({ enum: [0, 1], description: '1 deletes the first match only, 0 every match' })
  @IsIn([0, 1], { message: 'limit must be 0 (every match) or 1 (the first match)' })
  limit!: 0 | 1;
}

/** Query parameters of `queries:run`. */
export class QueryOptionsDto {
  @ApiPropertyOptional({
    description: 'true lets a delete remove documents that other documents still refer to',
    default: false,
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'allow_broken_refs must be true or false' })
  allow_broken_refs?: boolean;
}

/**
 * One MongoDB-style command, told apart by which of `find`, `count`, `aggregate`, `getMore`, `update`
 * or `delete` it carries (exactly one).
 */
export class QueryCommandDto {
  @ApiPropertyOptional({ description: 'find: the collection to read', example: 'biosample_set' })
  @IsOptional()
  @Matches(COLLECTION_NAME, { message: COLLECTION_MESSAGE('find') })
  find?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'find: a filter' })
  @IsOptional()
  @IsObject({ message: 'filter must be an object' })
  filter?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'find: {field: 0 | 1}' })
  @IsOptional()
  @IsObject({ message: 'projection must be an object' })
  projection?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'find: {field: 1 | -1}' })
  @IsOptional()
  @IsObject({ message: 'sort must be an object' })
  sort?: Record<string, unknown>;

  @ApiPropertyOptional({ minimum: 0, description: 'find: at most this many documents in all (0: no limit)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  limit?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: MAX_BATCH_SIZE,
    description: 'find and getMore: documents per batch (default 101)',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_BATCH_SIZE)
  batchSize?: number;

  @ApiPropertyOptional({ description: 'count: the collection to count in' })
  @IsOptional()
  @Matches(COLLECTION_NAME, { message: COLLECTION_MESSAGE('count') })
  count?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'count: a filter' })
  @IsOptional()
  @IsObject({ message: 'query must be an object' })
  query?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'aggregate: the collection to aggregate' })
  @IsOptional()
  @Matches(COLLECTION_NAME, { message: COLLECTION_MESSAGE('aggregate') })
  aggregate?: string;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description:
      'aggregate: stages from $match $project $group $sort $limit $skip $unwind $count $addFields $set $unset',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsObject({ each: true, message: 'each pipeline stage must be an object' })
  pipeline?: Record<string, unknown>[];

  @ApiPropertyOptional({ type: CursorOptionsDto, description: 'aggregate: batch size (default 25)' })
  @IsOptional()
  @ValidateNested()
  @Type(() => CursorOptionsDto)
  cursor?: CursorOptionsDto;

  @ApiPropertyOptional({ description: 'aggregate: accepted for compatibility and ignored' })
  @IsOptional()
  @IsBoolean()
  allowDiskUse?: boolean;

  @ApiPropertyOptional({ description: 'getMore: a cursor id from a previous answer' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  getMore?: string;

  @ApiPropertyOptional({ description: 'update: the collection to change (needs queries:write)' })
  @IsOptional()
  @Matches(COLLECTION_NAME, { message: COLLECTION_MESSAGE('update') })
  update?: string;

  @ApiPropertyOptional({ type: [UpdateStatementDto] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_STATEMENTS)
  @ValidateNested({ each: true })
  @Type(() => UpdateStatementDto)
  updates?: UpdateStatementDto[];

  @ApiPropertyOptional({ description: 'delete: the collection to delete from (needs queries:write)' })
  @IsOptional()
  @Matches(COLLECTION_NAME, { message: COLLECTION_MESSAGE('delete') })
  delete?: string;

  @ApiPropertyOptional({ type: [DeleteStatementDto] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_STATEMENTS)
  @ValidateNested({ each: true })
  @Type(() => DeleteStatementDto)
  deletes?: DeleteStatementDto[];
}

export class QueryCursorDto {
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } })
  batch!: Record<string, unknown>[];

  @ApiProperty({
    type: 'string',
    nullable: true,
    description: 'Pass to getMore for the next batch; null when there is none',
  })
  id!: string | null;
}

export class CursorResponseDto {
  @ApiProperty({ example: 1 })
  ok!: 1;

  @ApiProperty({ type: QueryCursorDto })
  cursor!: QueryCursorDto;
}

export class CountResponseDto {
  @ApiProperty({ example: 1 })
  ok!: 1;

  @ApiProperty({ description: 'Matching documents' })
  n!: number;
}

export class WriteResponseDto {
  @ApiProperty({ example: 1 })
  ok!: 1;

  @ApiProperty({ description: 'Documents matched (update) or deleted (delete); 0 when nothing matched' })
  n!: number;

  @ApiPropertyOptional({ description: 'update: documents whose content changed' })
  nModified?: number;

  @ApiProperty({ description: 'Documents whose previous version was backed up' })
  backedUp!: number;
}

export type QueryResponse = CursorResponseDto | CountResponseDto | WriteResponseDto;
