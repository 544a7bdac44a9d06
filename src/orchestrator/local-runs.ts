import { Injectable } from '@nestjs/common';

import type { RunRecord } from './storage/records.js';

/** A free slot of a run worker in this process, held for one run while the launch creates it. */
export interface RunSlot {
  /** The worker the run is created claimed by. */
  readonly workerId: string;
  /** Executes the run, committed STARTED and claimed by {@link workerId}; the slot is freed when it ends. */
  start(run: RunRecord): void;
  /** Frees the slot unused: the run was not created. */
  release(): void;
}

/** The run workers of this process, as a launch sees them. */
export interface LocalRunWorkers {
  /** A slot for `runId`, or undefined when every slot is busy. */
  reserve(runId: string): RunSlot | undefined;
}

/**
 * The run workers of the launching process, when it has any (role `all`, once the daemon has started
 * them). A launch that no concurrency limit could hold back and that finds a free slot here creates its
 * run claimed by that worker and executes it in place (eager start): the run skips the outbox, the
 * BullMQ round trip and the claim, and starts a few milliseconds sooner. Without a free slot, or in an
 * `api` process, the run goes through the queue.
 */
@Injectable()
export class LocalRuns {
  private workers: LocalRunWorkers | undefined;

  /** Registers this process's run workers; the returned function withdraws them (at shutdown). */
  use(workers: LocalRunWorkers): () => void {
    this.workers = workers;
    return () => {
      if (this.workers === workers) {
        this.workers = undefined;
      }
    };
  }

  reserve(runId: string): RunSlot | undefined {
    return this.workers?.reserve(runId);
  }
}
