import { Inject, Injectable } from '@nestjs/common';

import { BadRequestError, TooManyRequestsError, UnauthorizedError } from '../common/errors/domain-errors.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { SITE_CLIENTS, USER_ACCOUNTS, type SiteClients, type UserAccounts } from './accounts.js';
import { AuthCache, cacheKeys } from './auth-cache.js';
import { CryptoRepository } from './crypto.repository.js';
import { describePrincipal, type Principal } from './principal.js';
import { RevocationsRepository } from './revocations.repository.js';
import { AddressFailureLimiter } from './throttle.js';
import type { TokenRequestDto, TokenResponseDto } from './token.dto.js';

/** One message for every credential failure, so callers cannot learn which accounts exist. */
export const INVALID_CREDENTIALS = 'Invalid credentials';

export interface BasicCredentials {
  readonly id: string;
  readonly secret: string;
}

@Injectable()
export class TokenService {
  private readonly ttlSeconds: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(USER_ACCOUNTS) private readonly users: UserAccounts,
    @Inject(SITE_CLIENTS) private readonly sites: SiteClients,
    private readonly revocations: RevocationsRepository,
    private readonly crypto: CryptoRepository,
    private readonly cache: AuthCache,
    private readonly addressFailures: AddressFailureLimiter,
  ) {
    this.ttlSeconds = config.auth.tokenTtlSeconds;
  }

  /** Issues a token, refusing an address that has failed too often lately (over all accounts). */
  async issue(
    request: TokenRequestDto,
    basic: BasicCredentials | undefined,
    address: string,
  ): Promise<TokenResponseDto> {
    const wait = await this.addressFailures.retryAfterSeconds(address);
    if (wait > 0) {
      throw new TooManyRequestsError(`Too many failed sign-ins from this address; try again in ${wait} s`, {
        retryAfterSeconds: wait,
      });
    }
    try {
      return await this.verifyAndIssue(request, basic);
    } catch (error) {
      if (error instanceof UnauthorizedError) {
        await this.addressFailures.recordFailure(address);
      }
      throw error;
    }
  }

  private async verifyAndIssue(
    request: TokenRequestDto,
    basic: BasicCredentials | undefined,
  ): Promise<TokenResponseDto> {
    if (request.grant_type === 'password') {
      if (!request.username || !request.password) {
        throw new BadRequestError('grant_type=password requires username and password', {
          errors: [
            ...(request.username ? [] : [{ path: 'username', message: 'required for grant_type=password' }]),
            ...(request.password ? [] : [{ path: 'password', message: 'required for grant_type=password' }]),
          ],
        });
      }
      const user = await this.users.findByUsername(request.username);
      const valid = user
        ? await this.crypto.verifySecret(user.password_hash, request.password)
        : await this.crypto.verifyAgainstNothing(request.password);
      if (!user || !valid || user.disabled) {
        throw new UnauthorizedError(INVALID_CREDENTIALS);
      }
      return this.tokenFor(`user:${user.username}`);
    }

    const clientId = request.client_id ?? basic?.id;
    const secret = request.client_id ? request.client_secret : basic?.secret;
    if (!clientId || !secret) {
      throw new BadRequestError(
        'grant_type=client_credentials requires client_id and client_secret, as form fields or HTTP Basic credentials',
        { errors: [{ path: 'client_secret', message: 'required for grant_type=client_credentials' }] },
      );
    }
    const client = await this.sites.findClient(clientId);
    const valid = client
      ? await this.crypto.verifySecret(client.secret_hash, secret)
      : await this.crypto.verifyAgainstNothing(secret);
    if (!client || !valid) {
      throw new UnauthorizedError(INVALID_CREDENTIALS);
    }
    return this.tokenFor(`client:${client.id}`);
  }

  async revoke(principal: Principal): Promise<void> {
    await this.revocations.revoke(principal.tokenId, describePrincipal(principal), principal.tokenExpiresAt);
    await this.cache.invalidate(cacheKeys.revoked(principal.tokenId));
  }

  private tokenFor(subject: string): TokenResponseDto {
    const { token } = this.crypto.signAccessToken(subject, this.ttlSeconds);
    const days = Math.floor(this.ttlSeconds / 86_400);
    const hours = Math.floor((this.ttlSeconds % 86_400) / 3600);
    const minutes = Math.floor((this.ttlSeconds % 3600) / 60);
    return {
      access_token: token,
      token_type: 'bearer',
      expires_in: this.ttlSeconds,
      expires: { days, hours, minutes },
    };
  }
}
