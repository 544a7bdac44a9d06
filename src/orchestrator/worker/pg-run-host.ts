import type { OrchestratorEvent, RunHost } from '../core/index.js';
import type { RunRepository, StepOutputRow } from '../storage/run.repository.js';

/** How long recorded events and step outputs may wait to be batched into one write (bounds live-tail lag). */
const FLUSH_DELAY_MS = 100;
/** Cancellation reaches running ops by broadcast; the stored flag is only a fallback, checked this often. */
const CANCEL_CHECK_INTERVAL_MS = 1000;

export interface PendingWrites {
  readonly events: OrchestratorEvent[];
  readonly outputs: StepOutputRow[];
}

/**
 * A run's events and outputs in PostgreSQL. Writes are buffered and issued in order, within 100 ms or
 * together with the run's final status, so a short run costs few round trips. A step whose outputs were
 * not written yet when its worker died simply runs again on resume (at-least-once).
 */
export class PgRunHost implements RunHost {
  private pending: PendingWrites = { events: [], outputs: [] };
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private nextCancelCheck = Date.now() + CANCEL_CHECK_INTERVAL_MS;

  constructor(
    private readonly runs: RunRepository,
    private readonly runId: string,
    private readonly cancelRequested: () => Promise<boolean>,
  ) {}

  private arm(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(() => undefined);
    }, FLUSH_DELAY_MS);
  }

  private take(): PendingWrites {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const taken = this.pending;
    this.pending = { events: [], outputs: [] };
    return taken;
  }

  record(event: OrchestratorEvent): void {
    this.pending.events.push(event);
    this.arm();
  }

  commitStep(stepKey: string, outputs: Readonly<Record<string, unknown>>): Promise<void> {
    for (const [output, value] of Object.entries(outputs)) {
      this.pending.outputs.push({ stepKey, output, value });
    }
    this.arm();
    return Promise.resolve();
  }

  flush(): Promise<void> {
    const next = this.chain.then(async () => {
      const { events, outputs } = this.take();
      await this.runs.appendEvents(this.runId, events, outputs);
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Waits for writes in flight and hands over the rest, for the run's final transition to carry. */
  async drain(): Promise<PendingWrites> {
    await this.chain;
    return this.take();
  }

  async loadOutput(stepKey: string, output: string): Promise<unknown> {
    const loaded = await this.runs.loadOutput(this.runId, stepKey, output);
    if (!loaded.found) {
      throw new Error(`output "${output}" of step "${stepKey}" is not stored for run ${this.runId}`);
    }
    return loaded.value;
  }

  async isCanceled(): Promise<boolean> {
    if (Date.now() < this.nextCancelCheck) {
      return false;
    }
    this.nextCancelCheck = Date.now() + CANCEL_CHECK_INTERVAL_MS;
    return this.cancelRequested();
  }
}
