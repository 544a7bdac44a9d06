// For its FastifyRequest augmentation (`isMultipart()`, `parts()`); the adapter registers the plugin.
import type {} from '@fastify/multipart';
import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

import {
  Authenticated,
  CurrentPrincipal,
  Public,
  RequireAllowance,
  RequireSiteOrAllowance,
} from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { BadRequestError } from '../common/errors/domain-errors.js';
import { FilterQueryDto } from '../common/pagination/filter-query.dto.js';
import { ListRequestDto, type Page } from '../common/pagination/list-request.dto.js';
import {
  ObjectCreateDto,
  ObjectPageDto,
  ObjectRecordDto,
  ObjectTypeDto,
  ObjectUpdateDto,
} from './objects.dto.js';
import { ObjectChangesService } from './object-changes.service.js';
import { ObjectReadsService } from './object-reads.service.js';
import { ObjectRegistrationService, type UploadPart } from './object-registration.service.js';

/** Limits of one upload form besides the file size (UPLOAD_LIMIT_BYTES, set where multipart is registered). */
const UPLOAD_FORM_LIMITS = { files: 1, fields: 20, fieldSize: 64 * 1024, parts: 21 } as const;

async function* uploadParts(request: FastifyRequest): AsyncGenerator<UploadPart> {
  for await (const part of request.parts({ limits: UPLOAD_FORM_LIMITS })) {
    if (part.type === 'file') {
      yield {
        kind: 'file',
        name: part.fieldname,
        filename: part.filename,
        mimeType: part.mimetype,
        stream: part.file,
      };
    } else {
      yield { kind: 'field', name: part.fieldname, value: String(part.value) };
    }
  }
}

@ApiTags('Objects')
@Controller()
export class ObjectsController {
  constructor(
    private readonly reads: ObjectReadsService,
    private readonly registration: ObjectRegistrationService,
    private readonly changes: ObjectChangesService,
  ) {}

  @Post('objects')
  @Authenticated()
  @RequireSiteOrAllowance('objects:admin')
  @ApiOperation({
    operationId: 'registerObject',
    summary: 'Register a blob held elsewhere (by access_url) or a bundle of registered objects',
    description:
      'A bundle (with `contents`) gets its size and checksums computed: the sum of its members, and per algorithm the digest of their sorted checksums. A blob needs size, checksums and access methods.',
  })
  @ApiCreatedResponse({ type: ObjectRecordDto })
  @ApiConflictResponse({ description: 'A checksum is already registered; existing_id names the object' })
  async registerObject(
    @Body() body: ObjectCreateDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ObjectRecordDto> {
    return this.reads.toRecord(
      await this.registration.register(body, this.registration.registrantFor(principal)),
    );
  }

  @Post('objects::upload')
  @Authenticated()
  @RequireSiteOrAllowance('objects:admin')
  @ApiOperation({
    operationId: 'uploadObject',
    summary: 'Upload bytes into the hub and register them as a blob',
    description:
      'multipart/form-data with the bytes in the part `file`; the other fields are optional. Size, sha-256 and md5 are computed while the bytes stream to storage. The blob is served through signed URLs (access id `https`).',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        file: { type: 'string', format: 'binary' },
        name: { type: 'string', description: 'Defaults to the file name, made portable' },
        description: { type: 'string' },
        mime_type: { type: 'string', description: 'Defaults to the content type of the file part' },
        types: { type: 'string', description: 'Comma-separated object type ids' },
        controlled: { type: 'string', enum: ['true', 'false'] },
        readers: { type: 'string', description: 'Comma-separated, e.g. user:alice,site:nersc' },
      },
    },
  })
  @ApiCreatedResponse({ type: ObjectRecordDto })
  @ApiConflictResponse({ description: 'The same bytes are already registered; existing_id names the object' })
  @ApiPayloadTooLargeResponse({ description: 'The file exceeds UPLOAD_LIMIT_BYTES' })
  async uploadObject(
    @Req() request: FastifyRequest,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ObjectRecordDto> {
    if (!request.isMultipart()) {
      throw new BadRequestError(
        'Send multipart/form-data with the bytes in a part named "file" (curl -F file=@path …)',
        { errors: [{ path: 'file', message: 'missing' }], code: 'not_multipart' },
      );
    }
    const doc = await this.registration.registerUpload(
      uploadParts(request),
      this.registration.registrantFor(principal),
    );
    return this.reads.toRecord(doc);
  }

  @Get('objects')
  @Public()
  @ApiOperation({
    operationId: 'listObjects',
    summary: 'List objects, ordered by id (controlled objects only for those who may read them)',
  })
  @ApiOkResponse({ type: ObjectPageDto })
  listObjects(
    @Query() query: ListRequestDto,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<Page<Partial<ObjectRecordDto>>> {
    return this.reads.list(query, principal);
  }

  @Get('object_types')
  @Public()
  @ApiOperation({ operationId: 'listObjectTypes', summary: 'The object types objects can be labelled with' })
  @ApiOkResponse({ type: [ObjectTypeDto] })
  listObjectTypes(@Query() query: FilterQueryDto): Promise<ObjectTypeDto[]> {
    return this.reads.listTypes(query.filter);
  }

  @Get('objects/:object_id')
  @Public()
  @ApiOperation({ operationId: 'getObject', summary: 'An object with its registry fields' })
  @ApiOkResponse({ type: ObjectRecordDto })
  @ApiNotFoundResponse({ description: 'No such object' })
  async getObject(
    @Param('object_id') objectId: string,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<ObjectRecordDto> {
    return this.reads.toRecord(await this.reads.getReadable(objectId, principal));
  }

  @Patch('objects/:object_id')
  @Authenticated()
  @ApiOperation({
    operationId: 'updateObject',
    summary:
      'Change description, aliases, mime_type, access methods or access control (managing site or objects:admin)',
  })
  @ApiOkResponse({ type: ObjectRecordDto })
  @ApiNotFoundResponse({ description: 'No such object' })
  async updateObject(
    @Param('object_id') objectId: string,
    @Body() body: ObjectUpdateDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ObjectRecordDto> {
    return this.reads.toRecord(await this.changes.update(objectId, body, principal));
  }

  @Delete('objects/:object_id')
  @Authenticated()
  @RequireAllowance('objects:admin')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteObject',
    summary:
      'Delete an object and the bytes the hub holds for it (objects:admin); refused while a bundle lists it',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiConflictResponse({ description: 'A bundle contains the object; bundle_ids names them' })
  async deleteObject(@Param('object_id') objectId: string): Promise<void> {
    await this.changes.delete(objectId);
  }

  @Get('objects/:object_id/types')
  @Public()
  @ApiOperation({ operationId: 'getObjectTypes', summary: 'The types an object is labelled with' })
  @ApiOkResponse({ type: [ObjectTypeDto] })
  getObjectTypes(
    @Param('object_id') objectId: string,
    @CurrentPrincipal() principal: Principal | undefined,
  ): Promise<ObjectTypeDto[]> {
    return this.reads.getTypes(objectId, principal);
  }

  @Put('objects/:object_id/types')
  @Authenticated()
  @ApiOperation({
    operationId: 'setObjectTypes',
    summary: "Replace an object's types (managing site or objects:admin)",
  })
  @ApiBody({ schema: { type: 'array', items: { type: 'string' }, example: ['metadata-in'] } })
  @ApiOkResponse({ type: ObjectRecordDto })
  async setObjectTypes(
    @Param('object_id') objectId: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ObjectRecordDto> {
    return this.reads.toRecord(await this.changes.setTypes(objectId, body, principal));
  }
}
