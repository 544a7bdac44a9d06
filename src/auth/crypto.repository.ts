import { randomBytes, randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import argon2 from 'argon2';
import jwt from 'jsonwebtoken';

import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';

/** OWASP's recommended argon2id floor: 19 MiB, 2 passes, 1 lane. */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export interface AccessTokenClaims {
  sub: string;
  jti: string;
  iat: number;
  exp: number;
}

/** Hashing, secrets and token signing: the hub's only code that touches key material. */
@Injectable()
export class CryptoRepository {
  private readonly jwtSecret: string;
  private dummyHash: Promise<string> | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.jwtSecret = config.secrets.jwtSecret;
  }

  hashSecret(plain: string): Promise<string> {
    return argon2.hash(plain, ARGON2_OPTIONS);
  }

  async verifySecret(hash: string, plain: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, plain);
    } catch {
      return false;
    }
  }

  /** Spends the same time as a real verification, so an unknown account cannot be told apart by timing. */
  async verifyAgainstNothing(plain: string): Promise<false> {
    this.dummyHash ??= this.hashSecret(randomBytes(16).toString('hex'));
    await this.verifySecret(await this.dummyHash, plain);
    return false;
  }

  /** 32 characters of base64url: 192 bits, safe in form fields and HTTP Basic alike. */
  randomSecret(): string {
    return randomBytes(24).toString('base64url');
  }

  signAccessToken(subject: string, ttlSeconds: number): { token: string; claims: AccessTokenClaims } {
    const iat = Math.floor(Date.now() / 1000);
    const claims: AccessTokenClaims = { sub: subject, jti: randomUUID(), iat, exp: iat + ttlSeconds };
    return { token: jwt.sign(claims, this.jwtSecret, { algorithm: 'HS256' }), claims };
  }
}
