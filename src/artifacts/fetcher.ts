import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stat } from 'node:fs/promises';
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { NodeeError, errnoOf, messageOf } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { redactUrl } from './artifact-id.js';

export type HashName = 'sha256' | 'sha1';

export interface FetchTimeouts {
  connectMs: number;
  /** Until the response headers arrive. */
  headersMs: number;
  /** Longest silence while the body flows. */
  bodyMs: number;
}

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** Long enough for a slow repository, short enough that a dead one fails an install. */
export const DEFAULT_TIMEOUTS: FetchTimeouts = { connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000 };
/** 4 attempts over about 2 s: rides out a restarting server, gives up on a dead one. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 5_000 };

export interface Download {
  bytes: number;
  digests: Partial<Record<HashName, string>>;
}

const SIDECAR_MAX = 4096;

/** A failure worth another attempt: the network or the server, never the request itself. */
class Transient extends Error {}

function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

function isTransientError(err: unknown): boolean {
  const code = errnoOf(err) ?? '';
  if (code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR' || code === 'UND_ERR_INVALID_ARG') return false;
  return code.startsWith('UND_ERR_') || code.startsWith('E') || err instanceof Transient;
}

/** Hashes and counts what flows through it. */
class Tap extends Transform {
  bytes = 0;
  constructor(
    private readonly hashes: Hash[],
    private readonly onBytes: (bytes: number) => void,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    for (const h of this.hashes) h.update(chunk);
    this.bytes += chunk.length;
    this.onBytes(this.bytes);
    done(null, chunk);
  }
}

/** Writes to a file and reports how many bytes are on it, for readers that follow the download. */
class FileSink extends Writable {
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

/**
 * Gets artifacts and their checksum sidecars over http(s) and file URLs. Transient failures
 * (refused or cut connections, timeouts, 5xx, 408, 429) are retried a bounded number of
 * times with doubling delays; "not found" (404, 410, a missing file) never is, and is an
 * answer rather than an error: the caller tries its next repository.
 */
export class Fetcher {
  private readonly agent: Agent;
  private readonly dispatcher: Dispatcher;

  constructor(
    private readonly o: { log: Logger; timeouts: FetchTimeouts; retry: RetryPolicy },
  ) {
    this.agent = new Agent({
      connect: { timeout: o.timeouts.connectMs },
      headersTimeout: o.timeouts.headersMs,
      bodyTimeout: o.timeouts.bodyMs,
    });
    // repository managers and release hosts commonly answer with a redirect to storage
    this.dispatcher = this.agent.compose(interceptors.redirect({ maxRedirections: 5 }));
  }

  /** A small text file (a sidecar), or undefined when it does not exist. */
  async text(url: string, signal: AbortSignal): Promise<string | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    const found = await this.withRetries(url, signal, async () => {
      chunks.length = 0;
      size = 0;
      const body = await this.open(url, signal);
      if (!body) return false;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > SIDECAR_MAX) {
          body.destroy();
          throw new NodeeError('REPOSITORY_ERROR', `${redactUrl(url)} is larger than ${SIDECAR_MAX} bytes: not a checksum file`);
        }
        chunks.push(chunk);
      }
      return true;
    });
    return found ? Buffer.concat(chunks).toString('utf8') : undefined;
  }

  /**
   * Streams `url` into `file`, hashing on the way so the archive is never read twice.
   * `onProgress(bytes, total)` follows the body. Resolves undefined when not found.
   */
  async download(
    url: string,
    file: string,
    o: {
      signal: AbortSignal;
      hashes: HashName[];
      onProgress: (bytes: number, total: number | null) => void;
      /** Bytes now on disk; a new attempt starts again from 0. */
      onWritten?: (bytes: number) => void;
    },
  ): Promise<Download | undefined> {
    let result: Download | undefined;
    const found = await this.withRetries(url, o.signal, async () => {
      const hashes = o.hashes.map((h) => createHash(h));
      const opened = await this.open(url, o.signal, true);
      if (!opened) return false;
      const total = opened.total;
      o.onProgress(0, total);
      const tap = new Tap(hashes, (bytes) => o.onProgress(bytes, total));
      o.onWritten?.(0);
      const fh = await open(file, 'w');
      try {
        await pipeline(opened.body, tap, new FileSink(fh, o.onWritten), { signal: o.signal });
      } finally {
        await fh.close();
      }
      if (total !== null && tap.bytes !== total) throw new Transient(`got ${tap.bytes} of ${total} bytes`);
      result = { bytes: tap.bytes, digests: Object.fromEntries(o.hashes.map((h, i) => [h, (hashes[i] as Hash).digest('hex')])) };
      return true;
    });
    return found ? result : undefined;
  }

  /**
   * The last `length` bytes of an http(s) resource through a suffix range request, or
   * undefined when the server does not do ranges or anything else goes wrong: this is only
   * a head start, the full download decides.
   */
  async tail(url: string, length: number, signal: AbortSignal): Promise<{ total: number; start: number; data: Buffer } | undefined> {
    if (!/^https?:/.test(url)) return undefined;
    try {
      const res = await request(url, { method: 'GET', dispatcher: this.dispatcher, signal, headers: { 'user-agent': 'nodee', range: `bytes=-${length}` } });
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
      if (res.statusCode !== 206 || !range) {
        // a whole body we do not want: cut it, and its abort error is expected
        res.body.on('error', () => undefined).destroy();
        return undefined;
      }
      const data = Buffer.from(await res.body.arrayBuffer());
      const start = Number(range[1]);
      if (data.length !== Number(range[2]) - start + 1) return undefined;
      return { total: Number(range[3]), start, data };
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      return undefined;
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private open(url: string, signal: AbortSignal): Promise<Readable | undefined>;
  private open(url: string, signal: AbortSignal, withTotal: true): Promise<{ body: Readable; total: number | null } | undefined>;
  private async open(url: string, signal: AbortSignal, withTotal = false): Promise<Readable | { body: Readable; total: number | null } | undefined> {
    const u = new URL(url);
    if (u.protocol === 'file:') {
      const file = fileURLToPath(u);
      const stream = createReadStream(file, { highWaterMark: 1024 * 1024 });
      // surface ENOENT here rather than mid-pipeline, so "not found" is an answer
      const size = await new Promise<number | undefined>((resolve, reject) => {
        stream.once('error', (err) => (errnoOf(err) === 'ENOENT' ? resolve(undefined) : reject(err)));
        stream.once('open', () => {
          stream.pause();
          resolve(-1);
        });
      }).catch((err: unknown) => {
        throw new NodeeError('REPOSITORY_ERROR', `cannot read ${u.pathname} (${errnoOf(err) ?? messageOf(err)})`);
      });
      if (size === undefined) return undefined;
      const { size: total } = await stat(file);
      return withTotal ? { body: stream, total } : stream;
    }
    const res = await request(url, { method: 'GET', dispatcher: this.dispatcher, signal, headers: { 'user-agent': 'nodee' } });
    if (res.statusCode === 404 || res.statusCode === 410) {
      await res.body.dump();
      return undefined;
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      await res.body.dump().catch(() => undefined);
      const message = `${redactUrl(url)} answered HTTP ${res.statusCode}`;
      if (isTransientStatus(res.statusCode)) throw new Transient(message);
      throw new NodeeError('REPOSITORY_ERROR', message);
    }
    const length = Number(res.headers['content-length']);
    return withTotal ? { body: res.body, total: Number.isFinite(length) && length >= 0 ? length : null } : res.body;
  }

  private async withRetries(url: string, signal: AbortSignal, attempt: () => Promise<boolean>): Promise<boolean> {
    const { attempts, baseDelayMs, maxDelayMs } = this.o.retry;
    for (let n = 1; ; n++) {
      signal.throwIfAborted();
      try {
        return await attempt();
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        // a local file's errors (EISDIR, EACCES) do not heal by waiting
        if (err instanceof NodeeError || url.startsWith('file:') || !isTransientError(err)) {
          if (err instanceof NodeeError) throw err;
          throw new NodeeError('REPOSITORY_ERROR', `${redactUrl(url)}: ${messageOf(err)}`, { cause: err });
        }
        const reason = messageOf(err) || errnoOf(err) || 'error';
        if (n >= attempts) {
          throw new NodeeError('REPOSITORY_ERROR', `${redactUrl(url)} failed ${attempts} times; last: ${reason}`, { cause: err });
        }
        const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 1));
        this.o.log.warn({ url: redactUrl(url), attempt: n, delayMs: delay, err: reason }, 'download failed; retrying');
        await sleep(delay, undefined, { signal });
      }
    }
  }
}
