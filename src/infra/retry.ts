import type { Logger } from 'pino';

import { DependencyUnavailableError } from '../common/errors/domain-errors.js';

/**
 * Runs a start-up task; if its dependency is unreachable, keeps retrying in the background instead of
 * refusing to boot, so the process stays up and `/health` can say what is missing.
 */
export async function runOrRetryInBackground(
  name: string,
  task: () => Promise<void>,
  log: Logger,
  isTransient: (error: unknown) => boolean,
  intervalMs = 3000,
): Promise<{ stop(): void; done: Promise<void> }> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    await task();
    return { stop: () => undefined, done: Promise.resolve() };
  } catch (error) {
    if (!isTransient(error)) {
      throw error;
    }
    log.error({ err: error }, `${name} failed: dependency unreachable; retrying every ${intervalMs} ms`);
  }
  const done = new Promise<void>((resolve) => {
    const attempt = (): void => {
      if (stopped) {
        resolve();
        return;
      }
      task().then(
        () => {
          log.info(`${name} succeeded after retrying`);
          resolve();
        },
        (error: unknown) => {
          if (!isTransient(error)) {
            log.error({ err: error }, `${name} failed`);
            resolve();
            return;
          }
          timer = setTimeout(attempt, intervalMs);
          timer.unref();
        },
      );
    };
    timer = setTimeout(attempt, intervalMs);
    timer.unref();
  });
  return {
    stop: () => {
      stopped = true;
      if (timer) {
        clearTimeout(timer);
      }
    },
    done,
  };
}

/** Connection-level failures worth retrying, as opposed to bugs or bad definitions. */
export function isConnectivityError(error: unknown): boolean {
  if (!(error instanceof Error)) {
    return false;
  }
  if (error instanceof DependencyUnavailableError) {
    return true;
  }
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', '57P03'].includes(code)
  ) {
    return true;
  }
  return /MongoServerSelectionError|MongoNetwork|MongoTopologyClosed|Topology is closed|MongoNotConnected|ECONNREFUSED|Connection terminated|timeout/i.test(
    `${error.name} ${error.message}`,
  );
}

/** Rejects when `promise` takes longer than `ms`, naming what timed out. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
