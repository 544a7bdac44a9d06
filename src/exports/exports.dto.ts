import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';

import { DRS_ID_PATTERN } from '../drs/object.model.js';

export class ExportRunAcceptedDto {
  @ApiProperty({
    description: 'The orchestrator run doing the work; follow it with GET /orchestrator/runs/{run_id}',
    format: 'uuid',
  })
  run_id!: string;
}

export class ImportRequestDto {
  @ApiProperty({
    description:
      'The DRS id of a metadata export: a bundle of <collection>.jsonl.gz blobs (as GET /metadata/exports lists), or one such blob',
    example: 'sys0ab12cd3456',
  })
  @IsString({ message: 'object_id must be a string' })
  @MaxLength(256, { message: 'object_id must be at most 256 characters' })
  @Matches(DRS_ID_PATTERN, { message: 'object_id must be a DRS object id (letters, digits and ._~-)' })
  object_id!: string;
}
