import type { OrchestratorEvent, RunHost } from '../core/index.js';
import type { RunRepository } from '../storage/run.repository.js';

/** How long recorded events may wait to be batched with the next write (bounds live-tail latency). */
const FLUSH_DELAY_MS = 100;

/**
 * A run's events and outputs in PostgreSQL. Events are buffered and written in order, either with the
 * step commit that follows them or after a short delay, so a fast step costs one round trip.
 */
export class PgRunHost implements RunHost {
  private buffer: OrchestratorEvent[] = [];
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly runs: RunRepository,
    private readonly runId: string,
    private readonly cancelRequested: () => Promise<boolean>,
  ) {}

  record(event: OrchestratorEvent): void {
    this.buffer.push(event);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(() => undefined);
    }, FLUSH_DELAY_MS);
  }

  private take(): OrchestratorEvent[] {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const events = this.buffer;
    this.buffer = [];
    return events;
  }

  private enqueue(write: () => Promise<void>): Promise<void> {
    const next = this.chain.then(write);
    this.chain = next.catch(() => undefined);
    return next;
  }

  flush(): Promise<void> {
    return this.enqueue(async () => {
      const events = this.take();
      if (events.length > 0) {
        await this.runs.appendEvents(this.runId, events);
      }
    });
  }

  commitStep(stepKey: string, outputs: Readonly<Record<string, unknown>>): Promise<void> {
    return this.enqueue(() => this.runs.commitStep(this.runId, stepKey, outputs, this.take()));
  }

  async loadOutput(stepKey: string, output: string): Promise<unknown> {
    const loaded = await this.runs.loadOutput(this.runId, stepKey, output);
    if (!loaded.found) {
      throw new Error(`output "${output}" of step "${stepKey}" is not stored for run ${this.runId}`);
    }
    return loaded.value;
  }

  isCanceled(): Promise<boolean> {
    return this.cancelRequested();
  }
}
