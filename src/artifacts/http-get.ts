import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { NodeeError } from '../lib/errors.js';
import { redactUrl } from './artifact-id.js';

/**
 * One GET over node:http(s), following redirects. Not undici: undici 7's HTTP/1 parser
 * pauses under backpressure (a body read slower than the network, or not read at all) and
 * throws an uncatchable `assert(!this.paused)` when the server then closes the connection
 * (nodejs/undici#5360, fixed only in undici 8, which needs Node 22). That takes the daemon
 * down on any repository that answers `Connection: close` while the disk is slower than the
 * network. node:http applies backpressure by pausing the socket, which survives a close.
 */

export interface GetTimeouts {
  connectMs: number;
  /** From the connection to the response headers. */
  headersMs: number;
  /** Longest silence on the socket while the body flows. */
  bodyMs: number;
}

export interface GetResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Must be read to the end or destroyed. */
  body: IncomingMessage;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * Less than this in a whole body window is no progress: a server that drips a byte a
 * second is never silent for long, so silence alone would let it hold an install forever.
 * 16 KiB a minute (the default window) is far below any real link.
 */
const MIN_PROGRESS_BYTES = 16 * 1024;

/** A timeout: transient (a retry may find the server awake). */
export class TimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
}

export async function httpGet(url: string, o: { signal: AbortSignal; headers: Record<string, string>; timeouts: GetTimeouts }): Promise<GetResponse> {
  let at = new URL(url);
  for (let hops = 0; ; hops++) {
    const res = await getOnce(at, o);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode ?? 0) || location === undefined) return { status: res.statusCode ?? 0, headers: res.headers, body: res };
    res.destroy();
    // a redirect can never become a local file, nor loop forever: the same answer comes on a retry
    if (hops >= MAX_REDIRECTS) throw new NodeeError('REPOSITORY_ERROR', `${redactUrl(url)}: more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, at);
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new NodeeError('REPOSITORY_ERROR', `${redactUrl(url)} redirects to a ${next.protocol} URL; only http and https are followed`);
    }
    at = next;
  }
}

function getOnce(url: URL, o: { signal: AbortSignal; headers: Record<string, string>; timeouts: GetTimeouts }): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const get = url.protocol === 'https:' ? https.get : http.get;
    // agent: false, one connection per request: nothing of a hostile answer outlives its request
    const req = get(url, { agent: false, headers: o.headers, signal: o.signal });
    let response: IncomingMessage | undefined;
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number, what: string) => {
      clearTimeout(timer);
      timer = setTimeout(() => req.destroy(new TimeoutError(`${redactUrl(url.href)}: no ${what} in ${ms} ms`)), ms);
    };
    // stays for the request's life: an error after the headers belongs to the body
    req.on('error', (err) => {
      clearTimeout(timer);
      if (!response) reject(err);
      else if (!response.complete) response.destroy(err);
    });
    req.on('close', () => clearTimeout(timer));
    arm(o.timeouts.connectMs, 'connection');
    req.once('socket', (socket) => {
      const connected = () => arm(o.timeouts.headersMs, 'response headers');
      if (socket.connecting) socket.once('connect', connected);
      else connected();
    });
    req.once('response', (res) => {
      clearTimeout(timer);
      response = res;
      // whoever reads the body sees its error (a destroyed stream keeps it); until then
      // an error with no listener would be an uncaught exception
      res.on('error', () => undefined);
      watchProgress(res, url, o.timeouts.bodyMs);
      resolve(res);
    });
  });
}

/**
 * Fails the body when a window of `ms` brings less than MIN_PROGRESS_BYTES, unless the
 * wait is ours: node:http pauses the socket while the reader is behind (a slow disk).
 */
function watchProgress(res: IncomingMessage, url: URL, ms: number): void {
  const socket = res.socket;
  let last = socket.bytesRead;
  const timer = setInterval(() => {
    const read = socket.bytesRead;
    const ours = res.readableLength > 0 || socket.isPaused();
    if (!ours && read - last < MIN_PROGRESS_BYTES) res.destroy(new TimeoutError(`${redactUrl(url.href)}: less than ${MIN_PROGRESS_BYTES} bytes in ${ms} ms`));
    last = read;
  }, ms);
  timer.unref();
  res.once('close', () => clearInterval(timer));
}
