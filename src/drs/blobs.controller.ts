import { Readable } from 'node:stream';

import { Controller, Get, Headers, Param, Put, Query, Req, Res, StreamableFile } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { Public } from '../auth/decorators.js';
import { parseByteRange } from '../common/http/byte-range.js';
import { RangeNotSatisfiableError } from '../common/errors/domain-errors.js';
import { BlobsService } from './blobs.service.js';
import { ObjectRecordDto } from './objects.dto.js';
import { ObjectReadsService } from './object-reads.service.js';

@ApiTags('Objects')
@Public()
@Controller('blobs')
export class BlobsController {
  constructor(
    private readonly blobs: BlobsService,
    private readonly objects: ObjectReadsService,
  ) {}

  @Put(':object_id')
  @ApiOperation({
    operationId: 'uploadBlobBySignedUrl',
    summary: 'Store the bytes of a new object through a signed upload URL from POST /sites/{id}:putObject',
    description:
      'The body is the bytes, with `Content-Type: application/octet-stream`. The object is registered under the id in the URL, managed by the signed site, with the signed name and mime type; a URL stores bytes once (then 409).',
  })
  @ApiQuery({ name: 'site', description: 'The site the object is registered for' })
  @ApiQuery({ name: 'exp', description: 'Expiry, in seconds since the epoch' })
  @ApiQuery({ name: 'sig', description: 'HMAC-SHA256 signature of the upload' })
  @ApiOkResponse({ type: ObjectRecordDto })
  @ApiForbiddenResponse({ description: 'A missing, altered or expired signature' })
  @ApiConflictResponse({ description: 'The object exists already, or the same bytes are registered' })
  async uploadBlob(
    @Param('object_id') objectId: string,
    @Query('site') site: string | undefined,
    @Query('name') name: string | undefined,
    @Query('mime_type') mimeType: string | undefined,
    @Query('exp') exp: string | undefined,
    @Query('sig') sig: string | undefined,
    @Req() request: FastifyRequest,
  ): Promise<ObjectRecordDto> {
    const upload = {
      objectId,
      site: site ?? '',
      ...(name !== undefined ? { name } : {}),
      ...(mimeType !== undefined ? { mimeType } : {}),
    };
    return this.objects.toRecord(await this.blobs.storeSigned(upload, exp, sig, request.body));
  }

  @Get(':object_id')
  @ApiOperation({
    operationId: 'downloadBlob',
    summary: 'The bytes of a blob, through a signed URL from GET /ga4gh/drs/v1/objects/{id}/access/https',
    description:
      'Supports HEAD, single byte ranges (`Range: bytes=0-99` answers 206) and conditional requests (`If-None-Match`, `If-Range` with the ETag, which is the quoted sha-256).',
  })
  @ApiQuery({ name: 'exp', description: 'Expiry, in seconds since the epoch' })
  @ApiQuery({ name: 'sig', description: 'HMAC-SHA256 signature of the object id and expiry' })
  @ApiHeader({ name: 'Range', required: false, description: 'One byte range, e.g. bytes=0-1023' })
  @ApiProduces('application/octet-stream')
  @ApiOkResponse({ description: 'The whole blob', schema: { type: 'string', format: 'binary' } })
  @ApiResponse({
    status: 206,
    description: 'The requested byte range',
    schema: { type: 'string', format: 'binary' },
  })
  @ApiResponse({ status: 304, description: 'Unchanged since the ETag the client holds' })
  @ApiResponse({ status: 416, description: 'The range starts past the end' })
  @ApiForbiddenResponse({ description: 'A missing, altered or expired signature' })
  @ApiNotFoundResponse({ description: 'The object is gone or has no bytes here' })
  async downloadBlob(
    @Param('object_id') objectId: string,
    @Query('exp') exp: string | undefined,
    @Query('sig') sig: string | undefined,
    @Headers('range') rangeHeader: string | undefined,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Headers('if-range') ifRange: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StreamableFile | undefined> {
    const blob = await this.blobs.openSigned(objectId, exp, sig);
    const etag = `"${blob.sha256}"`;
    void reply.header('etag', etag).header('accept-ranges', 'bytes').header('cache-control', 'private');
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((tag) => [etag, '*'].includes(tag.trim()))) {
      void reply.status(304);
      return undefined;
    }
    const disposition = blob.name ? `attachment; filename="${blob.name}"` : 'attachment';
    const range =
      ifRange === undefined || ifRange === etag ? parseByteRange(rangeHeader, blob.size) : undefined;
    if (range?.kind === 'unsatisfiable') {
      throw new RangeNotSatisfiableError(
        `The range "${rangeHeader}" starts past the end of ${blob.size} bytes`,
        { size: blob.size },
      );
    }
    const partial = range?.kind === 'partial' ? range : undefined;
    const length = partial ? partial.end - partial.start + 1 : blob.size;
    if (partial) {
      void reply.status(206).header('content-range', `bytes ${partial.start}-${partial.end}/${blob.size}`);
    }
    // HEAD answers from the store's metadata; GET asks the store once and streams its answer.
    const stream =
      reply.request.method === 'HEAD'
        ? await this.blobs.assertStored(blob).then(() => Readable.from([]))
        : await this.blobs.open(blob, partial);
    return new StreamableFile(stream, { type: blob.mimeType, disposition, length });
  }
}
