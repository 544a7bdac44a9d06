import { finished, type Readable, type Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';

/**
 * Streams at least this long are relayed with the old generation allowed to grow to twice the live heap.
 * Below it a stream allocates too little to matter.
 */
export const LARGE_STREAM_BYTES = 16 * 1024 * 1024;

/** The old generation's limit while a large stream is relayed: the live heap plus this share of it. */
const RELAY_HEAP_GROWING_PERCENT = 100;

/** Large streams in flight in this process (the V8 setting is the process's, so the count is too). */
let relaying = 0;

/**
 * Lets the old generation grow further while blob bytes pass through the process, and gives V8 its own
 * heuristic back when the last large stream ends.
 *
 * Every socket or file read is a new buffer, and V8 counts buffer memory allocated since its last
 * mark-compact against the old generation's limit. After a busy spell (a few large uploads) V8 sets that
 * limit barely above the live heap (~60 MB, 12-25 MB of room); relaying hundreds of MiB per second then
 * fills the room between two scavenges, and each download ran a full mark-compact every few megabytes
 * (10-18 ms each, 4-7 CPU ms per MiB instead of 1). With the limit at twice the live heap, scavenges
 * free the buffers first and no mark-compact runs. The setting is not kept on for good: at a fixed
 * factor, cached metadata reads paid 15-40 % more CPU per request (see docs/performance.md).
 *
 * V8 reads this factor each time it computes a limit (after every mark-compact), so changing it while
 * the process runs takes effect at the next collection. Returns the release, which is idempotent.
 */
export function holdHeapGrowth(): () => void {
  if (relaying++ === 0) {
    setFlagsFromString(`--heap-growing-percent=${RELAY_HEAP_GROWING_PERCENT}`);
  }
  let released = false;
  return () => {
    if (released) {
      return;
    }
    released = true;
    if (--relaying === 0) {
      // 0 is V8's default: its own factor, from how fast the program allocates and collects.
      setFlagsFromString('--heap-growing-percent=0');
    }
  };
}

/**
 * Holds {@link holdHeapGrowth} until `stream` ends, fails or is destroyed, when its size is at least
 * {@link LARGE_STREAM_BYTES} or unknown. Returns the stream.
 */
export function withHeapGrowth<S extends Readable | Writable>(stream: S, size?: number): S {
  if (size === undefined || size >= LARGE_STREAM_BYTES) {
    const release = holdHeapGrowth();
    const stop = finished(stream, () => {
      stop();
      release();
    });
  }
  return stream;
}

/** Large streams being relayed now, for tests. */
export function largeStreamsRelaying(): number {
  return relaying;
}
