import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const INCOMING_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** 74 random bits drawn once per process, in UUID form up to the last group ("xxxxxxxx-xxxx-4xxx-yxxx-"). */
const PROCESS_PART = randomUUID().slice(0, 24);
const COUNTER_DIGITS = 12;
const COUNTER_LIMIT = 16 ** COUNTER_DIGITS;
let counter = 0;

/**
 * A new request id, shaped like a UUID: this process's random part, then a counter in the last 12 hex
 * digits. Unique within the process by the counter and across processes by the random part; request ids
 * only correlate log lines with answers (clients may choose their own), so they need not be unguessable,
 * and a counter costs a fraction of drawing a random UUID on every request.
 */
export function mintRequestId(): string {
  counter = (counter + 1) % COUNTER_LIMIT;
  return PROCESS_PART + counter.toString(16).padStart(COUNTER_DIGITS, '0');
}

/** The caller's X-Request-Id when it is well formed (so a trace spans services), else a new one. */
export function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && INCOMING_PATTERN.test(incoming) ? incoming : mintRequestId();
}
