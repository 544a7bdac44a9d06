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
 * Passes bytes through and reports how far along they are: rewriting one line on a terminal, or a line
 * per tenth when the output is a log file, so long transfers are visibly alive either way.
 */
export class ProgressMeter extends Transform {
  private done = 0;
  private lastTenth = 0;
  private lastDraw = 0;
  private readonly started = Date.now();

  constructor(
    private readonly total: number,
    private readonly report: (text: string) => void,
    private readonly interactive: boolean,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.done += chunk.length;
    const now = Date.now();
    if (this.interactive) {
      if (now - this.lastDraw >= 250) {
        this.lastDraw = now;
        this.report(`\r${this.describe(now)}`);
      }
    } else {
      const tenth = Math.floor((this.done / this.total) * 10);
      if (tenth > this.lastTenth && tenth < 10) {
        this.lastTenth = tenth;
        this.report(`${this.describe(now)}\n`);
      }
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.report(`${this.interactive ? '\r' : ''}${this.describe(Date.now())}\n`);
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
  private lastTenth = 0;
  private lastDraw = 0;
  private documents = 0;
  private bytes = 0;
  private readonly started = Date.now();

  constructor(
    private readonly totalBytes: number,
    private readonly report: (text: string) => void,
    private readonly interactive: boolean,
  ) {}

  update(documents: number, bytes: number, now = Date.now()): void {
    this.documents = documents;
    this.bytes = bytes;
    if (this.interactive) {
      if (now - this.lastDraw >= 250) {
        this.lastDraw = now;
        this.report(`\r${this.describe(now)}`);
      }
      return;
    }
    const tenth = this.totalBytes > 0 ? Math.floor((bytes / this.totalBytes) * 10) : 0;
    if (tenth > this.lastTenth && tenth < 10) {
      this.lastTenth = tenth;
      this.report(`${this.describe(now)}\n`);
    }
  }

  finish(now = Date.now()): void {
    this.report(`${this.interactive ? '\r' : ''}${this.describe(now, true)}\n`);
  }

  describe(now: number, done = false): string {
    const fraction = done ? 1 : this.totalBytes > 0 ? Math.min(this.bytes / this.totalBytes, 1) : 0;
    const filled = Math.round(fraction * BAR_WIDTH);
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = Math.round(this.documents / seconds);
    return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${this.documents.toLocaleString('en-US')} documents  ${rate.toLocaleString('en-US')} documents/s`;
  }
}
