import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class CapabilityDto {
  @ApiProperty()
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiPropertyOptional()
  description?: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

// Object types live in the DRS registry; workflows only point at them, so they share the DRS shape.
export { ObjectTypeDto } from '../drs/objects.dto.js';

export class WorkflowDto {
  @ApiProperty({ example: 'apply-changesheet-1.0.0' })
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiPropertyOptional()
  description?: string;

  @ApiProperty({
    type: [String],
    description: 'A site needs every one of these to claim jobs of this workflow',
  })
  capability_ids!: string[];

  @ApiProperty({ description: 'Seconds a claim holds before it expires unless the site reports progress' })
  lease_seconds!: number;

  @ApiProperty({ description: 'Whether several sites may hold open claims on one job at once' })
  parallel_claims!: boolean;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}

export class TriggerDto {
  @ApiProperty({ example: 'metadata-changesheet--apply-changesheet-1.0.0' })
  id!: string;

  @ApiProperty()
  object_type_id!: string;

  @ApiProperty()
  workflow_id!: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;
}
