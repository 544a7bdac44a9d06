import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

import { SITE_ID_PATTERN } from '../config/app-config.js';

const CAPABILITY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

const CAPABILITY_LIST_DESCRIPTION =
  'Held at once when an admin (or a holder of the sites:admin allowance) sends it; from anyone else, ' +
  'recorded as requested_capability_ids until approved. Hub-internal capabilities (metadata-ingest) are ' +
  "refused on every site but the hub's own.";

export class SiteCreateDto {
  @ApiProperty({ example: 'nersc', pattern: SITE_ID_PATTERN.source })
  @Matches(SITE_ID_PATTERN, {
    message: 'id must be 1-64 letters, digits or ._- and start with a letter or digit',
  })
  id!: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['metagenome-assembly'],
    description: CAPABILITY_LIST_DESCRIPTION,
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @Matches(CAPABILITY_PATTERN, {
    each: true,
    message: 'each capability id must be 1-128 letters, digits or ._:-',
  })
  capability_ids?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class SiteUpdateDto {
  @ApiPropertyOptional({
    type: [String],
    description: `The capabilities the site should have. ${CAPABILITY_LIST_DESCRIPTION} Dropping a granted one takes effect at once.`,
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @Matches(CAPABILITY_PATTERN, {
    each: true,
    message: 'each capability id must be 1-128 letters, digits or ._:-',
  })
  capability_ids?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;
}

export class SiteDto {
  @ApiProperty()
  id!: string;

  @ApiProperty({
    type: [String],
    description: 'Granted capabilities: only these make jobs visible and claimable to the site',
  })
  capability_ids!: string[];

  @ApiProperty({
    type: [String],
    description: "Capabilities the site's admins asked for, waiting for an admin's approval",
  })
  requested_capability_ids!: string[];

  @ApiPropertyOptional()
  description?: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ format: 'date-time' })
  updated_at!: string;
}

export class SitePageDto {
  @ApiProperty({ type: [SiteDto] })
  resources!: SiteDto[];

  @ApiPropertyOptional()
  next_page_token?: string;
}

export class SiteCredentialsDto {
  @ApiProperty({ description: 'Use as client_id with grant_type=client_credentials' })
  client_id!: string;

  @ApiProperty({ description: 'Shown once: only a hash is stored' })
  client_secret!: string;
}

export class CapabilityDecisionDto {
  @ApiPropertyOptional({
    type: [String],
    description: 'The capabilities to approve or deny; all of the requested ones when omitted',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @Matches(CAPABILITY_PATTERN, {
    each: true,
    message: 'each capability id must be 1-128 letters, digits or ._:-',
  })
  capability_ids?: string[];
}
