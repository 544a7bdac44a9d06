import { Inject, Injectable } from '@nestjs/common';

import type { AppConfig, TagConcurrencyLimit } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { RunRepository, type CoordinatorSnapshot } from '../storage/run.repository.js';
import { OutboxRelay } from './outbox-relay.js';

/** Which concurrency bucket of `limit` a run with `tags` falls in (undefined: the limit ignores it). */
function bucketOf(limit: TagConcurrencyLimit, tags: Readonly<Record<string, string>>): string | undefined {
  const value = tags[limit.key];
  if (value === undefined) {
    return undefined;
  }
  if (limit.value !== undefined) {
    return value === limit.value ? `${limit.key}=${value}` : undefined;
  }
  return limit.perUniqueValue ? `${limit.key}=${value}` : `${limit.key}`;
}

/**
 * Whether no concurrency limit applies at all (−1 and no tag limits): then nothing can hold a run back,
 * so launches start their runs themselves and a finished run frees no slot anyone waits for.
 */
export function runsUnlimited({
  maxConcurrentRuns,
  tagConcurrencyLimits,
}: Pick<AppConfig['orchestrator'], 'maxConcurrentRuns' | 'tagConcurrencyLimits'>): boolean {
  return maxConcurrentRuns < 0 && tagConcurrencyLimits.length === 0;
}

/**
 * Dagster's QueuedRunCoordinator rule: fill free slots up to `maxConcurrentRuns` (−1: no limit) in
 * priority then FIFO order; a run blocked by a tag limit does not block the runs behind it.
 */
export function chooseRuns(
  snapshot: CoordinatorSnapshot,
  maxConcurrentRuns: number,
  limits: readonly TagConcurrencyLimit[],
): string[] {
  let available = maxConcurrentRuns < 0 ? Number.POSITIVE_INFINITY : maxConcurrentRuns - snapshot.inProgress;
  const counts = new Map<string, number>();
  const limitOf = new Map<string, number>();
  const count = (tags: Readonly<Record<string, string>>): string[] =>
    limits.flatMap((limit) => {
      const bucket = bucketOf(limit, tags);
      if (bucket === undefined) {
        return [];
      }
      limitOf.set(bucket, Math.min(limitOf.get(bucket) ?? Number.POSITIVE_INFINITY, limit.limit));
      return [bucket];
    });
  for (const tags of snapshot.inProgressTags) {
    for (const bucket of count(tags)) {
      counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
    }
  }
  const chosen: string[] = [];
  for (const run of snapshot.queued) {
    if (available <= 0) {
      break;
    }
    const buckets = count(run.tags);
    if (buckets.some((b) => (counts.get(b) ?? 0) >= (limitOf.get(b) ?? Number.POSITIVE_INFINITY))) {
      continue;
    }
    for (const bucket of buckets) {
      counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
    }
    chosen.push(run.runId);
    available--;
  }
  return chosen;
}

const BATCH = 500;

/** Moves QUEUED runs to STARTING within the concurrency limits and hands them to run workers. */
@Injectable()
export class RunCoordinator {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runs: RunRepository,
    private readonly relay: OutboxRelay,
  ) {}

  /** One pass; returns how many runs it launched (a full batch means more may be waiting). */
  async pass(): Promise<{ launched: number; full: boolean }> {
    const { maxConcurrentRuns, tagConcurrencyLimits } = this.config.orchestrator;
    if (maxConcurrentRuns === 0) {
      return { launched: 0, full: false };
    }
    if (runsUnlimited(this.config.orchestrator)) {
      const launched = await this.runs.dequeueUnlimited(BATCH);
      await this.relay.relayCommitted(launched);
      return { launched: launched.length, full: launched.length >= BATCH };
    }
    const candidates =
      tagConcurrencyLimits.length > 0 || maxConcurrentRuns < 0
        ? BATCH * 2
        : Math.min(maxConcurrentRuns, BATCH);
    const messages = await this.runs.dequeue(
      [...new Set(tagConcurrencyLimits.map((l) => l.key))],
      candidates,
      (snapshot) => chooseRuns(snapshot, maxConcurrentRuns, tagConcurrencyLimits).slice(0, BATCH),
    );
    await this.relay.relayCommitted(messages);
    return { launched: messages.length, full: messages.length >= BATCH };
  }
}
