import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

type Targets = Parameters<Reflector['getAllAndOverride']>[1];

/**
 * The Reflector the global guard reads route requirements with, remembering each answer per handler
 * and class. The guard asks up to five questions on every request, each a walk of reflect-metadata's
 * maps (4 % of the CPU of an authenticated request); the answers are decorator metadata, fixed once the
 * classes are defined, so the first answer stands.
 */
@Injectable()
export class MemoizedReflector extends Reflector {
  private readonly answers = new WeakMap<object, WeakMap<object, Map<unknown, unknown>>>();

  override getAllAndOverride<TResult = unknown, TKey = unknown>(
    metadataKey: TKey,
    targets: Targets,
  ): TResult {
    const [handler, owner] = targets;
    if (targets.length !== 2 || !handler || !owner) {
      return super.getAllAndOverride<TResult, TKey>(metadataKey, targets);
    }
    let byOwner = this.answers.get(handler);
    if (!byOwner) {
      byOwner = new WeakMap();
      this.answers.set(handler, byOwner);
    }
    let byKey = byOwner.get(owner);
    if (!byKey) {
      byKey = new Map();
      byOwner.set(owner, byKey);
    }
    if (byKey.has(metadataKey)) {
      return byKey.get(metadataKey) as TResult;
    }
    const answer = super.getAllAndOverride<TResult, TKey>(metadataKey, targets);
    byKey.set(metadataKey, answer);
    return answer;
  }
}
