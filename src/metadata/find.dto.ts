import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

import { MAX_PAGE_SIZE } from '../common/pagination/list-request.dto.js';

export const DEFAULT_PER_PAGE = 25;

export class FindOneRequestDto {
  @ApiPropertyOptional({
    description: 'Comma-separated fields to return (id is always returned)',
    example: 'id,name',
  })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  fields?: string;
}

/** The finders' query parameters (NMDC's FindRequest). */
export class FindRequestDto extends FindOneRequestDto {
  @ApiPropertyOptional({
    description:
      'Comma-separated `attribute:value` pairs. A value may start with `<`, `<=`, `>` or `>=` to compare numerically; `attribute.search:regex` matches a regular expression. Values cannot contain commas.',
    example: 'ecosystem_category:Plants, lat_lon.latitude:>35.0',
  })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  filter?: string;

  @ApiPropertyOptional({
    description: 'Comma-separated `attribute[:asc|desc]`; page-number mode only',
    example: 'depth.has_numeric_value:desc, name',
  })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  sort?: string;

  @ApiPropertyOptional({
    minimum: 1,
    description:
      'Page number (page-number mode, the default); only the first 10,000 results are reachable this way',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'page must be an integer' })
  @Min(1, { message: 'page must be at least 1' })
  page?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PER_PAGE })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'per_page must be an integer' })
  @Min(1, { message: 'per_page must be at least 1' })
  @Max(MAX_PAGE_SIZE, { message: `per_page must be at most ${MAX_PAGE_SIZE}` })
  per_page?: number;

  @ApiPropertyOptional({
    description:
      'Cursor mode: `*` for the first page, then `meta.next_cursor` of the previous page; ordered by id',
  })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  cursor?: string;

  @ApiPropertyOptional({
    description: 'Not supported: answers 400. Use `filter=<attribute>.search:<regex>`.',
  })
  @IsOptional()
  @IsString()
  search?: string;

  @ApiPropertyOptional({ description: 'Not supported: answers 400' })
  @IsOptional()
  @IsString()
  group_by?: string;
}

export class FindMetaDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The MongoDB filter the request became',
  })
  mongo_filter_dict!: Record<string, unknown>;

  @ApiProperty({
    type: 'array',
    nullable: true,
    items: { type: 'array', items: {} },
    example: [['id', 1]],
  })
  mongo_sort_list!: Array<[string, number]> | null;

  @ApiProperty({ description: 'Matching documents (in cursor mode: when the traversal began)' })
  count!: number;

  @ApiProperty()
  db_response_time_ms!: number;

  @ApiProperty({ type: 'integer', nullable: true })
  page!: number | null;

  @ApiProperty()
  per_page!: number;

  @ApiPropertyOptional({
    type: 'string',
    nullable: true,
    description: 'Cursor mode: pass as cursor for the next page',
  })
  next_cursor?: string | null;

  @ApiPropertyOptional()
  fields?: string;
}

export class FindResponseDto {
  @ApiProperty({ type: FindMetaDto })
  meta!: FindMetaDto;

  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } })
  results!: Record<string, unknown>[];

  @ApiProperty({ type: 'array', items: {}, description: 'Always empty (group_by is not supported)' })
  group_by!: unknown[];
}
