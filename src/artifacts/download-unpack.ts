import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Download, Fetcher, HashName } from './fetcher.js';
import { removeTree } from './fs-tree.js';
import { planUnpack } from './unpack-plan.js';
import { checkLimits, entryEnds, extract, unpack, type UnpackOptions, type UnpackResult } from './unpack.js';
import { TAIL_BYTES, parseZipDirectory, readAt, type ZipEntry } from './zip-directory.js';

/** A finished download whose unpacking may still be under way. */
export interface Fetched {
  download: Download;
  /** Whether unpacking ran alongside the download. */
  streamed: boolean;
  /** Completes the unpack into `root` (call after the checksum is verified). */
  finish(): Promise<UnpackResult>;
  /** Stops an unpack under way and waits for it; safe to call twice. */
  abandon(): Promise<void>;
}

interface DownloadUnpackOptions extends UnpackOptions {
  signal: AbortSignal;
  hashes: HashName[];
  onProgress: (bytes: number, total: number | null) => void;
}

/** How far the archive file has been written; extraction waits on it. */
class Watermark {
  private value = 0;
  private done = false;

  get complete(): boolean {
    return this.done;
  }
  private failure: { err: unknown } | undefined;
  private waiters: { at: number; resolve: () => void; reject: (err: unknown) => void }[] = [];

  advance(value: number): void {
    this.value = value;
    this.waiters = this.waiters.filter((w) => (w.at <= value ? (w.resolve(), false) : true));
  }
  wait(at: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure.err);
    if (this.done || at <= this.value) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ at, resolve, reject }));
  }
  /** The file is complete: whatever is missing now never comes (a short file reads as truncated). */
  finish(): void {
    this.done = true;
    for (const w of this.waiters.splice(0)) w.resolve();
  }
  fail(err: unknown): void {
    this.failure ??= { err };
    for (const w of this.waiters.splice(0)) w.reject(err);
  }
}

class OutsideTail extends Error {}

/**
 * The central directory from a suffix range request, before the body: with it, entries
 * are unpacked as soon as the download has passed them, instead of after it. Anything
 * unusual (a directory larger than the tail, symlinks, whose targets are entry data)
 * answers undefined and the install takes the plain path.
 */
async function headStart(tail: { total: number; start: number; data: Buffer }, o: DownloadUnpackOptions) {
  const read = async (pos: number, len: number): Promise<Buffer> => {
    const at = pos - tail.start;
    if (at < 0 || at + len > tail.data.length) throw new OutsideTail();
    return tail.data.subarray(at, at + len);
  };
  try {
    const dir = await parseZipDirectory(read, tail.total, o.maxFiles);
    if (dir.entries.some((e: ZipEntry) => e.kind === 'symlink')) return undefined;
    checkLimits(dir.entries, o);
    return { ...dir, total: tail.total, plan: planUnpack(dir.entries, new Map()) };
  } catch {
    // refusals come from the verified download, not from an unverified tail
    return undefined;
  }
}

/**
 * Downloads `url` into `archive` (hashing on the way) and unpacks it into `root`, both at
 * once when the server allows it. Resolves undefined when the URL has nothing. The caller
 * verifies the digest, then calls finish(); the downloaded file must hold exactly the
 * directory the early unpack followed, or the unpack is redone from the file.
 */
export async function downloadAndUnpack(fetcher: Fetcher, url: string, archive: string, root: string, o: DownloadUnpackOptions): Promise<Fetched | undefined> {
  const probe = await fetcher.probe(url, TAIL_BYTES, o.signal);
  const early = probe && 'tail' in probe ? await headStart(probe.tail, o) : undefined;
  if (!early) {
    // a server that ignored Range sent the whole archive: that answer is the download
    const download = await fetcher.download(url, archive, { ...o, first: probe && 'whole' in probe ? probe.whole : undefined });
    if (!download) return undefined;
    return { download, streamed: false, finish: () => unpack(archive, root, o), abandon: async () => undefined };
  }

  await fs.writeFile(archive, '');
  const reader: FileHandle = await fs.open(archive, 'r');
  const mark = new Watermark();
  const stop = new AbortController();
  const signal = AbortSignal.any([o.signal, stop.signal]);
  let restarted = false;
  let highest = 0;
  const extraction = extract(
    { fh: reader, fileSize: early.total, plan: early.plan, ends: entryEnds(early.entries, early.offset), ready: (end) => mark.wait(end), complete: () => mark.complete },
    root,
    { ...o, signal },
  );
  extraction.catch(() => undefined); // awaited in finish() or abandon()
  let closed: Promise<void> | undefined;
  const closeReader = () => (closed ??= reader.close());
  let abandoned: Promise<void> | undefined;
  const abandon = () =>
    (abandoned ??= (async () => {
      const err = new Error('unpack abandoned');
      mark.fail(err);
      stop.abort(err);
      await extraction.catch(() => undefined);
      await closeReader();
    })());

  let download: Download | undefined;
  try {
    download = await fetcher.download(url, archive, {
      ...o,
      onWritten: (bytes) => {
        // a retried download rewrites the file: what was read before cannot be trusted
        if (bytes < highest) restarted = true;
        highest = Math.max(highest, bytes);
        mark.advance(bytes);
      },
    });
  } catch (err) {
    await abandon();
    await removeTree(root);
    throw err;
  }
  if (!download) {
    await abandon();
    await removeTree(root);
    return undefined;
  }
  mark.finish();
  const got = download;
  return {
    download: got,
    streamed: true,
    abandon,
    finish: async () => {
      const same = !restarted && got.bytes === early.total && (await readAt(reader, early.offset, early.raw.length)).equals(early.raw);
      if (!same) {
        await abandon();
        await removeTree(root);
        return unpack(archive, root, o);
      }
      try {
        return await extraction;
      } finally {
        await closeReader();
      }
    },
  };
}
