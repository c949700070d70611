import { promises as fs } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';

const CHUNK = 64 * 1024;
const FOLLOW_POLL_MS = 200;

/** Byte offset where the last `lines` lines of the file start (0 for the whole file). */
async function tailOffset(fh: fs.FileHandle, size: number, lines: number): Promise<number> {
  if (lines <= 0) return size;
  let pos = size;
  let newlines = 0;
  // a final newline ends the last line; it does not start an empty one
  let skipLast = true;
  const buf = Buffer.alloc(CHUNK);
  while (pos > 0) {
    const len = Math.min(CHUNK, pos);
    pos -= len;
    await fh.read(buf, 0, len, pos);
    for (let i = len - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) {
        skipLast = false;
        continue;
      }
      if (skipLast) {
        skipLast = false;
        continue;
      }
      if (++newlines === lines) return pos + i + 1;
    }
  }
  return 0;
}

/**
 * A service log as a text stream: the last `tail` lines (all when undefined), then with
 * `follow` every line appended later, across rotations, until `destroy()` (the client
 * went away). A rotation shows as the file shrinking below what was sent: the rest of
 * the old content is read from `.1`, which the copy made, then the new file from 0.
 */
export function readLog(file: string, o: { tail?: number | undefined; follow: boolean }): Readable {
  const out = new PassThrough();
  let closed = false;
  out.on('close', () => (closed = true));

  const copy = async (path: string, from: number, to: number): Promise<void> => {
    if (to <= from) return;
    const fh = await fs.open(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(CHUNK, to - from));
      for (let pos = from; pos < to && !closed; ) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - pos), pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        if (!out.write(Buffer.from(buf.subarray(0, bytesRead)))) await new Promise((r) => out.once('drain', r).once('close', r));
      }
    } finally {
      await fh.close();
    }
  };

  const run = async (): Promise<void> => {
    let offset = 0;
    let size = 0;
    try {
      const fh = await fs.open(file, 'r');
      try {
        size = (await fh.stat()).size;
        offset = o.tail === undefined ? 0 : await tailOffset(fh, size, o.tail);
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await copy(file, offset, size);
    offset = size;
    if (!o.follow) return;
    while (!closed) {
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
      const now = await fs.stat(file).then((s) => s.size, () => 0);
      if (now < offset) {
        const rotated = await fs.stat(`${file}.1`).then((s) => s.size, () => 0);
        if (rotated >= offset) await copy(`${file}.1`, offset, rotated);
        offset = 0;
      }
      if (now > offset) {
        await copy(file, offset, now);
        offset = now;
      }
    }
  };

  run().then(
    () => out.end(),
    (err: unknown) => out.destroy(err as Error),
  );
  return out;
}
