import { Body, Controller, HttpCode, Post, Req, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConsumes,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

import { Authenticated, CurrentPrincipal, Public } from './decorators.js';
import type { Principal } from './principal.js';
import { TokenThrottlerGuard } from './throttle.js';
import { TokenRequestDto, TokenResponseDto } from './token.dto.js';
import { TokenService, type BasicCredentials } from './token.service.js';

function basicCredentials(request: FastifyRequest): BasicCredentials | undefined {
  const header = request.headers.authorization;
  if (!header?.startsWith('Basic ')) {
    return undefined;
  }
  const decoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) {
    return undefined;
  }
  return {
    id: decodeURIComponent(decoded.slice(0, colon)),
    secret: decodeURIComponent(decoded.slice(colon + 1)),
  };
}

@ApiTags('Authentication')
@Controller()
export class TokenController {
  constructor(private readonly tokens: TokenService) {}

  @Post('token')
  @Public()
  @UseGuards(TokenThrottlerGuard)
  @HttpCode(200)
  @ApiOperation({
    operationId: 'issueToken',
    summary: 'Get an access token',
    description:
      'OAuth2 token endpoint. Users send grant_type=password with username and password; site clients send grant_type=client_credentials with client_id and client_secret (form fields or HTTP Basic). Form-encoded and JSON bodies are both accepted.',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiBadRequestResponse({ description: 'A required field for the grant is missing' })
  @ApiUnauthorizedResponse({ description: 'The credentials are wrong (one message for every case)' })
  @ApiTooManyRequestsResponse({
    description:
      'Too many attempts for this address and account, or too many failures from this address; see Retry-After',
  })
  issueToken(@Body() body: TokenRequestDto, @Req() request: FastifyRequest): Promise<TokenResponseDto> {
    return this.tokens.issue(body, basicCredentials(request), request.ip);
  }

  @Post('token::revoke')
  @Authenticated()
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeToken', summary: 'Revoke the access token this request carries' })
  @ApiNoContentResponse({ description: 'The token no longer works anywhere' })
  async revokeToken(@CurrentPrincipal() principal: Principal): Promise<void> {
    await this.tokens.revoke(principal);
  }
}
