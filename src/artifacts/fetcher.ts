import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { NodeeError, errnoOf, messageOf } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { redactUrl } from './artifact-id.js';
import { FileSink, Meter, discard, readAll } from './body.js';
import { httpGet, type GetTimeouts } from './http-get.js';

export type HashName = 'sha256' | 'sha1';

export type FetchTimeouts = GetTimeouts;

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

/** An open 2xx body with what its headers say; whoever holds one must read or discard() it. */
export interface Opened {
  status: number;
  body: Readable;
  /** The length of `body` when known (never for a decoded body). */
  total: number | null;
  contentRange: string | undefined;
  /** The server applied a Content-Encoding we decode: byte ranges do not apply to `body`. */
  decoded: boolean;
}

/** What a suffix range request got: the tail, or the whole archive from a server that ignores Range. */
export type Probe = { tail: { total: number; start: number; data: Buffer } } | { whole: Opened };

const SIDECAR_MAX = 4096;

/** A failure worth another attempt: the network or the server, never the request itself. */
class Transient extends Error {}

function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * The network errors a retry may heal. Everything else (TLS certificates, HTTP parse
 * errors such as oversized headers, a corrupt gzip stream) answers the same the next time.
 */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ERR_STREAM_PREMATURE_CLOSE',
]);

function isTransientError(err: unknown): boolean {
  return err instanceof Transient || TRANSIENT_CODES.has(errnoOf(err) ?? '');
}

/** A URL that can never work is the request's fault (400), checked before any attempt. */
function checkUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new NodeeError('BAD_REQUEST', `${redactUrl(url)} is not a valid URL`);
  }
  if (!['http:', 'https:', 'file:'].includes(u.protocol)) throw new NodeeError('BAD_REQUEST', `${redactUrl(url)}: only http, https and file URLs are supported`);
  return u;
}

/**
 * Gets artifacts and their checksum sidecars over http(s) and file URLs. Transient failures
 * (refused or cut connections, timeouts, 5xx, 408, 429) are retried a bounded number of
 * times with doubling delays; "not found" (404, 410, a missing file) never is, and is an
 * answer rather than an error: the caller tries its next repository. No download passes
 * `maxBytes` (TOO_LARGE), whoever calls.
 */
export class Fetcher {
  /** Ends whatever is in flight on close(). */
  private readonly closer = new AbortController();

  constructor(
    private readonly o: { log: Logger; timeouts: FetchTimeouts; retry: RetryPolicy; maxBytes: number },
  ) {}

  /** A small text file (a sidecar), or undefined when it does not exist. */
  async text(url: string, signal: AbortSignal): Promise<string | undefined> {
    const data = await this.withRetries(url, signal, async () => {
      const opened = await this.open(url, signal);
      if (!opened) return undefined;
      const tooLarge = () => new NodeeError('REPOSITORY_ERROR', `${redactUrl(url)} is larger than ${SIDECAR_MAX} bytes: not a checksum file`);
      return readAll(opened.body, SIDECAR_MAX, tooLarge);
    });
    return data?.toString('utf8');
  }

  /**
   * Streams `url` into `file`, hashing on the way so the archive is never read twice.
   * `onProgress(bytes, total)` follows the body. Resolves undefined when not found.
   * `first` is a response already open for this URL (a range request the server answered
   * with the whole body): it is the first attempt, and is discarded if never used.
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
      first?: Opened | undefined;
    },
  ): Promise<Download | undefined> {
    let first = o.first;
    try {
      return await this.withRetries(url, o.signal, async () => {
        const opened = first ?? (await this.open(url, o.signal));
        first = undefined;
        if (!opened) return undefined;
        try {
          return await this.save(url, opened, file, o);
        } finally {
          discard(opened.body);
        }
      });
    } finally {
      if (first) discard(first.body);
    }
  }

  /**
   * The last `length` bytes of an http(s) resource through a suffix range request. A
   * server that ignores Range answers with the whole body: that is returned open, to be the
   * download itself. Undefined when anything else happens: this is only a head start, the
   * download decides.
   */
  async probe(url: string, length: number, signal: AbortSignal): Promise<Probe | undefined> {
    if (!/^https?:/.test(url)) return undefined;
    let opened: Opened | undefined;
    try {
      opened = await this.open(url, signal, `bytes=-${length}`);
    } catch {
      if (signal.aborted) throw signal.reason;
      return undefined;
    }
    if (!opened) return undefined;
    if (opened.status === 200) return { whole: opened };
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(opened.contentRange ?? '');
    if (opened.status !== 206 || !range || opened.decoded) {
      discard(opened.body);
      return undefined;
    }
    const start = Number(range[1]);
    let data: Buffer;
    try {
      data = await readAll(opened.body, length, () => new Error('range answer longer than asked'));
    } catch {
      if (signal.aborted) throw signal.reason;
      return undefined;
    }
    if (data.length !== Number(range[2]) - start + 1) return undefined;
    return { tail: { total: Number(range[3]), start, data } };
  }

  close(): Promise<void> {
    this.closer.abort(new NodeeError('INTERNAL', 'the fetcher is closed'));
    return Promise.resolve();
  }

  private tooLarge(url: string): NodeeError {
    return new NodeeError('TOO_LARGE', `${redactUrl(url)} is larger than ${this.o.maxBytes} bytes (limits.artifactMaxBytes)`);
  }

  private async save(url: string, opened: Opened, file: string, o: Parameters<Fetcher['download']>[2]): Promise<Download> {
    const { total } = opened;
    // refused before a byte is written when the server says so; counted otherwise
    if (total !== null && total > this.o.maxBytes) throw this.tooLarge(url);
    const hashes: Hash[] = o.hashes.map((h) => createHash(h));
    o.onProgress(0, total);
    o.onWritten?.(0);
    const meter = new Meter({ max: this.o.maxBytes, tooLarge: () => this.tooLarge(url), hashes, onBytes: (bytes) => o.onProgress(bytes, total) });
    const fh = await open(file, 'w');
    try {
      await pipeline(opened.body, meter, new FileSink(fh, o.onWritten), { signal: o.signal });
    } finally {
      await fh.close();
    }
    if (total !== null && meter.bytes !== total) throw new Transient(`got ${meter.bytes} of ${total} bytes`);
    return { bytes: meter.bytes, digests: Object.fromEntries(o.hashes.map((h, i) => [h, (hashes[i] as Hash).digest('hex')])) };
  }

  /** A 2xx body, or undefined for "not found"; every other answer's body is discarded here. */
  private async open(url: string, signal: AbortSignal, range?: string): Promise<Opened | undefined> {
    const u = new URL(url);
    if (u.protocol === 'file:') return openFile(u);
    const res = await httpGet(url, {
      signal: AbortSignal.any([signal, this.closer.signal]),
      // we never ask for an encoding; a server that sends one anyway is decoded below
      headers: { 'user-agent': 'nodee', 'accept-encoding': 'identity', ...(range ? { range } : {}) },
      timeouts: this.o.timeouts,
    });
    if (res.status === 404 || res.status === 410) {
      discard(res.body);
      return undefined;
    }
    if (res.status < 200 || res.status >= 300) {
      discard(res.body);
      const message = `${redactUrl(url)} answered HTTP ${res.status}`;
      if (isTransientStatus(res.status)) throw new Transient(message);
      throw new NodeeError('REPOSITORY_ERROR', message);
    }
    const contentRange = res.headers['content-range'];
    const encoding = (res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding === 'gzip' || encoding === 'x-gzip') {
      // a gzip bomb is capped like any body: the Meter counts what comes out of the gunzip
      const gunzip = createGunzip();
      pipeline(res.body, gunzip).catch(() => undefined); // an error reaches the reader through gunzip
      return { status: res.status, body: gunzip, total: null, contentRange, decoded: true };
    }
    if (encoding !== 'identity') {
      discard(res.body);
      throw new NodeeError('REPOSITORY_ERROR', `${redactUrl(url)} answered with Content-Encoding "${encoding}"; only gzip is decoded`);
    }
    const length = Number(res.headers['content-length']);
    return { status: res.status, body: res.body, total: Number.isFinite(length) && length >= 0 ? length : null, contentRange, decoded: false };
  }

  private async withRetries<T>(url: string, signal: AbortSignal, attempt: () => Promise<T>): Promise<T> {
    const u = checkUrl(url);
    const { attempts, baseDelayMs, maxDelayMs } = this.o.retry;
    for (let n = 1; ; n++) {
      signal.throwIfAborted();
      try {
        return await attempt();
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (err instanceof NodeeError) throw err;
        // a local file's errors (EISDIR, EACCES) do not heal by waiting
        if (u.protocol === 'file:' || !isTransientError(err)) {
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

/**
 * A regular file, or undefined when it does not exist. Anything else (a device such as
 * /dev/zero, a FIFO, a directory) is refused: it has no end, may block forever, or is no
 * archive. O_NONBLOCK so that opening a FIFO without a writer cannot hang the install.
 */
async function openFile(u: URL): Promise<Opened | undefined> {
  const file = fileURLToPath(u);
  let fh: FileHandle;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw new NodeeError('REPOSITORY_ERROR', `cannot read ${u.pathname} (${errnoOf(err) ?? messageOf(err)})`);
  }
  const st = await fh.stat().catch(async (err: unknown) => {
    await fh.close();
    throw err;
  });
  if (!st.isFile()) {
    await fh.close();
    throw new NodeeError('BAD_REQUEST', `${u.pathname} is not a regular file`);
  }
  return { status: 200, body: fh.createReadStream({ highWaterMark: 1024 * 1024 }), total: st.size, contentRange: undefined, decoded: false };
}
