import { promises as fs, type WriteStream, createWriteStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { NodeeError, errnoOf, isNodeeError, messageOf } from '../lib/errors.js';
import { planUnpack, type UnpackPlan } from './unpack-plan.js';
import { dataOffset, parseZipDirectory, readAt, type ZipEntry } from './zip-directory.js';

export interface UnpackOptions {
  maxBytes: number;
  maxFiles: number;
  /** Entries inflated at once; zlib and fs both run on libuv's pool, 4 threads by default. */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called with each batch of bytes written, for progress and metrics. */
  onBytes?: (n: number) => void;
}

export interface UnpackResult {
  files: number;
  bytes: number;
}

const inflateRaw = promisify(zlib.inflateRaw);
const crc32 = (zlib as unknown as { crc32(data: Buffer, value?: number): number }).crc32;
/** Entries up to this size are inflated in one call from one read; larger ones stream. */
const SMALL_ENTRY = 4 * 1024 * 1024;
const STREAM_CHUNK = 1024 * 1024;
const MAX_LINK_TARGET = 4096;
/** Read once: files are created with their final mode, and only a umask that hides bits costs a chmod. */
const UMASK = process.umask();

function fileMode(entry: ZipEntry): number {
  // installed trees are read-only: keep read and execute bits, never write
  return entry.mode === undefined ? 0o444 : (entry.mode & 0o555) | 0o400;
}

export function dirMode(mode: number | undefined): number {
  return mode === undefined ? 0o555 : (mode & 0o555) | 0o500;
}

function toArchiveError(err: unknown, entry: ZipEntry): unknown {
  if (isNodeeError(err)) return err;
  const code = errnoOf(err);
  if (code?.startsWith('Z_')) {
    return new NodeeError('BAD_ARCHIVE', `entry "${entry.name}" is corrupt (${messageOf(err)})`);
  }
  if (code === 'ERR_BUFFER_TOO_LARGE' || (err instanceof RangeError && /maxOutputLength|buffer/i.test(err.message))) {
    return tooBig(entry);
  }
  return err;
}

function tooBig(entry: ZipEntry): NodeeError {
  return new NodeeError('TOO_LARGE', `entry "${entry.name}" inflates past its declared ${entry.size} bytes (a decompression bomb?)`);
}

function checkResult(entry: ZipEntry, bytes: number, crc: number): void {
  if (bytes !== entry.size) throw new NodeeError('BAD_ARCHIVE', `entry "${entry.name}" inflates to ${bytes} bytes, not the ${entry.size} it declares`);
  if (crc >>> 0 !== entry.crc32) throw new NodeeError('BAD_ARCHIVE', `entry "${entry.name}" fails its CRC-32 check`);
}

/** One entry's data, whole: for small entries and symlink targets. */
async function readSmall(fh: FileHandle, fileSize: number, entry: ZipEntry, limit = fileSize): Promise<Buffer> {
  // one read for header and data: the local name and extra field are usually the central
  // ones; never past `limit`, which a streamed install has not written yet
  const guess = Math.min(limit - entry.localHeaderOffset, 30 + 1024 + entry.compressedSize);
  let buf = await readAt(fh, entry.localHeaderOffset, Math.max(30, guess));
  const start = dataOffset(entry, buf) - entry.localHeaderOffset;
  let compressed: Buffer;
  if (start + entry.compressedSize <= buf.length) compressed = buf.subarray(start, start + entry.compressedSize);
  else {
    if (entry.localHeaderOffset + start + entry.compressedSize > fileSize) throw new NodeeError('BAD_ARCHIVE', `entry "${entry.name}" is truncated`);
    compressed = await readAt(fh, entry.localHeaderOffset + start, entry.compressedSize);
  }
  let data: Buffer;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) throw new NodeeError('BAD_ARCHIVE', `stored entry "${entry.name}" has different sizes`);
    data = compressed;
  } else {
    // capped at the declared size: headers are not trusted, the inflated bytes are counted.
    // One output chunk a little larger than the entry: zlib's default 16 KiB chunks cost a
    // thread-pool round trip and a main-thread callback each.
    data = await inflateRaw(compressed, { maxOutputLength: Math.max(1, entry.size), chunkSize: Math.max(1024, entry.size + 64) });
  }
  checkResult(entry, data.length, crc32(data));
  return data;
}

/** Counts and checks bytes as they stream out of the inflater, refusing any past the declared size. */
class EntryCheck extends Transform {
  bytes = 0;
  crc = 0;
  constructor(
    private readonly entry: ZipEntry,
    private readonly onBytes: ((n: number) => void) | undefined,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.entry.size) return done(tooBig(this.entry));
    this.crc = crc32(chunk, this.crc);
    this.onBytes?.(chunk.length);
    done(null, chunk);
  }
  override _flush(done: TransformCallback): void {
    try {
      checkResult(this.entry, this.bytes, this.crc);
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}

async function extractLarge(fh: FileHandle, fileSize: number, entry: ZipEntry, dest: string, o: UnpackOptions): Promise<void> {
  const header = await readAt(fh, entry.localHeaderOffset, 30);
  const start = dataOffset(entry, header);
  if (start + entry.compressedSize > fileSize) throw new NodeeError('BAD_ARCHIVE', `entry "${entry.name}" is truncated`);
  const source = fh.createReadStream({ start, end: start + entry.compressedSize - 1, highWaterMark: STREAM_CHUNK, autoClose: false, emitClose: false });
  const check = new EntryCheck(entry, o.onBytes);
  const mode = fileMode(entry);
  const sink: WriteStream = createWriteStream(dest, { flags: 'wx', mode, highWaterMark: STREAM_CHUNK });
  const stages = entry.method === 8 ? [source, zlib.createInflateRaw({ chunkSize: 256 * 1024 }), check, sink] : [source, check, sink];
  await pipeline(stages as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream], { signal: o.signal } as object);
  if ((mode & ~UMASK) !== mode) await fs.chmod(dest, mode);
}

async function extractSmall(fh: FileHandle, fileSize: number, entry: ZipEntry, dest: string, o: UnpackOptions, limit: number): Promise<void> {
  const data = await readSmall(fh, fileSize, entry, limit);
  const mode = fileMode(entry);
  // O_EXCL: never write through something that is already there
  await fs.writeFile(dest, data, { flag: 'wx', mode });
  if ((mode & ~UMASK) !== mode) await fs.chmod(dest, mode);
  o.onBytes?.(data.length);
}

/** Runs `work` on what `next()` hands out, at most `n` at once; the first failure stops the rest. */
async function pool<T>(next: () => T | undefined, n: number, signal: AbortSignal | undefined, work: (item: T) => Promise<void>): Promise<void> {
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (!failure) {
      if (signal?.aborted) {
        failure ??= { err: signal.reason };
        return;
      }
      const item = next();
      if (item === undefined) return;
      try {
        await work(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
  if (failure) throw failure.err;
}

type Planned = UnpackPlan['files'][number];
const largestFirst = (a: Planned, b: Planned) => b.entry.compressedSize - a.entry.compressedSize;

/**
 * The order entries are extracted in. Largest first, so the long inflations overlap with
 * the many small ones; while a download is still arriving, in archive order instead, and
 * largest first again for whatever is left once it is complete.
 */
function scheduler(files: Planned[], x: Extraction): () => Planned | undefined {
  let queue = x.ready ? [...files].sort((a, b) => a.entry.localHeaderOffset - b.entry.localHeaderOffset) : [...files].sort(largestFirst);
  let at = 0;
  let following = x.ready !== undefined;
  return () => {
    if (following && x.complete?.()) {
      following = false;
      queue = queue.slice(at).sort(largestFirst);
      at = 0;
    }
    return queue[at++];
  };
}

/** Checks the limits against the central directory, before a byte is written. */
export function checkLimits(entries: ZipEntry[], o: Pick<UnpackOptions, 'maxBytes'>): void {
  const declared = entries.reduce((sum, e) => (e.kind === 'dir' ? sum : sum + e.size), 0);
  if (declared > o.maxBytes) {
    throw new NodeeError('TOO_LARGE', `the archive unpacks to ${declared} bytes, more than limits.artifactMaxBytes (${o.maxBytes})`);
  }
}

/** Where each entry's bytes end at the latest: the next entry's header, or the directory. */
export function entryEnds(entries: ZipEntry[], directoryOffset: number): Map<ZipEntry, number> {
  const byOffset = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  const ends = new Map<ZipEntry, number>();
  byOffset.forEach((e, i) => ends.set(e, byOffset[i + 1]?.localHeaderOffset ?? directoryOffset));
  return ends;
}

interface Extraction {
  fh: FileHandle;
  fileSize: number;
  plan: UnpackPlan;
  ends: Map<ZipEntry, number>;
  /** Resolves once the archive holds an entry's bytes (a streamed install); absent: all are there. */
  ready?: (end: number) => Promise<void>;
  /** Whether the streamed archive is complete. */
  complete?: () => boolean;
}

/**
 * Writes a planned archive into the new directory `root`. Everything below `root` ends
 * read-only; `root` itself stays writable, because moving a directory to a new parent
 * needs write access to it (its ".." entry changes).
 */
export async function extract(x: Extraction, root: string, o: UnpackOptions): Promise<UnpackResult> {
  await fs.mkdir(root);
  for (const d of x.plan.dirs) await fs.mkdir(path.join(root, d.path));
  let bytes = 0;
  await pool(scheduler(x.plan.files, x), o.concurrency ?? 4, o.signal, async ({ entry, path: rel }) => {
    const end = x.ends.get(entry) ?? x.fileSize;
    if (x.ready) await x.ready(end);
    const dest = path.join(root, rel);
    try {
      if (entry.size <= SMALL_ENTRY && entry.compressedSize <= SMALL_ENTRY) await extractSmall(x.fh, x.fileSize, entry, dest, o, end);
      else await extractLarge(x.fh, x.fileSize, entry, dest, o);
    } catch (err) {
      throw toArchiveError(err, entry);
    }
    bytes += entry.size;
  });
  for (const l of x.plan.links) await fs.symlink(l.target, path.join(root, l.path));
  for (const d of x.plan.dirs) await fs.chmod(path.join(root, d.path), dirMode(d.mode));
  return { files: x.plan.files.length + x.plan.links.length, bytes };
}

/** Reads the targets of the archive's symlinks (they are entry data) and plans the unpack. */
async function planArchive(fh: FileHandle, fileSize: number, entries: ZipEntry[], o: Pick<UnpackOptions, 'maxBytes'>): Promise<UnpackPlan> {
  checkLimits(entries, o);
  const targets = new Map<ZipEntry, string>();
  for (const e of entries) {
    if (e.kind !== 'symlink') continue;
    if (e.size > MAX_LINK_TARGET) throw new NodeeError('BAD_ARCHIVE', `symlink "${e.name}" has a target longer than ${MAX_LINK_TARGET} bytes`);
    targets.set(e, (await readSmall(fh, fileSize, e).catch((err: unknown) => Promise.reject(toArchiveError(err, e)))).toString('utf8'));
  }
  return planUnpack(entries, targets);
}

/** Unpacks the complete ZIP at `archive` into the new directory `root` (see extract()). */
export async function unpack(archive: string, root: string, o: UnpackOptions): Promise<UnpackResult> {
  let fh: FileHandle;
  try {
    fh = await fs.open(archive, 'r');
  } catch (err) {
    throw new NodeeError('BAD_ARCHIVE', `cannot open the downloaded archive`, { cause: err });
  }
  try {
    const { size: fileSize } = await fh.stat();
    const dir = await parseZipDirectory((pos, len) => readAt(fh, pos, len), fileSize, o.maxFiles);
    const plan = await planArchive(fh, fileSize, dir.entries, o);
    return await extract({ fh, fileSize, plan, ends: entryEnds(dir.entries, dir.offset) }, root, o);
  } finally {
    await fh.close();
  }
}
