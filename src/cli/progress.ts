import { Transform, type TransformCallback } from 'node:stream';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * When a progress line is worth writing: redrawn in place at most four times a second on a terminal,
 * or one line per tenth done when the output is a log file.
 */
class ProgressLine {
  private lastTenth = 0;
  private lastDraw = 0;

  constructor(
    private readonly report: (text: string) => void,
    private readonly interactive: boolean,
  ) {}

  update(fraction: number, now: number, describe: () => string): void {
    if (this.interactive) {
      if (now - this.lastDraw >= 250) {
        this.lastDraw = now;
        this.report(`\r${describe()}`);
      }
      return;
    }
    const tenth = Math.floor(fraction * 10);
    if (tenth > this.lastTenth && tenth < 10) {
      this.lastTenth = tenth;
      this.report(`${describe()}\n`);
    }
  }

  finish(text: string): void {
    this.report(`${this.interactive ? '\r' : ''}${text}\n`);
  }
}

/**
 * Passes bytes through and reports how far along they are: rewriting one line on a terminal, or a line
 * per tenth when the output is a log file, so long transfers are visibly alive either way.
 */
export class ProgressMeter extends Transform {
  private done = 0;
  private readonly line: ProgressLine;
  private readonly started = Date.now();

  constructor(
    private readonly total: number,
    report: (text: string) => void,
    interactive: boolean,
  ) {
    super();
    this.line = new ProgressLine(report, interactive);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.done += chunk.length;
    const now = Date.now();
    this.line.update(this.done / this.total, now, () => this.describe(now));
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.line.finish(this.describe(Date.now()));
    callback();
  }

  private describe(now: number): string {
    const percent = this.total > 0 ? Math.floor((this.done / this.total) * 100) : 100;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    return `${String(percent).padStart(3)}%  ${formatBytes(this.done)} of ${formatBytes(this.total)}  ${formatBytes(this.done / seconds)}/s`;
  }
}

const BAR_WIDTH = 24;

/**
 * Progress of a document import: a bar over the compressed bytes read (the only total known before the
 * end), with documents and documents per second. Redrawn at most four times a second on a terminal; a
 * line per tenth in a log file.
 */
export class DocumentProgress {
  private documents = 0;
  private bytes = 0;
  private readonly line: ProgressLine;
  private readonly started = Date.now();

  constructor(
    private readonly totalBytes: number,
    report: (text: string) => void,
    interactive: boolean,
  ) {
    this.line = new ProgressLine(report, interactive);
  }

  update(documents: number, bytes: number, now = Date.now()): void {
    this.documents = documents;
    this.bytes = bytes;
    this.line.update(this.totalBytes > 0 ? bytes / this.totalBytes : 0, now, () => this.describe(now));
  }

  finish(now = Date.now()): void {
    this.line.finish(this.describe(now, true));
  }

  describe(now: number, done = false): string {
    const fraction = done ? 1 : this.totalBytes > 0 ? Math.min(this.bytes / this.totalBytes, 1) : 0;
    const filled = Math.round(fraction * BAR_WIDTH);
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = Math.round(this.documents / seconds);
    return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${this.documents.toLocaleString('en-US')} documents  ${rate.toLocaleString('en-US')} documents/s`;
  }
}
