import type {} from '@fastify/multipart';
import { Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

import { Authenticated, CurrentPrincipal, RequireAllowance } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { BadRequestError } from '../common/errors/domain-errors.js';
import { customMethodPath } from '../common/http/routes.js';
import {
  ChangesheetPageDto,
  ChangesheetStatusDto,
  ChangesheetSubmittedDto,
  ChangesheetValidDto,
  ListChangesheetsQueryDto,
} from './changesheets.dto.js';
import { ChangesheetIntake, type SheetUpload } from './changesheet-intake.service.js';
import { ChangesheetStatusView } from './changesheet-status.service.js';
import { ChangesheetWriter } from './changesheet-writer.service.js';

/** The multipart field a sheet is sent in, as the reference runtime names it. */
const FILE_FIELD = 'uploaded_file';

const SHEET_BODY = {
  description: `The sheet: multipart/form-data with the file in \`${FILE_FIELD}\` (curl -F ${FILE_FIELD}=@sheet.tsv), or the raw sheet as the body with content type text/tab-separated-values or text/csv. Columns id, action, attribute and value.`,
  schema: {
    type: 'object',
    properties: { [FILE_FIELD]: { type: 'string', format: 'binary' } },
    required: [FILE_FIELD],
  },
} as const;

const SHEET_CONTENT_TYPES = ['multipart/form-data', 'text/tab-separated-values', 'text/csv'];

/** Reads the sheet from a multipart form or a text body, whichever the caller sent. */
async function sheetOf(request: FastifyRequest, maxBytes: number): Promise<SheetUpload> {
  if (request.isMultipart()) {
    let upload: SheetUpload | undefined;
    // One byte over the limit, so the service refuses an oversized sheet with its own message.
    for await (const part of request.parts({ limits: { fileSize: maxBytes + 1, files: 4, fields: 16 } })) {
      if (part.type === 'file') {
        const bytes = await part.toBuffer();
        if (part.fieldname === FILE_FIELD && !upload) {
          upload = { bytes, filename: part.filename };
        }
      }
    }
    if (!upload) {
      throw new BadRequestError(
        `Send the sheet as the file part "${FILE_FIELD}" (curl -F ${FILE_FIELD}=@sheet.tsv …)`,
        { errors: [{ path: FILE_FIELD, message: 'missing' }], code: 'changesheet_missing' },
      );
    }
    return upload;
  }
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const body = request.body;
  if (
    !['text/tab-separated-values', 'text/csv', 'text/plain'].includes(type) ||
    (typeof body !== 'string' && !Buffer.isBuffer(body))
  ) {
    throw new BadRequestError(
      `Send the sheet as multipart/form-data (file part "${FILE_FIELD}") or as a text/tab-separated-values or text/csv body; got ${type || 'no content type'}`,
      { errors: [{ path: 'content-type', message: 'unsupported' }], code: 'changesheet_missing' },
    );
  }
  return {
    bytes: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
    ...(type === 'text/csv' ? { format: 'csv' as const } : {}),
    ...(type === 'text/tab-separated-values' ? { format: 'tsv' as const } : {}),
  };
}

@ApiTags('Changesheets')
@Controller('metadata')
export class ChangesheetsController {
  constructor(
    private readonly intake: ChangesheetIntake,
    private readonly statusView: ChangesheetStatusView,
    private readonly writer: ChangesheetWriter,
  ) {}

  @Post('changesheets::validate')
  @Authenticated()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'validateChangesheet',
    summary: 'Dry-run a changesheet against the current documents',
    description:
      'Plans every row on copies of the documents it targets and checks each result against the schema; nothing is stored. Answers each changed document before and after, with the RFC 6902 patch between them.',
  })
  @ApiConsumes(...SHEET_CONTENT_TYPES)
  @ApiBody(SHEET_BODY)
  @ApiOkResponse({ type: ChangesheetValidDto })
  @ApiBadRequestResponse({
    description:
      'Not a readable sheet: empty, no header with the four columns, not UTF-8 text, an unclosed quote, too large',
  })
  @ApiUnprocessableEntityResponse({
    description:
      'Invalid rows: problem+json with `valid: false` and `errors` [{row, id, path, message}] listing every problem (unknown action or slot, a value of the wrong type, an unknown id, a result the schema refuses)',
  })
  async validateChangesheet(@Req() request: FastifyRequest): Promise<ChangesheetValidDto> {
    return this.intake.validate(await sheetOf(request, this.intake.maxBytes));
  }

  @Post('changesheets::submit')
  @Authenticated()
  @RequireAllowance('changesheets:submit')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'submitChangesheet',
    summary: 'Submit a changesheet: validated now, applied by the orchestrator',
    description:
      'Validates as changesheets:validate does, stores the sheet as a DRS blob typed `metadata-changesheet` and remembers the documents as they are now. The trigger sensor creates its `apply-changesheet-1.0.0` job, which the hub claims as its own site (sensor `claim_and_run_apply_changesheet_jobs`); job `apply_changesheet` applies it only if none of those documents changed in between. Follow `status_url`.',
  })
  @ApiConsumes(...SHEET_CONTENT_TYPES)
  @ApiBody(SHEET_BODY)
  @ApiAcceptedResponse({ type: ChangesheetSubmittedDto })
  @ApiBadRequestResponse({ description: 'Not a readable sheet' })
  @ApiConflictResponse({
    description:
      'The same sheet was applied or reverted before (`changesheet_already_submitted`), or its failed attempt is still being reported (`changesheet_busy`); a failed sheet sent again starts over',
  })
  @ApiUnprocessableEntityResponse({ description: 'Invalid rows, as for changesheets:validate' })
  async submitChangesheet(
    @Req() request: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ChangesheetSubmittedDto> {
    return this.intake.submit(await sheetOf(request, this.intake.maxBytes), principal);
  }

  @Get('changesheets')
  @Authenticated()
  @ApiOperation({
    operationId: 'listChangesheets',
    summary: 'Submitted changesheets, newest first, optionally in one status',
  })
  @ApiOkResponse({ type: ChangesheetPageDto })
  @ApiBadRequestResponse({
    description: 'An unknown status, a bad page size or a page token of another query',
  })
  listChangesheets(@Query() query: ListChangesheetsQueryDto): Promise<ChangesheetPageDto> {
    return this.statusView.list(query);
  }

  @Get('changesheets/:object_id')
  @Authenticated()
  @ApiOperation({
    operationId: 'getChangesheetStatus',
    summary: 'Where a submitted changesheet stands: pending, applied, failed or reverted',
    description:
      'With its job, the operation of the hub’s claim, the apply_changesheet run and the planned changes.',
  })
  @ApiOkResponse({ type: ChangesheetStatusDto })
  @ApiNotFoundResponse({ description: 'No changesheet has this object id' })
  getChangesheetStatus(@Param('object_id') objectId: string): Promise<ChangesheetStatusDto> {
    return this.statusView.status(objectId);
  }

  @Post(`changesheets/${customMethodPath('object_id', 'revert')}`)
  @Authenticated()
  @RequireAllowance('changesheets:submit')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'revertChangesheet',
    summary: 'Undo an applied changesheet from its transaction log',
    description:
      'Writes back every document as it was before the sheet, newest change first, provided each still is as the sheet left it; otherwise nothing is written and 409 names the documents changed since.',
  })
  @ApiOkResponse({ type: ChangesheetStatusDto })
  @ApiNotFoundResponse({ description: 'No changesheet has this object id' })
  @ApiConflictResponse({ description: 'Not applied, or documents changed since it was applied (`ids`)' })
  revertChangesheet(
    @Param('object_id') objectId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ChangesheetStatusDto> {
    return this.writer.revert(objectId, principal);
  }
}
