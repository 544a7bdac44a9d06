import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 2000;

/**
 * `id,name`, or as NMDC's clients send it, `id, name` and even `"id, started_at_time"` (the value passed
 * through json.dumps).
 */
export const PROJECTION_PATTERN = /^\s*("?)\s*[A-Za-z0-9_.]+(\s*,\s*[A-Za-z0-9_.]+)*\s*\1\s*$/;

/** The query parameters of every list route (the NMDC ListRequest, without its quirks). */
export class ListRequestDto {
  @ApiPropertyOptional({
    description:
      'A JSON MongoDB query over the documented fields. Operators allowed: $eq $ne $gt $gte $lt $lte $in $nin $exists $regex (with $options) $and $or.',
    example: '{"capability_ids": {"$in": ["metagenome"]}}',
  })
  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  filter?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'max_page_size must be an integer' })
  @Min(1, { message: 'max_page_size must be at least 1' })
  @Max(MAX_PAGE_SIZE, { message: `max_page_size must be at most ${MAX_PAGE_SIZE}` })
  max_page_size?: number;

  @ApiPropertyOptional({
    description: 'The next_page_token of the previous page; keep the same filter and projection',
  })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  page_token?: string;

  @ApiPropertyOptional({
    description:
      'Comma-separated fields to return (the id is always returned); spaces around the commas and one pair of surrounding double quotes are ignored',
    example: 'id,name',
  })
  @IsOptional()
  @IsString()
  @Matches(PROJECTION_PATTERN, {
    message: 'projection must be a comma-separated list of field names',
  })
  projection?: string;
}

export interface Page<T> {
  resources: T[];
  next_page_token?: string;
}
