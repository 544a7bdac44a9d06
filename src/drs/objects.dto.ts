import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';

import { DrsObjectDto } from './drs.dto.js';
import {
  ACCESS_METHOD_TYPES,
  DRS_ID_PATTERN,
  MIME_TYPE_PATTERN,
  OBJECT_TYPE_ID_PATTERN,
  PORTABLE_NAME_PATTERN,
  READER_PATTERN,
  type AccessMethodType,
} from './object.model.js';

const NAME_MESSAGE = 'name must be a portable file name: 1-256 letters, digits, ".", "_" or "-"';
const MIME_MESSAGE = 'mime_type must look like type/subtype, e.g. application/gzip';
const TYPES_MESSAGE = 'each type must be an object type id (see GET /object_types)';
const READERS_MESSAGE = 'each reader must be "user:<username>" or "site:<site id>"';

export class ChecksumInputDto {
  @ApiProperty({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })
  @IsString({ message: 'checksum must be a string' })
  @MaxLength(256)
  checksum!: string;

  @ApiProperty({ example: 'sha-256', description: 'sha-256 and sha256 are both accepted; sha-256 is stored' })
  @IsString({ message: 'type must be a string' })
  @MaxLength(32)
  type!: string;
}

export class AccessUrlInputDto {
  @ApiProperty({ example: 'https://data.example.org/files/abc.fastq.gz' })
  @IsString()
  @MaxLength(4096)
  @Matches(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+$/, { message: 'url must be an absolute URL such as https://…' })
  url!: string;

  @ApiPropertyOptional({ type: [String], example: ['Authorization: Basic Z2E0Z2g6ZHJz'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(/^[!-9;-~]+:[^\r\n]*$/, { each: true, message: 'each header must be a "Name: value" line' })
  headers?: string[];
}

export class AccessMethodInputDto {
  @ApiProperty({ enum: ACCESS_METHOD_TYPES })
  @IsIn(ACCESS_METHOD_TYPES, { message: `type must be one of ${ACCESS_METHOD_TYPES.join(', ')}` })
  type!: AccessMethodType;

  @ApiPropertyOptional({ type: AccessUrlInputDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => AccessUrlInputDto)
  access_url?: AccessUrlInputDto;

  @ApiPropertyOptional({
    description:
      'Not accepted here: only the hub mints access ids, for the bytes it stores (upload them with POST /objects:upload)',
  })
  @IsOptional()
  @IsString()
  access_id?: string;

  @ApiPropertyOptional({ example: 'us-east-1' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  region?: string;

  @ApiPropertyOptional({ example: 'aws' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  cloud?: string;

  @ApiPropertyOptional({ description: 'false when the bytes sit in cold storage' })
  @IsOptional()
  @IsBoolean()
  available?: boolean;
}

export class ContentsInputDto {
  @ApiProperty({ example: 'study_set.jsonl.gz', description: 'Unique within the bundle' })
  @Matches(PORTABLE_NAME_PATTERN, { message: NAME_MESSAGE })
  name!: string;

  @ApiProperty({ description: 'The id of an object registered here (a blob or another bundle)' })
  @Matches(DRS_ID_PATTERN, { message: 'id must be an object id of letters, digits and ._~-' })
  id!: string;

  @ApiPropertyOptional({
    type: [String],
    description: 'Further drs:// URIs of the member; its URI here is added',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @Matches(/^drs:\/\/\S+$/, { each: true, message: 'each drs_uri must start with drs://' })
  drs_uri?: string[];
}

class ObjectFieldsDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  description?: string;

  @ApiPropertyOptional({ example: 'application/gzip' })
  @IsOptional()
  @Matches(MIME_TYPE_PATTERN, { message: MIME_MESSAGE })
  @MaxLength(255)
  mime_type?: string;

  @ApiPropertyOptional({ type: [String], description: 'Other identifiers of this object' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(1024, { each: true })
  aliases?: string[];

  @ApiPropertyOptional({ type: [AccessMethodInputDto], description: 'Required for a blob registered by URL' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => AccessMethodInputDto)
  access_methods?: AccessMethodInputDto[];

  @ApiPropertyOptional({
    default: false,
    description: 'Readable only with a bearer token of an allowed caller',
  })
  @IsOptional()
  @IsBoolean()
  controlled?: boolean;

  @ApiPropertyOptional({
    type: [String],
    example: ['user:alice', 'site:nersc'],
    description: 'Who may read a controlled object besides its managing site and object admins',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @Matches(READER_PATTERN, { each: true, message: READERS_MESSAGE })
  readers?: string[];
}

/**
 * Fields of a DRS object that NMDC's clients send when registering or bumping one and that the hub sets
 * itself: accepted and ignored, as NMDC ignores them.
 */
const IGNORED = 'Ignored: the hub sets it (accepted because NMDC clients send it)';

export class ObjectCreateDto extends ObjectFieldsDto {
  @ApiPropertyOptional({ description: IGNORED })
  @Allow()
  id?: unknown;

  @ApiPropertyOptional({ description: IGNORED })
  @Allow()
  self_uri?: unknown;

  @ApiPropertyOptional({ description: IGNORED })
  @Allow()
  updated_time?: unknown;

  @ApiPropertyOptional({ description: IGNORED })
  @Allow()
  version?: unknown;

  @ApiPropertyOptional({ example: 'reads.fastq.gz' })
  @IsOptional()
  @Matches(PORTABLE_NAME_PATTERN, { message: NAME_MESSAGE })
  name?: string;

  @ApiPropertyOptional({
    type: 'integer',
    format: 'int64',
    description: 'Required for a blob; computed for a bundle (if given, it must match)',
  })
  @IsOptional()
  @IsInt({ message: 'size must be a whole number of bytes' })
  @Min(0, { message: 'size must not be negative' })
  size?: number;

  @ApiPropertyOptional({ format: 'date-time', description: 'When the content was created; defaults to now' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'created_time must be an RFC 3339 date-time' })
  created_time?: string;

  @ApiPropertyOptional({
    type: [ChecksumInputDto],
    description: 'Required for a blob; computed for a bundle (if given, each must match)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: 'checksums must list at least one checksum' })
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => ChecksumInputDto)
  checksums?: ChecksumInputDto[];

  @ApiPropertyOptional({
    type: [ContentsInputDto],
    description: 'Makes the object a bundle of these members',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: 'a bundle must have at least one member' })
  @ArrayMaxSize(10_000)
  @ValidateNested({ each: true })
  @Type(() => ContentsInputDto)
  contents?: ContentsInputDto[];

  @ApiPropertyOptional({ type: [String], example: ['test'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(OBJECT_TYPE_ID_PATTERN, { each: true, message: TYPES_MESSAGE })
  types?: string[];
}

/** Only the fields sent change; `null` removes `description` or `mime_type`. */
export class ObjectUpdateDto extends ObjectFieldsDto {
  @ApiPropertyOptional({
    description:
      'Ignored: the creation time of the content does not change (NMDC sites send it to "bump" an object)',
  })
  @Allow()
  created_time?: unknown;
}

const splitList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : value;

const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

/** The text fields of an upload form (multipart/form-data, next to the `file` part). */
export class UploadFieldsDto {
  @ApiPropertyOptional({ description: 'Defaults to the uploaded file name, made portable' })
  @IsOptional()
  @Matches(PORTABLE_NAME_PATTERN, { message: NAME_MESSAGE })
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  description?: string;

  @ApiPropertyOptional({ description: 'Defaults to the content type of the file part' })
  @IsOptional()
  @Matches(MIME_TYPE_PATTERN, { message: MIME_MESSAGE })
  @MaxLength(255)
  mime_type?: string;

  @ApiPropertyOptional({ description: 'Comma-separated object type ids', example: 'test,metadata-in' })
  @IsOptional()
  @Transform(splitList)
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(OBJECT_TYPE_ID_PATTERN, { each: true, message: TYPES_MESSAGE })
  types?: string[];

  @ApiPropertyOptional({ description: 'true or false' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'controlled must be true or false' })
  controlled?: boolean;

  @ApiPropertyOptional({ description: 'Comma-separated, e.g. user:alice,site:nersc' })
  @IsOptional()
  @Transform(splitList)
  @IsArray()
  @ArrayMaxSize(1000)
  @Matches(READER_PATTERN, { each: true, message: READERS_MESSAGE })
  readers?: string[];
}

export class ObjectRecordDto extends DrsObjectDto {
  @ApiProperty({ type: [String], description: 'Object type ids' })
  types!: string[];

  @ApiProperty()
  controlled!: boolean;

  @ApiPropertyOptional({ type: [String] })
  readers?: string[];

  @ApiProperty({ description: 'The site that manages this object' })
  mgr_site!: string;

  @ApiProperty({ example: 'site:nersc' })
  created_by!: string;
}

export class ObjectPageDto {
  @ApiProperty({ type: [ObjectRecordDto] })
  resources!: ObjectRecordDto[];

  @ApiPropertyOptional()
  next_page_token?: string;
}

export class ObjectTypeDto {
  @ApiProperty({ example: 'metadata-changesheet' })
  id!: string;

  @ApiPropertyOptional()
  name?: string;

  @ApiPropertyOptional()
  description?: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}
