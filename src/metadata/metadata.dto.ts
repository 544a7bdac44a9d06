import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, Matches } from 'class-validator';

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

export class ValidationProblemDto {
  @ApiProperty({ description: 'JSON pointer into the payload', example: '/biosample_set/3/env_medium' })
  path!: string;

  @ApiProperty({ example: "must have required property 'env_medium'" })
  message!: string;
}

export class ValidationResultDto {
  @ApiProperty({ example: true })
  valid!: boolean;

  @ApiProperty({
    enum: ['All Okay!', 'errors'],
    description: "NMDC's verdict, which NMDC's clients test for (`All Okay!` exactly when `valid`)",
  })
  result!: 'All Okay!' | 'errors';

  @ApiProperty({ description: 'Documents checked, per collection', example: { biosample_set: 2 } })
  counts!: Record<string, number>;

  @ApiPropertyOptional({
    description: "Invalid only: NMDC's `detail`, the problems' messages per collection",
    example: { biosample_set: ["/biosample_set/3/env_medium: must have required property 'env_medium'"] },
  })
  detail?: Record<string, string[]>;

  @ApiPropertyOptional({
    type: [ValidationProblemDto],
    description: 'Invalid only: the problems, as a refused submission lists them (at most 1,000)',
  })
  errors?: ValidationProblemDto[];

  @ApiPropertyOptional({ description: 'Invalid only: how many problems were found in all', example: 1 })
  problem_count?: number;
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

  @ApiProperty({ enum: ['success'], description: "NMDC's answer shape: the submission was accepted" })
  type!: 'success';

  @ApiProperty({
    description:
      "NMDC's answer shape: `run_id` is the job's id, and `GET /runs/{run_id}` reports its progress as NMDC's RunSummary",
    example: { run_id: 'sys0ef78gh9012' },
  })
  detail!: { run_id: string };
}

export class ValidateQueryDto {
  @ApiPropertyOptional({
    description:
      'false checks the schema and ids only, not that referenced documents exist (for payloads that refer to documents stored elsewhere)',
    default: true,
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'false' ? false : value === 'true' ? true : value))
  @IsBoolean({ message: 'check_references must be true or false' })
  check_references?: boolean;
}
