import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import { Public } from '../common/http/public.decorator.js';
import { HealthReportDto } from './health.dto.js';
import { HealthService, type HealthReport } from './health.service.js';

@ApiTags('Operations')
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('health')
  @Public()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'getHealth',
    summary: 'Liveness and readiness of the hub and its dependencies',
  })
  @ApiOkResponse({ type: HealthReportDto, description: 'MongoDB, PostgreSQL and Redis all answer' })
  @ApiServiceUnavailableResponse({
    type: HealthReportDto,
    description: 'At least one dependency is down; `failing` names it',
  })
  async getHealth(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthReport> {
    const report = await this.health.check();
    void reply.status(report.status === 'ok' ? 200 : 503);
    return report;
  }
}
