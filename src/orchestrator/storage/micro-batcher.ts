/**
 * Gathers calls made within a short window into one call of `run` (one statement instead of many), so
 * concurrent launches cost one round trip to PostgreSQL, not one each. `run` returns one result per
 * input, in order; if it throws, every caller in the batch gets the error.
 */
export class MicroBatcher<I, O> {
  private pending: { input: I; resolve: (output: O) => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly run: (inputs: I[]) => Promise<O[]>,
    private readonly windowMs = 1,
    private readonly maxSize = 500,
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      if (this.pending.length >= this.maxSize) {
        this.flush();
      } else {
        this.timer ??= setTimeout(() => this.flush(), this.windowMs);
      }
    });
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
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
