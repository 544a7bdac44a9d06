import { Body, Controller, Get, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';

import { Authenticated, CurrentPrincipal, RequireAdmin } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { ListRequestDto, type Page } from '../common/pagination/list-request.dto.js';
import { SiteClientIdentityDto, UserCreateDto, UserDto, UserPageDto, UserUpdateDto } from './users.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('Users')
@Authenticated()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @RequireAdmin()
  @ApiOperation({ operationId: 'createUser', summary: 'Create a user (admin)' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiConflictResponse({ description: 'The username is taken' })
  createUser(@Body() body: UserCreateDto): Promise<UserDto> {
    return this.users.create(body);
  }

  @Get('me')
  @ApiOperation({ operationId: 'getCurrentUser', summary: 'Who the bearer token belongs to' })
  @ApiExtraModels(UserDto, SiteClientIdentityDto)
  @ApiOkResponse({
    schema: { oneOf: [{ $ref: getSchemaPath(UserDto) }, { $ref: getSchemaPath(SiteClientIdentityDto) }] },
  })
  getCurrentUser(@CurrentPrincipal() principal: Principal): Promise<UserDto | SiteClientIdentityDto> {
    return this.users.me(principal);
  }

  @Get()
  @RequireAdmin()
  @ApiOperation({ operationId: 'listUsers', summary: 'List users (admin), ordered by username' })
  @ApiOkResponse({ type: UserPageDto })
  listUsers(@Query() query: ListRequestDto): Promise<Page<Partial<UserDto>>> {
    return this.users.list(query);
  }

  @Patch(':username')
  @RequireAdmin()
  @ApiOperation({ operationId: 'updateUser', summary: 'Change a user (admin); only the fields sent change' })
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ description: 'No such user' })
  updateUser(@Param('username') username: string, @Body() body: UserUpdateDto): Promise<UserDto> {
    return this.users.update(username, body);
  }
}
