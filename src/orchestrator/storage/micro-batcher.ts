/**
 * Gathers the calls made within one turn of the event loop into one call of `run` (one statement
 * instead of many), so concurrent launches cost one round trip to PostgreSQL, not one each. `run`
 * returns one result per input, in order; if it throws, every caller in the batch gets the error.
 *
 * The batch closes when the turn's I/O callbacks have run (`setImmediate`), not after a fixed window:
 * a busy process reads many requests per turn, so its batches grow with the load by themselves, and a
 * lone call is sent at once instead of waiting out a timer. A fixed 1 ms window held every launch and
 * every final status that long, with the process idle if nothing else was due (docs/orchestrator.md,
 * "What a run costs", has the figures).
 */
export class MicroBatcher<I, O> {
  private pending: { input: I; resolve: (output: O) => void; reject: (error: unknown) => void }[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly maxSize = 500,
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.pending.length >= this.maxSize) {
        this.flush();
      } else {
        this.scheduled ??= setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) {
      return;
    }
    this.run(batch.map((b) => b.input)).then(
      (outputs) => batch.forEach((b, i) => b.resolve(outputs[i] as O)),
      (error: unknown) => batch.forEach((b) => b.reject(error)),
    );
  }
}
