import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface Digests {
  readonly sha256: string;
  readonly md5: string;
}

/**
 * Runs in each worker: one sha-256 and one md5 per job, fed with transferred chunks. CommonJS source
 * evaluated in place, so it works the same from TypeScript sources and from the build.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', ({ job, chunk, end }) => {
  let hashes = jobs.get(job);
  if (!hashes) {
    hashes = { sha256: createHash('sha256'), md5: createHash('md5') };
    jobs.set(job, hashes);
  }
  if (chunk) {
    const bytes = Buffer.from(chunk);
    hashes.sha256.update(bytes);
    hashes.md5.update(bytes);
    parentPort.postMessage({ job, done: bytes.length });
  }
  if (end) {
    jobs.delete(job);
    parentPort.postMessage({ job, sha256: hashes.sha256.digest('hex'), md5: hashes.md5.digest('hex') });
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
}

/**
 * Hashes streams on worker threads, so the thread that receives and writes the bytes is not also the
 * one hashing them: md5 and sha-256 together cost about as much CPU as the rest of an upload.
 */
class DigestPool {
  private readonly workers: PooledWorker[] = [];
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
    return new DigestJob(pooled, job, result);
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
    const pooled: PooledWorker = { worker, jobs: new Map() };
    worker.on('message', (message: { job: number; done?: number; sha256?: string; md5?: string }) => {
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
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`digest worker exited with code ${code}`)));
    // Idle workers must not keep the process alive (after the listeners: adding one can ref it again).
    worker.unref();
    return pooled;
  }
}

export class DigestJob {
  constructor(
    private readonly pooled: PooledWorker,
    private readonly job: number,
    private readonly result: Promise<Digests>,
  ) {}

  /** Hands `chunk` (which the caller gives up) to the worker. */
  update(chunk: Uint8Array<ArrayBuffer>): void {
    this.pooled.worker.postMessage({ job: this.job, chunk }, [chunk.buffer]);
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
