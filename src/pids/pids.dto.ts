import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

import { PID_STATUSES, type PidStatus } from './pids.repository.js';
import { IsStorableJson } from '../common/http/storable-json.js';

export const MAX_MINT = 1000;

export class SchemaClassRefDto {
  @ApiProperty({ description: 'A schema class by type URI or name', example: 'nmdc:Biosample' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  id!: string;
}

export class MintRequestDto {
  @ApiProperty({ type: SchemaClassRefDto })
  @IsObject({ message: 'schema_class must be an object such as {"id": "nmdc:Biosample"}' })
  @ValidateNested()
  @Type(() => SchemaClassRefDto)
  schema_class!: SchemaClassRefDto;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_MINT, default: 1 })
  @IsOptional()
  @IsInt({ message: 'how_many must be an integer' })
  @Min(1, { message: 'how_many must be at least 1' })
  @Max(MAX_MINT, { message: `how_many must be at most ${MAX_MINT}` })
  how_many?: number;
}

export class PidRefDto {
  @ApiProperty({ example: 'nmdc:bsm-11-0pyv7738' })
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  id_name!: string;
}

export class BindRequestDto extends PidRefDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'The metadata record the id stands for (kept with the id while it is a draft)',
  })
  @IsObject({ message: 'metadata_record must be a JSON object' })
  @IsStorableJson()
  metadata_record!: Record<string, unknown>;
}

export class IdentifierDto {
  @ApiProperty({ example: 'nmdc:bsm-11-0pyv7738' })
  id!: string;

  @ApiProperty({ example: 'nmdc:Biosample' })
  schema_class!: string;

  @ApiProperty({ example: 'bsm' })
  typecode!: string;

  @ApiProperty({ example: '11' })
  shoulder!: string;

  @ApiProperty({ enum: PID_STATUSES })
  status!: PidStatus;

  @ApiProperty({ description: 'The site that minted the id' })
  minted_by!: string;

  @ApiProperty({ format: 'date-time' })
  minted_at!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  bindings?: Record<string, unknown>;
}
