/**
 * Answers served over and over unchanged — a DRS object, the caller's own user record — are rendered
 * once and kept; their JSON text is kept beside them, so a repeat answer is not serialised again.
 *
 * A value marked here must never change afterwards (it is frozen, shallowly; keep nested parts private
 * to the renderer). Only the top-level payload of a reply is looked up: a marked value inside a larger
 * answer is serialised as usual.
 */
const marked = new WeakSet<object>();
const texts = new WeakMap<object, string>();

/** Marks `value` as an immutable answer whose JSON text may be kept once written. */
export function servedUnchanged<T extends object>(value: T): T {
  marked.add(Object.freeze(value));
  return value;
}

/**
 * The reply serialiser (Fastify's `setReplySerializer`): the kept text of a marked value, written on its
 * first reply; `JSON.stringify` for everything else, as Fastify does by default.
 */
export function serializeReply(payload: unknown): string {
  if (typeof payload !== 'object' || payload === null || !marked.has(payload)) {
    return JSON.stringify(payload);
  }
  let text = texts.get(payload);
  if (text === undefined) {
    text = JSON.stringify(payload);
    texts.set(payload, text);
  }
  return text;
}
