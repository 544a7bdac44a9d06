import { Controller, Get, Inject, Redirect } from '@nestjs/common';
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
  @Redirect('/redoc', 302)
  @ApiExcludeEndpoint()
  root(): void {}
}
