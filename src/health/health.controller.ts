import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import { Public } from '../common/http/public.decorator.js';
import { DrainState } from './drain-state.js';
import { HealthReportDto, ReadinessDto } from './health.dto.js';
import { HealthService, type HealthReport } from './health.service.js';

@ApiTags('Operations')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthService,
    private readonly drain: DrainState,
  ) {}

  @Get('health/ready')
  @Public()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'Whether a load balancer should send this process new requests',
    description:
      'Answers 503 from the moment the process gets SIGTERM: it keeps serving requests that still arrive for SHUTDOWN_DRAIN_MS, then finishes those in flight and exits. Cheap enough to poll every second; GET /health checks the dependencies.',
  })
  @ApiOkResponse({ type: ReadinessDto, description: 'Ready for requests' })
  @ApiServiceUnavailableResponse({ type: ReadinessDto, description: 'Draining before shutdown' })
  getReadiness(@Res({ passthrough: true }) reply: FastifyReply): ReadinessDto {
    if (this.drain.draining) {
      void reply.status(503);
      return { status: 'draining' };
    }
    return { status: 'ready' };
  }

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
