import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';

import {
  DomainError,
  ForbiddenError,
  InvalidTokenError,
  UnauthorizedError,
} from '../common/errors/domain-errors.js';
import { IS_PUBLIC } from '../common/http/public.decorator.js';
import { AuthService, type VerifiedClaims } from './auth.service.js';
import { JwtStrategy } from './jwt.strategy.js';
import {
  ALLOW_SITE,
  REQUIRED_ALLOWANCE,
  REQUIRED_KIND,
  REQUIRES_ADMIN,
  type AuthenticatedRequest,
} from './decorators.js';
import type { AllowanceAction, Principal } from './principal.js';

/** What a route declares about its callers, read from its decorators once and kept. */
interface RouteRequirements {
  readonly isPublic: boolean;
  readonly requiresAdmin: boolean;
  readonly kind: 'site' | 'user' | undefined;
  readonly action: AllowanceAction | undefined;
  readonly siteAllowed: boolean;
}

type Handler = ReturnType<ExecutionContext['getHandler']>;
type Owner = ReturnType<ExecutionContext['getClass']>;

/**
 * The one global guard: every route needs a valid bearer token unless marked `@Public()`. A public route
 * verifies a token when one is sent (so optional identity works) and, when it cannot be verified, serves
 * the caller as anonymous rather than refusing public data. A protected route answers a bad token with
 * 401 `invalid_token` (RFC 6750). Then the route's declared requirements are checked.
 */
@Injectable()
export class HubAuthGuard extends AuthGuard('jwt') {
  /** By handler, then by class: decorator metadata is fixed once the classes are defined. */
  private readonly requirements = new WeakMap<Handler, WeakMap<Owner, RouteRequirements>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly jwt: JwtStrategy,
  ) {
    super();
  }

  /**
   * Not `async`: a public route called without a bearer token — most anonymous traffic — is answered
   * without making a promise.
   */
  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') {
      return true;
    }
    const route = this.requirementsOf(context.getHandler(), context.getClass());
    const isPublic = route.isPublic;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const sentBearer = /^bearer\s/i.test(request.headers.authorization ?? '');
    // HTTP Basic on a public route (client credentials at /token) is not a bearer token to verify.
    if (isPublic && !sentBearer) {
      return true;
    }
    // A token verified before whose principal is all cached: decided without a promise.
    const claims = sentBearer ? this.jwt.rememberedClaims(request.headers.authorization) : undefined;
    const principal = claims && this.auth.cachedPrincipal(claims);
    if (principal) {
      request.user = principal;
      return this.authorize(principal, route) ?? true;
    }
    return this.authenticate(context, request, route, sentBearer, claims);
  }

  private requirementsOf(handler: Handler, owner: Owner): RouteRequirements {
    let byOwner = this.requirements.get(handler);
    if (!byOwner) {
      byOwner = new WeakMap();
      this.requirements.set(handler, byOwner);
    }
    let route = byOwner.get(owner);
    if (!route) {
      const targets = [handler, owner];
      const read = <T>(key: string): T | undefined => this.reflector.getAllAndOverride<T>(key, targets);
      route = {
        isPublic: read<boolean>(IS_PUBLIC) ?? false,
        requiresAdmin: read<boolean>(REQUIRES_ADMIN) ?? false,
        kind: read<'site' | 'user'>(REQUIRED_KIND),
        action: read<AllowanceAction>(REQUIRED_ALLOWANCE),
        siteAllowed: read<boolean>(ALLOW_SITE) ?? false,
      };
      byOwner.set(owner, route);
    }
    return route;
  }

  private async authenticate(
    context: ExecutionContext,
    request: AuthenticatedRequest,
    route: RouteRequirements,
    sentBearer: boolean,
    claims: VerifiedClaims | undefined,
  ): Promise<boolean> {
    try {
      if (claims) {
        request.user = await this.principalFrom(claims);
      } else {
        await (super.canActivate(context) as Promise<boolean>);
      }
    } catch (error) {
      if (!(error instanceof UnauthorizedError) || !sentBearer) {
        throw error;
      }
      if (!route.isPublic) {
        throw error instanceof InvalidTokenError ? error : new InvalidTokenError(error.message);
      }
      // Public data is readable whatever the token: a resolver forwarding its own user's token, or a
      // client whose hub token expired, reads as anonymous. Remembered, so a controlled object's 401
      // can say why the token did not count.
      request.rejectedToken = error.message;
      return true;
    }
    const principal = request.user;
    if (!principal) {
      throw new UnauthorizedError('Authentication failed');
    }
    await this.authorize(principal, route);
    return true;
  }

  /**
   * A token verified before skips passport: its per-request set-up (a strategy object, five closures
   * and two promises) cost more than the rest of the check. Failures are mapped exactly as passport's
   * callback maps them, through handleRequest().
   */
  private async principalFrom(claims: VerifiedClaims): Promise<Principal> {
    try {
      return await this.auth.principalFromClaims(claims);
    } catch (error) {
      return this.handleRequest(error, undefined, undefined);
    }
  }

  override handleRequest<TUser = Principal>(err: unknown, user: unknown, info: unknown): TUser {
    if (err instanceof DomainError) {
      throw err;
    }
    if (err || !user) {
      const reason = info ?? err;
      // passport-jwt reports a missing token as "No auth token"; anything else is a token it refused.
      const missing = !reason || (reason instanceof Error && /No auth token/i.test(reason.message));
      throw missing
        ? new UnauthorizedError(describeFailure(reason))
        : new InvalidTokenError(describeFailure(reason));
    }
    return user as TUser;
  }

  /**
   * Checks the route's declared requirements. Throws when one is unmet; answers a promise only when an
   * allowance must be looked up, so most routes are authorised synchronously.
   */
  private authorize(principal: Principal, route: RouteRequirements): Promise<boolean> | undefined {
    if (route.requiresAdmin && !(principal.kind === 'user' && principal.isAdmin)) {
      throw new ForbiddenError('Only an admin may do this');
    }
    if (route.kind && principal.kind !== route.kind) {
      throw new ForbiddenError(
        route.kind === 'site'
          ? 'Only a site client token may do this; get one with grant_type=client_credentials'
          : 'Only a user token may do this',
      );
    }
    const action = route.action;
    if (!action || (principal.kind === 'site' && route.siteAllowed)) {
      return undefined;
    }
    return this.auth.holdsAllowance(principal, action).then((held) => {
      if (!held) {
        throw new ForbiddenError(
          `This needs the "${action}" allowance, which the caller does not hold; ask an admin to grant it`,
        );
      }
      return true;
    });
  }
}

function describeFailure(info: unknown): string {
  if (info instanceof Error) {
    switch (info.name) {
      case 'TokenExpiredError':
        return 'The access token has expired; request a new one from POST /token';
      case 'JsonWebTokenError':
        return `The access token is invalid (${info.message}); request a new one from POST /token`;
      case 'NotBeforeError':
        return 'The access token is not valid yet';
      default:
        if (/No auth token/i.test(info.message)) {
          return 'This needs a bearer token: send "Authorization: Bearer <token>" with a token from POST /token';
        }
        return `Authentication failed: ${info.message}`;
    }
  }
  return 'This needs a bearer token: send "Authorization: Bearer <token>" with a token from POST /token';
}
