import { spawn } from 'node:child_process';
import net from 'node:net';
import { httpGet } from './http-probe.js';
import { errnoOf, messageOf } from '../lib/errors.js';
import type { Check, Port } from './schema.js';

/** Where a service's checks run: its ports, runtime dir, environment and user. */
export interface ProbeTarget {
  ports: Record<string, number>;
  cwd: string;
  env: Record<string, string>;
  /** The service user's ids, both or neither (the check runs as root without them). */
  uid?: number;
  gid?: number;
  /** Turns an exec check's argv into what is spawned (found on PATH, in the artifact...), like `command`. */
  resolveArgv?(argv: string[]): string[];
}

export interface ProbeResult {
  ok: boolean;
  /** Short (≤ OUTPUT_MAX characters): it ends up in the API, the console and ZooKeeper. */
  output: string;
}

export const OUTPUT_MAX = 256;
/** What is kept of an exec's stdout and of its stderr, and read of an HTTP body, at most. */
export const CAPTURE_MAX = 64 * 1024;

const HOST = '127.0.0.1';

/**
 * Runs one check once. Never throws: every failure (refused, timed out, aborted, a missing
 * named port, a command that cannot be spawned) is a failed result with a short reason.
 */
export async function probe(check: Check, target: ProbeTarget, signal?: AbortSignal): Promise<ProbeResult> {
  if (signal?.aborted) return fail('aborted');
  try {
    if (check.http) {
      const port = portOf(check.http.port, target);
      return typeof port === 'string' ? fail(port) : await httpProbe(port, check.http.path, check.timeoutMs, signal);
    }
    if (check.tcp) {
      const port = portOf(check.tcp.port, target);
      return typeof port === 'string' ? fail(port) : await tcpProbe(port, check.timeoutMs, signal);
    }
    if (check.exec) return await execProbe(check.exec, target, check.timeoutMs, signal);
    return fail('no probe');
  } catch (err) {
    // a bug or an unexpected throw (spawn with a bad uid...) must not take the scheduler down
    return fail(errnoOf(err) ?? messageOf(err));
  }
}

function fail(output: string): ProbeResult {
  return { ok: false, output: short(output) };
}

export function short(s: string): string {
  const flat = s.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return flat.length <= OUTPUT_MAX ? flat : `${flat.slice(0, OUTPUT_MAX - 1)}…`;
}

/** The port number, or why there is none. */
function portOf(port: Port, target: ProbeTarget): number | string {
  if (typeof port === 'number') return port;
  return target.ports[port] ?? `no port named "${port}"`;
}

/**
 * Settles once with the first of: the probe's own answer, the timeout, the abort. `cleanup`
 * runs exactly once whichever came first, so a socket or process is never left behind.
 */
function race(timeoutMs: number, signal: AbortSignal | undefined, run: (settle: (r: ProbeResult) => void) => () => void): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let done = false;
    let cleanup: () => void = () => {};
    const settle = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      cleanup();
      resolve({ ok: r.ok, output: short(r.output) });
    };
    const onAbort = (): void => settle({ ok: false, output: 'aborted' });
    const timer = setTimeout(() => settle({ ok: false, output: `timed out after ${timeoutMs} ms` }), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = run(settle);
    // run() may have settled synchronously, before cleanup was known
    if (done) cleanup();
  });
}

function httpProbe(port: number, path: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<ProbeResult> {
  return race(timeoutMs, signal, (settle) => {
    // http-probe.ts: one kept connection per port and a reader of its own (Node's http client cost ~200 µs a check)
    const { answer, cancel } = httpGet(HOST, port, path, CAPTURE_MAX);
    answer.then(
      ({ status }) => settle({ ok: status >= 200 && status < 400, output: `HTTP ${status}` }),
      (err: unknown) => settle({ ok: false, output: describe(err) }),
    );
    return cancel;
  });
}

function tcpProbe(port: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<ProbeResult> {
  return race(timeoutMs, signal, (settle) => {
    const socket = net.connect({ host: HOST, port });
    socket.on('connect', () => settle({ ok: true, output: `connected to port ${port}` }));
    socket.on('error', (err) => settle({ ok: false, output: describe(err) }));
    return () => socket.destroy();
  });
}

function execProbe(argv0: string[], target: ProbeTarget, timeoutMs: number, signal: AbortSignal | undefined): Promise<ProbeResult> {
  // a uid without a gid would run the check as the user but in root's group
  if ((target.uid === undefined) !== (target.gid === undefined)) return Promise.resolve(fail('exec: uid and gid must be given together'));
  const argv = target.resolveArgv ? target.resolveArgv(argv0) : argv0;
  return race(timeoutMs, signal, (settle) => {
    // detached: its own process group, so the timeout kills whatever the check forked too
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: target.cwd,
      env: target.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(target.uid !== undefined ? { uid: target.uid } : {}),
      ...(target.gid !== undefined ? { gid: target.gid } : {}),
    });
    const out = capture(child.stdout!);
    const err = capture(child.stderr!);
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is gone already
      }
    };
    let code: number | null = null;
    let sig: NodeJS.Signals | null = null;
    child.on('error', (e) => settle({ ok: false, output: `${argv0[0]}: ${errnoOf(e) ?? messageOf(e)}` }));
    const finish = (): void => {
      const why = code !== null ? `exit ${code}` : `killed by ${sig}`;
      const line = code === 0 ? lastLine(out.text()) : lastLine(err.text()) || lastLine(out.text());
      settle({ ok: code === 0, output: line ? `${why}: ${line}` : why });
    };
    child.on('exit', (c, s) => {
      code = c;
      sig = s;
      // a check leaves nothing running: what it forked into the background goes with it, and
      // then the pipes it held close, which lets 'close' come
      killGroup();
      // a descendant that left the group (setsid) may hold the pipes open: the exit status is
      // known, so do not wait for them long (settle is once only: the later of the two is a no-op)
      setTimeout(finish, 50).unref();
    });
    child.on('close', finish);
    return () => {
      killGroup();
      // a descendant that left the group may hold the pipes: stop reading them regardless
      child.stdout?.destroy();
      child.stderr?.destroy();
    };
  });
}

/** Reads a stream to its end, keeping only the last CAPTURE_MAX bytes (it is always drained). */
function capture(stream: NodeJS.ReadableStream): { text(): string } {
  let chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size > 2 * CAPTURE_MAX) {
      const all = Buffer.concat(chunks);
      chunks = [all.subarray(all.length - CAPTURE_MAX)];
      size = CAPTURE_MAX;
    }
  });
  stream.on('error', () => {});
  return {
    text() {
      const all = Buffer.concat(chunks);
      return all.subarray(Math.max(0, all.length - CAPTURE_MAX)).toString('utf8');
    },
  };
}

/** "connect ECONNREFUSED", "read ECONNRESET", or the message of an error without an errno. */
function describe(err: unknown): string {
  const syscall = (err as { syscall?: unknown }).syscall;
  const errno = errnoOf(err);
  if (errno === undefined) return messageOf(err);
  return typeof syscall === 'string' ? `${syscall} ${errno}` : errno;
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  return lines[lines.length - 1] ?? '';
}
