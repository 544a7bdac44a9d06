/** Dagster's RetryPolicy: `maxRetries` further attempts after the first, `delayMs` between them. */
export interface RetryPolicy {
  readonly maxRetries: number;
  readonly delayMs?: number;
  /** linear: attempt × delay; exponential: (2^attempt − 1) × delay (Dagster's formulas). */
  readonly backoff?: 'linear' | 'exponential';
  /** full: random × delay; plus_minus: delay ± random × base delay. */
  readonly jitter?: 'full' | 'plus_minus';
}

export function checkRetryPolicy(policy: RetryPolicy | undefined, where: string): string[] {
  if (!policy) {
    return [];
  }
  const problems: string[] = [];
  if (!Number.isInteger(policy.maxRetries) || policy.maxRetries < 0) {
    problems.push(`${where}.maxRetries must be a non-negative integer`);
  }
  if (policy.delayMs !== undefined && (!Number.isFinite(policy.delayMs) || policy.delayMs < 0)) {
    problems.push(`${where}.delayMs must be a non-negative number`);
  }
  if (policy.backoff !== undefined && !['linear', 'exponential'].includes(policy.backoff)) {
    problems.push(`${where}.backoff must be "linear" or "exponential"`);
  }
  if (policy.jitter !== undefined && !['full', 'plus_minus'].includes(policy.jitter)) {
    problems.push(`${where}.jitter must be "full" or "plus_minus"`);
  }
  return problems;
}

/** How long to wait before retry number `attempt` (1 for the first retry). */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = policy.delayMs ?? 0;
  let delay = base;
  if (policy.backoff === 'linear') {
    delay = attempt * base;
  } else if (policy.backoff === 'exponential') {
    delay = (2 ** attempt - 1) * base;
  }
  if (policy.jitter === 'full') {
    delay = random() * delay;
  } else if (policy.jitter === 'plus_minus') {
    delay = delay + (random() * 2 - 1) * base;
  }
  return Math.max(0, Math.round(delay));
}
