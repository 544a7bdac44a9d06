import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';

export class CollectionInfoDto {
  @ApiProperty({ example: 'biosample_set' })
  name!: string;

  @ApiPropertyOptional()
  description?: string;

  @ApiProperty({ description: 'Number of documents', example: 1200 })
  count!: number;

  @ApiProperty({
    type: [String],
    description: 'Type URIs of the classes it holds',
    example: ['nmdc:Biosample'],
  })
  classes!: string[];

  @ApiProperty({ description: 'Typecodes of the ids it holds', type: [String], example: ['bsm'] })
  typecodes!: string[];
}

export class CollectionListDto {
  @ApiProperty({ description: 'Title and version of the metadata schema in use', example: 'nmdc-lite 1.0.0' })
  schema!: string;

  @ApiProperty({ type: [CollectionInfoDto] })
  resources!: CollectionInfoDto[];
}

export class MetadataPageDto {
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } })
  resources!: Record<string, unknown>[];

  @ApiPropertyOptional({
    description: 'Pass as page_token, with the same filter and projection, for the next page',
  })
  next_page_token?: string;
}

export class ProjectionQueryDto {
  @ApiPropertyOptional({
    description: 'Comma-separated fields to return (id is always returned)',
    example: 'id,name',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_.@]+(,[A-Za-z0-9_.@]+)*$/, {
    message: 'projection must be a comma-separated list of field names',
  })
  projection?: string;
}

export class ValidationResultDto {
  @ApiProperty({ example: true })
  valid!: boolean;

  @ApiProperty({ description: 'Documents checked, per collection', example: { biosample_set: 2 } })
  counts!: Record<string, number>;
}

export class SubmissionAcceptedDto {
  @ApiProperty({
    description: 'The DRS object holding the submission (typed metadata-in)',
    example: 'sys0ab12cd3456',
  })
  object_id!: string;

  @ApiProperty({
    description:
      'The metadata-in-1.0.0 job that applies it; its operation (GET /operations) carries the result',
    example: 'sys0ef78gh9012',
  })
  job_id!: string;

  @ApiProperty({ description: 'Documents accepted, per collection', example: { biosample_set: 2 } })
  counts!: Record<string, number>;
}
