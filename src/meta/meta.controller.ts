import { Controller, Get, Header, Inject } from '@nestjs/common';
import {
  ApiExcludeEndpoint,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { Public } from '../common/http/public.decorator.js';

/** The hub's front door: where its people (the console) and its programs (the API description) start. */
const HOME_PAGE = `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Runtime Hub</title>
  </head>
  <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.6">
    <main>
      <h1>Runtime Hub</h1>
      <ul>
        <li><a href="/console">Console</a>: runs, jobs, sensors and schedules, changesheets, site jobs and objects</li>
        <li><a href="/redoc">API reference</a> (Redoc)</li>
        <li><a href="/docs">Try the API</a> (Swagger UI)</li>
        <li><a href="/openapi.json">OpenAPI description</a></li>
      </ul>
    </main>
  </body>
</html>
`;

export class VersionDto {
  @ApiProperty({ example: 'runtime-hub' })
  name!: string;

  @ApiProperty({ example: '0.1.0' })
  version!: string;

  @ApiPropertyOptional({ description: 'The commit the running build was made from, when known' })
  commit?: string;
}

@ApiTags('Operations')
@Controller()
export class MetaController {
  private readonly versionInfo: VersionDto;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.versionInfo = Object.freeze({ ...config.service });
  }

  @Get('version')
  @Public()
  @ApiOperation({ operationId: 'getVersion', summary: 'The name and version of this hub' })
  @ApiOkResponse({ type: VersionDto })
  getVersion(): VersionDto {
    return this.versionInfo;
  }

  @Get()
  @Public()
  @Header('content-type', 'text/html; charset=utf-8')
  @ApiExcludeEndpoint()
  root(): string {
    return HOME_PAGE;
  }
}
