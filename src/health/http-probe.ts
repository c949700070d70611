import net from 'node:net';

/**
 * The http check's client: GET over one kept TCP connection per checked port, with a small
 * HTTP/1.1 response reader of its own. Node's http client costs ~200 µs of CPU a request
 * (parser, agent, streams, events), which is a fifth of a core for 1,000 checks a second; a
 * check needs only the status line and the end of the response, so it reads just that.
 *
 * What the server sends is not trusted: the head is at most 16 KiB, a body is read (and
 * thrown away) up to 64 KiB and the connection is then dropped, chunk sizes and lengths are
 * checked, anything that is not HTTP/1.x ends the check as failed and the connection with it.
 * A connection is reused only after a complete response that does not say `Connection: close`.
 */

const HEAD_MAX = 16 * 1024;
/** An idle kept connection is closed after this long: a service no longer checked holds none of ours. */
const IDLE_MS = 5000;

/**
 * Idle kept connections by port, newest last. Usually one (a service's check never overlaps
 * itself), more when several checks share a port; at most IDLE_PER_PORT are kept.
 */
const idle = new Map<number, net.Socket[]>();
const IDLE_PER_PORT = 64;

export interface HttpAnswer {
  status: number;
}

/**
 * One GET; resolves the final status, rejects with the socket error or a reason. `bodyMax`:
 * past this many body bytes the answer is given and the connection dropped. The returned
 * `cancel` drops the connection (the caller's timeout or abort).
 */
export function httpGet(host: string, port: number, path: string, bodyMax: number): { answer: Promise<HttpAnswer>; cancel: () => void } {
  let socket: net.Socket | undefined;
  let done = false;
  const answer = new Promise<HttpAnswer>((resolve, reject) => {
    const attempt = (reused: net.Socket | undefined): void => {
      const s = reused ?? net.connect({ host, port });
      socket = s;
      s.setTimeout(0);
      s.removeAllListeners('timeout');
      const reader = new ResponseReader(bodyMax);
      let got = false;
      const finish = (err: Error | undefined, result?: { status: number; reusable: boolean }): void => {
        if (done) return;
        s.removeListener('data', onData);
        s.removeListener('error', onError);
        s.removeListener('close', onClose);
        // a kept connection the server closed just as we reused it says nothing of its health
        if (err && reused && !got) {
          s.destroy();
          return attempt(undefined);
        }
        done = true;
        if (err || !result) {
          s.destroy();
          return reject(err ?? new Error('no response'));
        }
        if (result.reusable) keep(port, s);
        else s.destroy();
        resolve({ status: result.status });
      };
      const onData = (chunk: Buffer): void => {
        got = true;
        const r = reader.feed(chunk);
        if (r === 'more') return;
        if (typeof r === 'string') return finish(new Error(r));
        finish(undefined, r);
      };
      const onError = (err: Error): void => finish(err);
      const onClose = (): void => {
        const r = reader.closed();
        if (typeof r === 'string') finish(got ? new Error(r) : Object.assign(new Error('connection closed'), { code: 'ECONNRESET' }));
        else finish(undefined, r);
      };
      s.on('data', onData);
      s.on('error', onError);
      s.on('close', onClose);
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUser-Agent: nodee-health\r\nAccept: */*\r\n\r\n`);
    };
    attempt(take(port));
  });
  return {
    answer,
    cancel: () => {
      if (done) return;
      done = true;
      socket?.destroy();
    },
  };
}

/** Connections given their idle-time listeners already (a kept connection is kept again and again). */
const watched = new WeakSet<net.Socket>();

/** The newest idle connection to `port`, if one is left. */
function take(port: number): net.Socket | undefined {
  const list = idle.get(port);
  let s = list?.pop();
  while (s?.destroyed) s = list!.pop();
  if (list && list.length === 0) idle.delete(port);
  return s;
}

function keep(port: number, s: net.Socket): void {
  const list = idle.get(port) ?? [];
  if (list.length >= IDLE_PER_PORT) {
    s.destroy();
    return;
  }
  list.push(s);
  idle.set(port, list);
  s.setTimeout(IDLE_MS, () => s.destroy());
  if (watched.has(s)) return;
  watched.add(s);
  // a kept connection the server closes goes at once, and an error while idle is nobody's business
  s.on('close', () => {
    const now = idle.get(port);
    const at = now?.indexOf(s) ?? -1;
    if (at >= 0) now!.splice(at, 1);
    if (now && now.length === 0) idle.delete(port);
  });
  s.on('error', () => undefined);
}

type Feed = 'more' | string | { status: number; reusable: boolean };

/** The response, bytes in, as far as a check cares: the final status and where it ends. */
class ResponseReader {
  private head: Buffer = Buffer.alloc(0);
  private status = 0;
  private reusable = true;
  /** Body bytes still expected (Content-Length), or 'chunked', or 'close' (read to the end). */
  private body: number | 'chunked' | 'close' | undefined;
  private bodyRead = 0;
  /** Chunked: the bytes not yet parsed. */
  private pending: Buffer = Buffer.alloc(0);
  /** Chunked: data bytes (and their CRLF) still to skip; -1 a size line next, -2 in the trailer. */
  private chunkLeft = -1;

  constructor(private readonly bodyMax: number) {}

  feed(chunk: Buffer): Feed {
    if (this.body === undefined) {
      this.head = Buffer.concat([this.head, chunk]);
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0 ? this.head.length > HEAD_MAX : end > HEAD_MAX) return 'response head over 16 KiB';
      if (end < 0) return 'more';
      const rest = this.head.subarray(end + 4);
      const problem = this.parseHead(this.head.subarray(0, end).toString('latin1'));
      if (problem) return problem;
      // 1xx: an interim answer, the real one follows
      if (this.status < 200) {
        this.body = undefined;
        this.head = Buffer.alloc(0);
        return rest.length > 0 ? this.feed(rest) : 'more';
      }
      return this.feedBody(rest);
    }
    return this.feedBody(chunk);
  }

  closed(): Feed {
    if (this.body === 'close') return { status: this.status, reusable: false };
    return 'connection closed before the response ended';
  }

  private parseHead(text: string): string | undefined {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
    if (!m) return 'not an HTTP/1.x response';
    this.status = Number(m[2]);
    this.reusable = m[1] === '1';
    let length: number | undefined;
    let chunked = false;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) return 'a malformed header';
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim().toLowerCase();
      if (name === 'content-length') {
        if (!/^\d{1,15}$/.test(value) || (length !== undefined && length !== Number(value))) return 'a bad Content-Length';
        length = Number(value);
      } else if (name === 'transfer-encoding') chunked = value.split(',').map((v) => v.trim()).includes('chunked');
      else if (name === 'connection' && value.split(',').map((v) => v.trim()).includes('close')) this.reusable = false;
    }
    // 204 and 304 have no body whatever the headers say
    if (this.status === 204 || this.status === 304) this.body = 0;
    else if (chunked) this.body = 'chunked';
    else if (length !== undefined) this.body = length;
    else {
      this.body = 'close';
      this.reusable = false;
    }
    return undefined;
  }

  private feedBody(chunk: Buffer): Feed {
    const answer = { status: this.status, reusable: this.reusable };
    this.bodyRead += chunk.length;
    // more body than a check reads: the status is the verdict, the connection is dropped
    if (this.bodyRead > this.bodyMax) return { status: this.status, reusable: false };
    if (this.body === 'close') return 'more';
    if (typeof this.body === 'number') {
      if (chunk.length > this.body) return { status: this.status, reusable: false };
      this.body -= chunk.length;
      return this.body === 0 ? answer : 'more';
    }
    return this.feedChunks(chunk, answer);
  }

  /** Chunked encoding: size line, data, CRLF … up to the 0 chunk and the trailer's empty line. */
  private feedChunks(chunk: Buffer, answer: { status: number; reusable: boolean }): Feed {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      if (this.chunkLeft === -1) {
        const eol = this.pending.indexOf('\r\n');
        if (eol < 0) return this.pending.length > 1024 ? 'a bad chunk size line' : 'more';
        const size = /^([0-9a-fA-F]{1,8})(?:;.*)?$/.exec(this.pending.subarray(0, eol).toString('latin1'));
        if (!size) return 'a bad chunk size line';
        this.pending = this.pending.subarray(eol + 2);
        const n = parseInt(size[1]!, 16);
        if (n === 0) {
          this.chunkLeft = -2; // the trailer: header lines until an empty one
        } else this.chunkLeft = n + 2;
      }
      if (this.chunkLeft === -2) {
        const eol = this.pending.indexOf('\r\n');
        if (eol < 0) return this.pending.length > HEAD_MAX ? 'a trailer over 16 KiB' : 'more';
        const empty = eol === 0;
        this.pending = this.pending.subarray(eol + 2);
        if (empty) return this.pending.length === 0 ? answer : { status: this.status, reusable: false };
        continue;
      }
      if (this.pending.length < this.chunkLeft) {
        this.chunkLeft -= this.pending.length;
        this.pending = Buffer.alloc(0);
        return 'more';
      }
      this.pending = this.pending.subarray(this.chunkLeft);
      this.chunkLeft = -1;
    }
  }
}
