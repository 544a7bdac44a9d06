import { applyDecorators, createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

import type { AllowanceAction, Principal } from './principal.js';

export { Public } from '../common/http/public.decorator.js';

export const REQUIRED_ALLOWANCE = 'runtime-hub:required-allowance';
export const REQUIRED_KIND = 'runtime-hub:required-principal-kind';
export const REQUIRES_ADMIN = 'runtime-hub:requires-admin';
export const ALLOW_SITE = 'runtime-hub:allow-site';

/** Requires a user holding `action` (admins hold every action). */
export const RequireAllowance = (action: AllowanceAction): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(REQUIRED_ALLOWANCE, action),
    ApiForbiddenResponse({ description: `The caller lacks the \`${action}\` allowance` }),
  );

/** Lets a site client token through, or else a user holding `action`. */
export const RequireSiteOrAllowance = (action: AllowanceAction): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(REQUIRED_ALLOWANCE, action),
    SetMetadata(ALLOW_SITE, true),
    ApiForbiddenResponse({
      description: `The caller is neither a site client nor a user with the \`${action}\` allowance`,
    }),
  );

/** Requires an admin user. */
export const RequireAdmin = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(REQUIRES_ADMIN, true),
    ApiForbiddenResponse({ description: 'The caller is not an admin' }),
  );

/** Requires a site client token (`client_credentials`), not a user token. */
export const RequireSite = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(REQUIRED_KIND, 'site'),
    ApiForbiddenResponse({ description: 'Only a site client token may call this' }),
  );

/** Documents that a route needs a bearer token (every non-public route does). */
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiBearerAuth('bearer'),
    ApiUnauthorizedResponse({ description: 'Missing, expired, revoked or invalid bearer token' }),
  );

export interface AuthenticatedRequest extends FastifyRequest {
  user?: Principal;
  /** Why a bearer token sent to a public route was not accepted (the request then runs anonymously). */
  rejectedToken?: string;
}

/** The verified principal of the request (undefined only on public routes called anonymously). */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal | undefined =>
    context.switchToHttp().getRequest<AuthenticatedRequest>().user,
);
