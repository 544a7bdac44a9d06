import { StringDecoder } from 'node:string_decoder';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';

/** What an export file is named after, and how a file name maps back to its collection. */
export const EXPORT_SUFFIX = '.jsonl.gz';
export const EXPORT_MIME_TYPE = 'application/gzip';
export const EXPORT_OBJECT_TYPE = 'metadata-export';
export const EXPORT_BUNDLE_PREFIX = 'metadata-export-';

/** Lines are gathered into chunks of about this size: one write per document would dominate the cost. */
const CHUNK_BYTES = 64 * 1024;

export function exportFileName(collection: string): string {
  return `${collection}${EXPORT_SUFFIX}`;
}

/** The collection a file name `<collection>.jsonl.gz` (possibly with a directory) holds, if it has that shape. */
export function collectionOfFileName(fileName: string): string | undefined {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  if (!base.endsWith(EXPORT_SUFFIX)) {
    return undefined;
  }
  const collection = base.slice(0, -EXPORT_SUFFIX.length);
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(collection) ? collection : undefined;
}

/**
 * `metadata-export-20240101T030000Z`: a DRS portable name (no colons), which sorts like the time it names.
 */
export function exportBundleName(exportedAt: Date): string {
  const stamp = exportedAt
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `${EXPORT_BUNDLE_PREFIX}${stamp}`;
}

export function exportDescription(collection: string, documents: number, exportedAt: Date): string {
  return `Export of the ${collection} metadata collection at ${exportedAt.toISOString()}: ${documents} document(s), one JSON object per line, ordered by id`;
}

export interface CountingStream {
  readonly stream: Readable;
  /** Documents written so far; final once the stream has ended. */
  readonly documents: () => number;
}

/**
 * Documents → JSON lines → gzip, pulled by whoever reads the stream, so memory holds one chunk and one
 * driver batch however large the collection. zlib writes mtime 0 and no file name into the gzip header,
 * which keeps the bytes (and so the checksums) a function of the documents alone.
 */
export function gzipJsonLines(documents: AsyncIterable<unknown> | Iterable<unknown>): CountingStream {
  let count = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    let pending: string[] = [];
    let pendingBytes = 0;
    for await (const doc of documents) {
      const line = `${JSON.stringify(doc)}\n`;
      pending.push(line);
      pendingBytes += line.length;
      count += 1;
      if (pendingBytes >= CHUNK_BYTES) {
        yield Buffer.from(pending.join(''), 'utf8');
        pending = [];
        pendingBytes = 0;
      }
    }
    if (pending.length > 0) {
      yield Buffer.from(pending.join(''), 'utf8');
    }
  }
  const gzip = createGzip();
  const source = Readable.from(chunks(), { objectMode: false });
  source.on('error', (error) => gzip.destroy(error));
  // A reader that gives up (a canceled run, a failed write) must not leave the database cursor open:
  // destroying the source returns the generator, whose `finally` closes it.
  gzip.on('close', () => source.destroy());
  source.pipe(gzip);
  return { stream: gzip, documents: () => count };
}

/** One line of an export: its parsed document, or why it could not be read. */
export type ExportLine =
  { readonly line: number; readonly document: unknown } | { readonly line: number; readonly error: string };

/** Splits bytes into lines without decoding a line twice or holding more than one partial line. */
class LineSplitter extends Transform {
  private rest = '';
  // A chunk may end inside a multi-byte character; the decoder holds those bytes for the next chunk.
  private readonly decoder = new StringDecoder('utf8');

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const text = this.rest + this.decoder.write(chunk);
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) {
      this.push(line);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const last = this.rest + this.decoder.end();
    if (last.length > 0) {
      this.push(last);
    }
    callback();
  }
}

/**
 * Reads a gzipped JSON-lines stream back into documents, line by line. Blank lines are skipped; a line
 * that is not a JSON object is reported (with its 1-based number) rather than ending the read, so an
 * import can count it as invalid and go on. A corrupt gzip stream fails the iteration.
 */
export async function* readGzipJsonLines(source: Readable): AsyncGenerator<ExportLine> {
  const gunzip = createGunzip();
  const splitter = new LineSplitter();
  source.on('error', (error) => gunzip.destroy(error));
  gunzip.on('error', (error) => splitter.destroy(error));
  source.pipe(gunzip).pipe(splitter);
  let number = 0;
  for await (const line of splitter as AsyncIterable<string>) {
    number += 1;
    if (line.trim() === '') {
      continue;
    }
    try {
      const document: unknown = JSON.parse(line);
      if (typeof document !== 'object' || document === null || Array.isArray(document)) {
        yield { line: number, error: 'is not a JSON object' };
      } else {
        yield { line: number, document };
      }
    } catch (error) {
      yield { line: number, error: `is not valid JSON (${(error as Error).message})` };
    }
  }
}
