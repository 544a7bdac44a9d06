import { Controller, Get, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';

import { Public } from '../auth/decorators.js';
import { FindOneRequestDto, FindRequestDto, FindResponseDto } from './find.dto.js';
import { FindService } from './find.service.js';
import type { MetadataDoc } from './metadata.repository.js';

const DOCUMENT = { schema: { type: 'object', additionalProperties: true } } as const;
const BAD_FIND = 'Malformed filter or sort, unknown field, page beyond 10,000 results, page with cursor';

@ApiTags('Find')
@Controller()
@Public()
export class FindController {
  constructor(private readonly finder: FindService) {}

  @Get('studies')
  @ApiOperation({ operationId: 'findStudies', summary: 'Find studies (study_set)' })
  @ApiOkResponse({ type: FindResponseDto })
  @ApiBadRequestResponse({ description: BAD_FIND })
  findStudies(@Query() query: FindRequestDto): Promise<FindResponseDto> {
    return this.finder.find('study_set', query);
  }

  @Get('studies/:id')
  @ApiOperation({ operationId: 'getStudy', summary: 'Get a study' })
  @ApiOkResponse(DOCUMENT)
  @ApiNotFoundResponse({ description: 'No such study' })
  getStudy(@Param('id') id: string, @Query() query: FindOneRequestDto): Promise<MetadataDoc> {
    return this.finder.get('study_set', id, query.fields);
  }

  @Get('biosamples')
  @ApiOperation({ operationId: 'findBiosamples', summary: 'Find biosamples (biosample_set)' })
  @ApiOkResponse({ type: FindResponseDto })
  @ApiBadRequestResponse({ description: BAD_FIND })
  findBiosamples(@Query() query: FindRequestDto): Promise<FindResponseDto> {
    return this.finder.find('biosample_set', query);
  }

  @Get('biosamples/:id')
  @ApiOperation({ operationId: 'getBiosample', summary: 'Get a biosample' })
  @ApiOkResponse(DOCUMENT)
  @ApiNotFoundResponse({ description: 'No such biosample' })
  getBiosample(@Param('id') id: string, @Query() query: FindOneRequestDto): Promise<MetadataDoc> {
    return this.finder.get('biosample_set', id, query.fields);
  }

  @Get('data_objects')
  @ApiOperation({ operationId: 'findDataObjects', summary: 'Find data objects (data_object_set)' })
  @ApiOkResponse({ type: FindResponseDto })
  @ApiBadRequestResponse({ description: BAD_FIND })
  findDataObjects(@Query() query: FindRequestDto): Promise<FindResponseDto> {
    return this.finder.find('data_object_set', query);
  }

  @Get('data_objects/:id')
  @ApiOperation({ operationId: 'getDataObject', summary: 'Get a data object' })
  @ApiOkResponse(DOCUMENT)
  @ApiNotFoundResponse({ description: 'No such data object' })
  getDataObject(@Param('id') id: string, @Query() query: FindOneRequestDto): Promise<MetadataDoc> {
    return this.finder.get('data_object_set', id, query.fields);
  }
}
