import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

import { PROJECTION_PATTERN } from '../common/pagination/list-request.dto.js';
import { MAX_MINT } from '../pids/pids.dto.js';

/**
 * The largest page the NMDC routes serve. NMDC's ListRequest has no cap; its own clients ask for at most
 * 10,000 (`max_page_size=10000` to read a study's biosamples in one request).
 */
export const NMDC_MAX_PAGE_SIZE = 10_000;

/** NMDC's ListRequest: as the hub's, but `max_page_size` may be 0 ("everything", up to the cap) or large. */
export class NmdcListRequestDto {
  @ApiPropertyOptional({ description: 'A JSON MongoDB query (the allow-listed operators of every list)' })
  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  filter?: string;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: NMDC_MAX_PAGE_SIZE,
    default: 20,
    description: `0 means as many as one page may hold (${NMDC_MAX_PAGE_SIZE})`,
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'max_page_size must be an integer' })
  @Min(0, { message: 'max_page_size must not be negative' })
  @Max(NMDC_MAX_PAGE_SIZE, { message: `max_page_size must be at most ${NMDC_MAX_PAGE_SIZE}` })
  max_page_size?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  page_token?: string;

  @ApiPropertyOptional({ example: 'id, name' })
  @IsOptional()
  @IsString()
  @Matches(PROJECTION_PATTERN, { message: 'projection must be a comma-separated list of field names' })
  projection?: string;
}

export class NmdcCollectionNameDto {
  @ApiProperty({ example: 'nmdc:bsm-11-abc123' })
  id!: string;

  @ApiProperty({ example: 'biosample_set' })
  collection_name!: string;
}

export class NmdcMessageDto {
  @ApiProperty({ example: 'Inserted 3 documents' })
  message!: string;
}

export class NmdcJobSummaryDto {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  description!: string;

  @ApiProperty()
  producer!: string;

  @ApiProperty()
  schemaURL!: string;
}

/** NMDC's RunSummary (an OpenLineage-style record), for the run a json:submit started. */
export class NmdcRunSummaryDto {
  @ApiProperty({ description: 'The id json:submit answered as detail.run_id (the job that applies it)' })
  id!: string;

  @ApiProperty({ enum: ['REQUESTED', 'STARTED', 'FAIL', 'COMPLETE'] })
  status!: 'REQUESTED' | 'STARTED' | 'FAIL' | 'COMPLETE';

  @ApiProperty({ format: 'date-time' })
  started_at_time!: string;

  @ApiProperty({ example: 'user:alice' })
  was_started_by!: string;

  @ApiProperty({ type: [String], description: 'The DRS object holding the submission' })
  inputs!: string[];

  @ApiProperty({ type: [String] })
  outputs!: string[];

  @ApiProperty({ type: NmdcJobSummaryDto })
  job!: NmdcJobSummaryDto;

  @ApiProperty()
  producer!: string;

  @ApiProperty()
  schemaURL!: string;
}

/** The body of NMDC's former `POST /ids/mint` (which `NmdcRuntimeApi.mint` still sends). */
export class NmdcIdsMintRequestDto {
  @ApiPropertyOptional({ description: 'Who asks; ignored (the calling site is recorded)', default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  populator?: string;

  @ApiPropertyOptional({ description: "The ids' prefix (name-assigning authority)", default: 'nmdc' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9]*$/, { message: 'naa must be a prefix such as "nmdc"' })
  naa?: string;

  @ApiProperty({
    description:
      'The typecode of the class to mint for, optionally followed by digits as NMDC wrote shoulders (`mga0`)',
    example: 'bsm',
  })
  @IsString()
  @Matches(/^[a-z]+[0-9]*$/, { message: 'shoulder must be a typecode such as "bsm" or "mga0"' })
  shoulder!: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_MINT, default: 1 })
  @IsOptional()
  @IsInt({ message: 'number must be an integer' })
  @Min(1, { message: 'number must be at least 1' })
  @Max(MAX_MINT, { message: `number must be at most ${MAX_MINT}` })
  number?: number;
}

const toList = ({ value }: { value: unknown }): unknown => {
  const values: unknown[] = Array.isArray(value) ? value : [value];
  return values
    .flatMap((v): unknown[] => (typeof v === 'string' ? v.split(',') : [v]))
    .map((v): unknown => (typeof v === 'string' ? v.trim() : v))
    .filter((v) => v !== '');
};

/** NMDC's query of `GET /nmdcschema/linked_instances` (Python's requests sends booleans as `True`). */
export class NmdcLinkedInstancesRequestDto {
  @ApiProperty({
    type: [String],
    description: 'The ids to traverse from (repeat the parameter, or separate with commas)',
    example: ['nmdc:bsm-11-abc123'],
  })
  @Transform(toList)
  @IsArray()
  @ArrayMinSize(1, { message: 'ids must name at least one id' })
  @ArrayMaxSize(1000, { message: 'ids may name at most 1000 ids' })
  @IsString({ each: true })
  @MaxLength(300, { each: true })
  ids!: string[];

  @ApiPropertyOptional({
    type: [String],
    description:
      'Types of the instances to answer; an abstract class (nmdc:DataGeneration) needs METADATA_CLASS_HIERARCHY_PATH. Default: every type.',
    example: ['nmdc:DataGeneration'],
  })
  @IsOptional()
  @Transform(toList)
  @IsArray()
  @ArrayMaxSize(100, { message: 'types may name at most 100 types' })
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  types?: string[];

  @ApiPropertyOptional({ default: false, description: 'Whole documents rather than {id, type}' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? ({ true: true, false: false }[value.trim().toLowerCase()] ?? value) : value,
  )
  @IsBoolean({ message: 'hydrate must be true or false' })
  hydrate?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  page_token?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: NMDC_MAX_PAGE_SIZE, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'max_page_size must be an integer' })
  @Min(1, { message: 'max_page_size must be at least 1' })
  @Max(NMDC_MAX_PAGE_SIZE, { message: `max_page_size must be at most ${NMDC_MAX_PAGE_SIZE}` })
  max_page_size?: number;
}

/** NMDC's AccessMethod, as `get_site_object_link` sends it; only `access_id` is read. */
export class NmdcAccessMethodDto {
  @ApiProperty({ description: 'The id of a blob object stored in the hub', example: 'sys0ab12cd3456' })
  @IsString()
  @MaxLength(300)
  access_id!: string;

  @ApiPropertyOptional({ example: 'https' })
  @IsOptional()
  @IsString()
  @MaxLength(50)
  type?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  access_url?: unknown;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(100)
  region?: string;
}

/** NMDC's DrsObjectBase, as `put_object_in_site` sends it: what the uploaded object will be called. */
export class NmdcPutObjectRequestDto {
  @ApiPropertyOptional({ example: 'reads.fastq.gz' })
  @IsOptional()
  @IsString()
  @Matches(/^[^/\\\r\n]{1,255}$/, {
    message: 'name must be a file name (no slashes), at most 255 characters',
  })
  name?: string;

  @ApiPropertyOptional({ description: 'Ignored: describe the object afterwards with PATCH /objects/{id}' })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  description?: string;

  @ApiPropertyOptional({ example: 'application/gzip' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9][\w.+-]*\/[\w.+-]+$/, { message: 'mime_type must look like type/subtype' })
  mime_type?: string;

  @ApiPropertyOptional({ type: [String], description: 'Ignored' })
  @IsOptional()
  @IsArray()
  aliases?: unknown[];
}

export class NmdcObjectPutMetadataDto {
  @ApiProperty({ description: 'The id the uploaded object will have', example: 'sys0ab12cd3456' })
  object_id!: string;

  @ApiProperty({ example: 'nersc' })
  site_id!: string;

  @ApiProperty({
    description: 'Signed upload URL: PUT the bytes with Content-Type: application/octet-stream',
  })
  url!: string;

  @ApiProperty({ example: 300 })
  expires_in_seconds!: number;

  @ApiProperty({ example: 'nmdc_runtime.api.models.operation.ObjectPutMetadata' })
  model!: string;
}

/** NMDC's Operation[DrsObjectIn, ObjectPutMetadata], as `:putObject` answers it. */
export class NmdcPutObjectOperationDto {
  @ApiProperty({ description: 'The upload id (the object id to be); not a stored job operation' })
  id!: string;

  @ApiProperty({ example: false })
  done!: boolean;

  @ApiProperty({ description: 'When the upload URL expires' })
  expire_time!: string;

  @ApiProperty({ type: NmdcObjectPutMetadataDto })
  metadata!: NmdcObjectPutMetadataDto;
}
