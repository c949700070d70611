import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';

/**
 * Reading response bodies. Every body the fetcher opens ends in one of these, or in
 * discard(): a body left neither read nor destroyed holds a connection (and, with some
 * HTTP clients, a parser) in a state nobody owns.
 */

/** Drops a body we do not want; safe on one already ended or destroyed. */
export function discard(body: Readable): void {
  body.on('error', () => undefined).destroy();
}

/**
 * Counts, hashes and caps what flows through it: past `max` bytes the stream fails with
 * `tooLarge()`, so a body without end never reaches the disk beyond the cap.
 */
export class Meter extends Transform {
  bytes = 0;
  constructor(
    private readonly o: { max: number; tooLarge: () => Error; hashes?: Hash[]; onBytes?: (bytes: number) => void },
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.o.max) return done(this.o.tooLarge());
    for (const h of this.o.hashes ?? []) h.update(chunk);
    this.o.onBytes?.(this.bytes);
    done(null, chunk);
  }
}

/** A whole (small) body in memory, at most `max` bytes; the body is destroyed on any failure. */
export async function readAll(body: Readable, max: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (err) {
    discard(body);
    throw err;
  }
  return Buffer.concat(chunks);
}

/** Writes to a file and reports how many bytes are on it, for readers that follow the download. */
export class FileSink extends Writable {
  written = 0;
  constructor(
    private readonly fh: FileHandle,
    private readonly onWritten: ((bytes: number) => void) | undefined,
  ) {
    super({ highWaterMark: 1024 * 1024 });
  }
  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    this.fh.writev(buffers).then(({ bytesWritten }) => {
      this.written += bytesWritten;
      this.onWritten?.(this.written);
      done();
    }, done);
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this._writev([{ chunk }], done);
  }
}
