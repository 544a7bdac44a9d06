import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';

import { ACCESS_METHOD_TYPES } from './object.model.js';

/** `true`, `True`, `TRUE` and `1` mean yes; `false`, `0` and an empty value mean no; anything else is refused. */
export function parseExpand(value: unknown): boolean | undefined {
  if (value === undefined || value === null || typeof value === 'boolean') {
    return value ?? undefined;
  }
  if (value === 1 || value === 0) {
    return value === 1;
  }
  if (typeof value === 'string') {
    const lowered = value.trim().toLowerCase();
    if (lowered === 'true' || lowered === '1') {
      return true;
    }
    if (lowered === 'false' || lowered === '0' || lowered === '') {
      return false;
    }
  }
  return undefined;
}

const toExpand = ({ value }: { value: unknown }): unknown => parseExpand(value) ?? value;

const PASSPORTS_DESCRIPTION =
  'GA4GH Passport JWTs. This hub authorizes controlled objects with bearer tokens only; passports are accepted and ignored.';

export class ChecksumDto {
  @ApiProperty({ example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' })
  checksum!: string;

  @ApiProperty({ example: 'sha-256', description: 'An IANA hash name, or md5, sha1, etag, crc32c, trunc512' })
  type!: string;
}

export class AccessUrlDto {
  @ApiProperty({ example: 'https://hub.example.org/blobs/sys0abc?exp=1700000000&sig=…' })
  url!: string;

  @ApiPropertyOptional({ type: [String], example: ['Authorization: Basic Z2E0Z2g6ZHJz'] })
  headers?: string[];
}

export class AuthorizationsDto {
  @ApiPropertyOptional({ description: 'Present when answering OPTIONS (DRS 1.4+)' })
  drs_object_id?: string;

  @ApiProperty({
    type: [String],
    enum: ['None', 'BasicAuth', 'BearerAuth', 'PassportAuth'],
    example: ['BearerAuth'],
  })
  supported_types!: string[];

  @ApiPropertyOptional({ type: [String] })
  passport_auth_issuers?: string[];

  @ApiPropertyOptional({ type: [String], description: 'Who issues the bearer tokens this hub accepts' })
  bearer_auth_issuers?: string[];
}

export class AccessMethodDto {
  @ApiProperty({ enum: ACCESS_METHOD_TYPES })
  type!: string;

  @ApiPropertyOptional({ type: AccessUrlDto })
  access_url?: AccessUrlDto;

  @ApiPropertyOptional({ description: 'Pass to GET /objects/{object_id}/access/{access_id}' })
  access_id?: string;

  @ApiPropertyOptional({ example: 'us-east-1' })
  region?: string;

  @ApiPropertyOptional({ description: 'DRS 1.5 only', example: 'aws' })
  cloud?: string;

  @ApiPropertyOptional({ description: 'DRS 1.5 only: false when the bytes need restoring first' })
  available?: boolean;

  @ApiPropertyOptional({ type: AuthorizationsDto, description: 'DRS 1.3+ only' })
  authorizations?: AuthorizationsDto;
}

export class ContentsObjectDto {
  @ApiProperty({ example: 'study_set.jsonl.gz' })
  name!: string;

  @ApiPropertyOptional()
  id?: string;

  @ApiPropertyOptional({ type: [String], example: ['drs://hub.example.org/sys0abc'] })
  drs_uri?: string[];

  @ApiPropertyOptional({
    type: () => [ContentsObjectDto],
    description: 'The members of a nested bundle, when the request asked for expand=true',
  })
  contents?: ContentsObjectDto[];
}

export class DrsObjectDto {
  @ApiProperty({ example: 'sys0xsry7042' })
  id!: string;

  @ApiPropertyOptional({ example: 'study_set.jsonl.gz' })
  name?: string;

  @ApiProperty({ example: 'drs://hub.example.org/sys0xsry7042' })
  self_uri!: string;

  @ApiProperty({
    type: 'integer',
    format: 'int64',
    description: 'Bytes; for a bundle, the sum of its contents',
  })
  size!: number;

  @ApiProperty({ format: 'date-time' })
  created_time!: string;

  @ApiPropertyOptional({ format: 'date-time' })
  updated_time?: string;

  @ApiPropertyOptional({ description: 'Increases with every change to the record' })
  version?: string;

  @ApiPropertyOptional({ example: 'application/gzip' })
  mime_type?: string;

  @ApiProperty({ type: [ChecksumDto] })
  checksums!: ChecksumDto[];

  @ApiPropertyOptional({ type: [AccessMethodDto], description: 'Always present for blobs' })
  access_methods?: AccessMethodDto[];

  @ApiPropertyOptional({ type: [ContentsObjectDto], description: 'Present only for bundles' })
  contents?: ContentsObjectDto[];

  @ApiPropertyOptional()
  description?: string;

  @ApiPropertyOptional({ type: [String] })
  aliases?: string[];
}

export class DrsErrorDto {
  @ApiProperty({ example: 'No object with id "sys0abc"' })
  msg!: string;

  @ApiProperty({ example: 404 })
  status_code!: number;
}

export class ServiceTypeDto {
  @ApiProperty({ example: 'org.ga4gh' })
  group!: string;

  @ApiProperty({ example: 'drs' })
  artifact!: string;

  @ApiProperty({ example: '1.5.0' })
  version!: string;
}

export class OrganizationDto {
  @ApiProperty()
  name!: string;

  @ApiProperty({ format: 'uri' })
  url!: string;
}

export class DrsServiceStatsDto {
  @ApiProperty({ type: 'integer' })
  maxBulkRequestLength!: number;

  @ApiPropertyOptional({ type: 'integer', description: 'Objects (blobs and bundles) in the registry' })
  objectCount?: number;

  @ApiPropertyOptional({
    type: 'integer',
    format: 'int64',
    description: 'Bytes of all blobs (bundles excluded)',
  })
  totalObjectSize?: number;
}

export class ServiceInfoDto {
  @ApiProperty({ example: 'org.example.drs' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ type: ServiceTypeDto })
  type!: ServiceTypeDto;

  @ApiPropertyOptional()
  description?: string;

  @ApiProperty({ type: OrganizationDto })
  organization!: OrganizationDto;

  @ApiPropertyOptional()
  contactUrl?: string;

  @ApiPropertyOptional()
  documentationUrl?: string;

  @ApiPropertyOptional({ example: 'prod' })
  environment?: string;

  @ApiProperty({ description: 'The version of this hub, not of the DRS specification' })
  version!: string;

  @ApiPropertyOptional({ type: 'integer', description: 'DRS 1.4+ (deprecated in 1.5 in favour of drs)' })
  maxBulkRequestLength?: number;

  @ApiPropertyOptional({ type: DrsServiceStatsDto, description: 'DRS 1.5 only' })
  drs?: DrsServiceStatsDto;
}

export class DrsObjectRequestDto {
  @ApiPropertyOptional({ description: 'Expand nested bundles (true/false; "True" and 1 are read as true)' })
  @IsOptional()
  @Transform(toExpand)
  @IsIn([true, false], { message: 'expand must be true or false' })
  expand?: boolean;

  @ApiPropertyOptional({ type: [String], description: PASSPORTS_DESCRIPTION })
  @IsOptional()
  @IsArray({ message: 'passports must be an array of strings' })
  @IsString({ each: true, message: 'passports must be an array of strings' })
  @MaxLength(100_000, { each: true })
  passports?: string[];
}

export class AccessRequestDto {
  @ApiPropertyOptional({ type: [String], description: PASSPORTS_DESCRIPTION })
  @IsOptional()
  @IsArray({ message: 'passports must be an array of strings' })
  @IsString({ each: true, message: 'passports must be an array of strings' })
  @MaxLength(100_000, { each: true })
  passports?: string[];
}

export class BulkObjectsRequestDto {
  @ApiProperty({ type: [String], description: 'At most maxBulkRequestLength ids (see service-info)' })
  @IsArray({ message: 'bulk_object_ids must be an array of object ids' })
  @ArrayMinSize(1, { message: 'bulk_object_ids must list at least one id' })
  @IsString({ each: true, message: 'bulk_object_ids must be an array of object ids' })
  @MaxLength(1024, { each: true, message: 'each object id is at most 1024 characters' })
  bulk_object_ids!: string[];

  @ApiPropertyOptional({ type: [String], description: PASSPORTS_DESCRIPTION })
  @IsOptional()
  @IsArray({ message: 'passports must be an array of strings' })
  @IsString({ each: true, message: 'passports must be an array of strings' })
  @MaxLength(100_000, { each: true })
  passports?: string[];
}

export class BulkOptionsRequestDto {
  @ApiProperty({ type: [String] })
  @IsArray({ message: 'bulk_object_ids must be an array of object ids' })
  @ArrayMinSize(1, { message: 'bulk_object_ids must list at least one id' })
  @IsString({ each: true, message: 'bulk_object_ids must be an array of object ids' })
  @MaxLength(1024, { each: true, message: 'each object id is at most 1024 characters' })
  bulk_object_ids!: string[];
}

export class BulkObjectAccessIdDto {
  @ApiProperty()
  @IsString({ message: 'bulk_object_id must be a string' })
  @MaxLength(1024)
  bulk_object_id!: string;

  @ApiProperty({ type: [String] })
  @IsArray({ message: 'bulk_access_ids must be an array of access ids' })
  @ArrayMinSize(1, { message: 'bulk_access_ids must list at least one access id' })
  @IsString({ each: true, message: 'bulk_access_ids must be an array of access ids' })
  @MaxLength(1024, { each: true })
  bulk_access_ids!: string[];
}

export class BulkAccessRequestDto {
  @ApiProperty({ type: [BulkObjectAccessIdDto] })
  @IsArray({ message: 'bulk_object_access_ids must be an array' })
  @ArrayMinSize(1, { message: 'bulk_object_access_ids must list at least one object' })
  @ValidateNested({ each: true })
  @Type(() => BulkObjectAccessIdDto)
  bulk_object_access_ids!: BulkObjectAccessIdDto[];

  @ApiPropertyOptional({ type: [String], description: PASSPORTS_DESCRIPTION })
  @IsOptional()
  @IsArray({ message: 'passports must be an array of strings' })
  @IsString({ each: true, message: 'passports must be an array of strings' })
  @MaxLength(100_000, { each: true })
  passports?: string[];
}

export class BulkSummaryDto {
  @ApiProperty({ type: 'integer' })
  requested!: number;

  @ApiProperty({ type: 'integer' })
  resolved!: number;

  @ApiProperty({ type: 'integer' })
  unresolved!: number;
}

export class UnresolvedGroupDto {
  @ApiProperty({ type: 'integer', example: 404 })
  error_code!: number;

  @ApiProperty({ type: [String] })
  object_ids!: string[];
}

export class BulkObjectsResponseDto {
  @ApiProperty({ type: BulkSummaryDto })
  summary!: BulkSummaryDto;

  @ApiProperty({ type: [UnresolvedGroupDto] })
  unresolved_drs_objects!: UnresolvedGroupDto[];

  @ApiProperty({ type: [DrsObjectDto] })
  resolved_drs_object!: DrsObjectDto[];
}

export class BulkAuthorizationsResponseDto {
  @ApiProperty({ type: BulkSummaryDto })
  summary!: BulkSummaryDto;

  @ApiProperty({ type: [UnresolvedGroupDto] })
  unresolved_drs_objects!: UnresolvedGroupDto[];

  @ApiProperty({ type: [AuthorizationsDto] })
  resolved_drs_object!: AuthorizationsDto[];
}

export class BulkAccessUrlDto {
  @ApiProperty()
  drs_object_id!: string;

  @ApiProperty()
  drs_access_id!: string;

  @ApiProperty()
  url!: string;

  @ApiPropertyOptional({ type: [String] })
  headers?: string[];
}

export class BulkAccessResponseDto {
  @ApiProperty({ type: BulkSummaryDto })
  summary!: BulkSummaryDto;

  @ApiProperty({ type: [UnresolvedGroupDto] })
  unresolved_drs_objects!: UnresolvedGroupDto[];

  @ApiProperty({ type: [BulkAccessUrlDto] })
  resolved_drs_object_access_urls!: BulkAccessUrlDto[];
}
