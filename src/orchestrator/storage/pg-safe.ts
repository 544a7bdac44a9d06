/**
 * Text and JSON made acceptable to PostgreSQL. `text` and `jsonb` refuse the NUL character (22P05 /
 * 22021) and `jsonb` refuses unpaired UTF-16 surrogates, so an error message quoting binary input (a
 * gzip read as JSON) would make the write that records the failure fail too, leaving the run STARTED.
 */

/** Longest `message` of an event or tick error; the full text goes into the event's data. */
export const MAX_MESSAGE_CHARS = 4096;
/** Longest string kept anywhere inside stored JSON (an error stack, a log line's data). */
export const MAX_JSON_STRING_CHARS = 1 << 20;

const NUL = new RegExp(String.fromCharCode(0), 'g');
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** What either replacement could touch; most text has neither, and one test is cheaper than two rewrites. */
const SUSPECT = new RegExp(`[${String.fromCharCode(0)}\uD800-\uDFFF]`);

/** NUL written as the visible escape `\u0000`, lone surrogates as U+FFFD, then cut to `max` characters. */
export function pgSafeText(text: string, max = MAX_JSON_STRING_CHARS): string {
  const safe = SUSPECT.test(text) ? text.replace(NUL, '\\u0000').replace(LONE_SURROGATE, '\uFFFD') : text;
  if (safe.length <= max) {
    return safe;
  }
  // Never cut a surrogate pair in half.
  const end = /[\uD800-\uDBFF]/.test(safe.charAt(max - 1)) ? max - 1 : max;
  return `${safe.slice(0, end)}… (${safe.length - end} more characters)`;
}

/** A JSON value with every string (keys included) made safe by {@link pgSafeText}. */
export function pgSafeJson<T>(value: T): T {
  return sanitize(value, []) as T;
}

/** `ancestors`: the objects being copied above this one (event data is shallow, so a list is cheapest). */
function sanitize(value: unknown, ancestors: object[]): unknown {
  if (typeof value === 'string') {
    return pgSafeText(value);
  }
  if (value === null || typeof value !== 'object') {
    return value;
  }
  if (value instanceof Date) {
    return value;
  }
  if (ancestors.includes(value)) {
    return '[circular]';
  }
  ancestors.push(value);
  // Loops rather than entries/map/fromEntries: every event a run writes passes through here.
  let result: unknown;
  if (Array.isArray(value)) {
    const items: unknown[] = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      items[i] = sanitize(value[i], ancestors);
    }
    result = items;
  } else {
    const fields: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const safeKey = pgSafeText(key);
      const safeValue = sanitize((value as Record<string, unknown>)[key], ancestors);
      if (safeKey === '__proto__') {
        // An own property, as JSON.parse would make it, not the object's prototype.
        Object.defineProperty(fields, safeKey, {
          value: safeValue,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else {
        fields[safeKey] = safeValue;
      }
    }
    result = fields;
  }
  ancestors.pop();
  return result;
}

/**
 * An event's message and data ready for storage: a message longer than {@link MAX_MESSAGE_CHARS} is
 * shortened and the whole (safe) text kept in `data.fullMessage`, so lists stay small and nothing is lost.
 */
export function pgSafeEvent(
  message: string,
  data: Readonly<Record<string, unknown>> | undefined,
): { message: string; data: Record<string, unknown> | null } {
  const full = pgSafeText(message);
  const safeData = data === undefined ? undefined : pgSafeJson(data);
  if (full.length <= MAX_MESSAGE_CHARS) {
    return { message: full, data: safeData ?? null };
  }
  return {
    message: pgSafeText(full, MAX_MESSAGE_CHARS),
    data: { ...(safeData ?? {}), fullMessage: full },
  };
}

/** Whether a PostgreSQL error is about the data itself (class 22, or a value too large: 54000). */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code === '54000');
}
