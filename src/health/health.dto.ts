import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class DependencyCheckDto {
  @ApiProperty({ enum: ['up', 'down'] })
  status!: 'up' | 'down';

  @ApiProperty({ description: 'How long the probe took, in milliseconds' })
  latency_ms!: number;

  @ApiPropertyOptional({ description: 'Why the dependency is considered down' })
  error?: string;
}

export class HealthChecksDto {
  @ApiProperty({ type: DependencyCheckDto })
  mongo!: DependencyCheckDto;

  @ApiProperty({ type: DependencyCheckDto })
  postgres!: DependencyCheckDto;

  @ApiProperty({ type: DependencyCheckDto })
  redis!: DependencyCheckDto;
}

export class HealthReportDto {
  @ApiProperty({ enum: ['ok', 'error'] })
  status!: 'ok' | 'error';

  @ApiProperty({ type: HealthChecksDto })
  checks!: HealthChecksDto;

  @ApiPropertyOptional({
    description: 'The dependencies that are down',
    enum: ['mongo', 'postgres', 'redis'],
    isArray: true,
  })
  failing?: string[];
}

export class ReadinessDto {
  @ApiProperty({ enum: ['ready', 'draining'] })
  status!: 'ready' | 'draining';
}
