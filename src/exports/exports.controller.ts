import { Body, Controller, Get, HttpCode, Post, Query, Redirect } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';

import { Authenticated, CurrentPrincipal, Public, RequireAllowance } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { ListRequestDto, type Page } from '../common/pagination/list-request.dto.js';
import { ObjectPageDto, type ObjectRecordDto } from '../drs/objects.dto.js';
import { ExportRunsService } from './export-runs.service.js';
import { ExportRunAcceptedDto, ImportRequestDto } from './exports.dto.js';
import { ExportsService } from './exports.service.js';

@ApiTags('Metadata exports')
@Controller('metadata')
export class ExportsController {
  constructor(
    private readonly exports: ExportsService,
    private readonly runs: ExportRunsService,
  ) {}

  @Post('exports')
  @Authenticated()
  @RequireAllowance('exports:run')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'runMetadataExport',
    summary: 'Export every metadata collection now, as DRS blobs gathered in one bundle',
    description:
      'Launches the `export_metadata` job: each collection is streamed to `<collection>.jsonl.gz` (one JSON document per line, in id order, gzipped), registered as a DRS blob typed `metadata-export`, and all of them as one bundle named `metadata-export-<time>`. Collections unchanged since an earlier export reuse its blob. The daily schedule `daily_export_metadata` does the same.',
  })
  @ApiAcceptedResponse({ type: ExportRunAcceptedDto })
  runMetadataExport(@CurrentPrincipal() principal: Principal): Promise<ExportRunAcceptedDto> {
    return this.runs.requestExport(principal);
  }

  @Get('exports')
  @Public()
  @ApiOperation({
    operationId: 'listMetadataExports',
    summary: 'Export bundles, newest first',
    description:
      'Each resource is a DRS bundle whose contents are the `<collection>.jsonl.gz` blobs; resolve it with `GET /ga4gh/drs/v1/objects/{id}?expand=true`.',
  })
  @ApiOkResponse({ type: ObjectPageDto })
  @ApiBadRequestResponse({ description: 'Invalid filter, projection, page size or page token' })
  listMetadataExports(
    @Query() query: ListRequestDto,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<Page<Partial<ObjectRecordDto>>> {
    return this.exports.listBundles(query, principal);
  }

  @Get('exports/latest')
  @Public()
  @Redirect(undefined, 303)
  @ApiOperation({
    operationId: 'getLatestMetadataExport',
    summary: "Redirect to the newest export bundle's DRS object",
  })
  @ApiResponse({ status: 303, description: 'Location: the DRS object URL of the newest export bundle' })
  @ApiNotFoundResponse({ description: 'Nothing has been exported yet' })
  async getLatestMetadataExport(
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<{ url: string; statusCode: number }> {
    return { url: await this.exports.latestBundleUrl(principal), statusCode: 303 };
  }

  @Post('imports')
  @Authenticated()
  @RequireAllowance('exports:run')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'runMetadataImport',
    summary: 'Load a metadata export back into the collections',
    description:
      "Checks that `object_id` is an export (a bundle of `<collection>.jsonl.gz` blobs, or one of them), then launches the `import_metadata` job, which validates every document against the schema and upserts the valid ones by id. The run's output counts inserted, updated and invalid documents, with the first problems.",
  })
  @ApiAcceptedResponse({ type: ExportRunAcceptedDto })
  @ApiBadRequestResponse({ description: 'Not a DRS id, or the object is not a metadata export' })
  @ApiNotFoundResponse({ description: 'No object (or bundle member) with that id' })
  runMetadataImport(
    @Body() body: ImportRequestDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ExportRunAcceptedDto> {
    return this.runs.requestImport(body.object_id, principal);
  }
}
