import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface Digests {
  readonly sha256: string;
  readonly md5: string;
}

/** Bytes of the shared ring each job copies its stream into; also the most a job has in flight. */
export const DIGEST_RING_BYTES = 16 * 1024 * 1024;
/** Rings kept for reuse once their job is done (a ring is allocated once, then recycled). */
const SPARE_RINGS = 4;

/**
 * Runs in each worker: one sha-256 and one md5 per job, fed with regions of the job's shared ring (no
 * copy, no transfer). CommonJS source evaluated in place, so it works the same from TypeScript sources
 * and from the build.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', ({ job, ring, offset, length, end }) => {
  let state = jobs.get(job);
  if (!state) {
    state = { sha256: createHash('sha256'), md5: createHash('md5'), ring: undefined };
    jobs.set(job, state);
  }
  if (ring) {
    state.ring = ring;
  }
  if (length) {
    const bytes = Buffer.from(state.ring, offset, length);
    state.sha256.update(bytes);
    state.md5.update(bytes);
    parentPort.postMessage({ job, done: length });
  }
  if (end) {
    jobs.delete(job);
    parentPort.postMessage({ job, sha256: state.sha256.digest('hex'), md5: state.md5.digest('hex') });
  }
});
`;

interface JobState {
  resolve: (digests: Digests) => void;
  reject: (error: Error) => void;
  onProgress: (bytes: number) => void;
}

interface PooledWorker {
  worker: Worker;
  jobs: Map<number, JobState>;
  /** Rings lent to jobs this worker has not answered the end of yet. */
  rings: Map<number, SharedArrayBuffer>;
}

/**
 * Hashes streams on worker threads, so the thread that receives and writes the bytes is not also the
 * one hashing them: md5 and sha-256 together cost about as much CPU as the rest of an upload. Bytes
 * reach a worker through a ring of shared memory reused from job to job: a fresh buffer per batch
 * made garbage at the rate of the upload, and the collections that external memory triggers in a
 * large heap cost more than the hashing saved.
 */
class DigestPool {
  private readonly workers: PooledWorker[] = [];
  private readonly spareRings: SharedArrayBuffer[] = [];
  private nextJob = 1;

  constructor(private readonly size: number) {}

  start(onProgress: (bytes: number) => void): DigestJob {
    const pooled = this.leastBusy();
    const job = this.nextJob++;
    const result = new Promise<Digests>((resolve, reject) => {
      pooled.jobs.set(job, { resolve, reject, onProgress });
    });
    // Referenced while it has work, so a process waiting only for a digest does not exit before it.
    pooled.worker.ref();
    const release = (): void => {
      if (pooled.jobs.size === 0) {
        pooled.worker.unref();
      }
    };
    // Also keeps a rejection from going unhandled: an abandoned job is awaited by nobody.
    void result.then(release, release);
    return new DigestJob(pooled, job, result, () => {
      const ring = this.spareRings.pop() ?? new SharedArrayBuffer(DIGEST_RING_BYTES);
      pooled.rings.set(job, ring);
      pooled.worker.postMessage({ job, ring });
      return ring;
    });
  }

  private leastBusy(): PooledWorker {
    if (this.workers.length < this.size) {
      this.workers.push(this.spawn());
    }
    return this.workers.reduce((best, candidate) =>
      candidate.jobs.size < best.jobs.size ? candidate : best,
    );
  }

  private spawn(): PooledWorker {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    const pooled: PooledWorker = { worker, jobs: new Map(), rings: new Map() };
    worker.on('message', (message: { job: number; done?: number; sha256?: string; md5?: string }) => {
      if (message.sha256 !== undefined) {
        // The worker has read the last of the ring (also for an abandoned job): it may be lent again.
        const ring = pooled.rings.get(message.job);
        pooled.rings.delete(message.job);
        if (ring && this.spareRings.length < SPARE_RINGS) {
          this.spareRings.push(ring);
        }
      }
      const state = pooled.jobs.get(message.job);
      if (!state) {
        return;
      }
      if (message.done !== undefined) {
        state.onProgress(message.done);
      }
      if (message.sha256 !== undefined && message.md5 !== undefined) {
        pooled.jobs.delete(message.job);
        state.resolve({ sha256: message.sha256, md5: message.md5 });
      }
    });
    const fail = (error: Error): void => {
      this.workers.splice(this.workers.indexOf(pooled), 1);
      for (const state of pooled.jobs.values()) {
        state.reject(error);
      }
      pooled.jobs.clear();
      pooled.rings.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`digest worker exited with code ${code}`)));
    // Idle workers must not keep the process alive (after the listeners: adding one can ref it again).
    worker.unref();
    return pooled;
  }
}

export class DigestJob {
  private ringBuffer: Uint8Array | undefined;

  constructor(
    private readonly pooled: PooledWorker,
    private readonly job: number,
    private readonly result: Promise<Digests>,
    private readonly lendRing: () => SharedArrayBuffer,
  ) {}

  /** The job's ring, lent on first use (an empty stream never needs one). */
  get ring(): Uint8Array {
    this.ringBuffer ??= new Uint8Array(this.lendRing());
    return this.ringBuffer;
  }

  /** Has the worker hash `length` bytes of the ring from `offset`; the caller leaves them alone until done. */
  update(offset: number, length: number): void {
    this.pooled.worker.postMessage({ job: this.job, offset, length });
  }

  end(): Promise<Digests> {
    this.pooled.worker.postMessage({ job: this.job, end: true });
    return this.result;
  }

  /** Forgets the job (the stream failed); the worker frees it when the end message arrives. */
  abandon(): void {
    const state = this.pooled.jobs.get(this.job);
    this.pooled.jobs.delete(this.job);
    this.pooled.worker.postMessage({ job: this.job, end: true });
    state?.reject(new Error('digest abandoned'));
  }
}

let shared: DigestPool | undefined;

/** The process-wide pool: at most two workers, since each hashes as fast as one core allows. */
export function digestPool(): DigestPool {
  shared ??= new DigestPool(Math.max(1, Math.min(2, availableParallelism() - 1)));
  return shared;
}
