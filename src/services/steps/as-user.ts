import { spawn } from 'node:child_process';
import path from 'node:path';
import { ERROR_CODES, NodeeError, type ErrorCode } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { PrepareJob } from './prepare.js';
import type { RunAs } from './user.js';

const WORKER = path.join(__dirname, 'prepare-worker.js');

/** What the worker prints on stdout as its last line. */
export type WorkerResult = { ok: true } | { ok: false; code: string; message: string };

/**
 * Runs the first-start work (prepare.ts) in a child process with the service user's uid and
 * gid (no supplementary groups, no capabilities): it can touch only what the user could.
 * The job, which holds the rendered environment (secrets the service gets anyway), goes
 * over stdin; log lines come back on stderr as JSON and are logged here; the result is
 * the last line on stdout, a NodeeError's code and message on failure.
 */
export function runAsUser(user: RunAs, job: PrepareJob, log: Logger): Promise<void> {
  const child = spawn(process.execPath, [WORKER], {
    cwd: job.runtimeDir,
    uid: user.uid,
    gid: user.gid,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: user.home, ...(process.env.LANG ? { LANG: process.env.LANG } : {}) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let errText = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    errText += d;
    let nl: number;
    while ((nl = errText.indexOf('\n')) >= 0) {
      relay(errText.slice(0, nl), user, log);
      errText = errText.slice(nl + 1);
    }
  });
  child.stdin.on('error', () => undefined); // a worker that died early: its exit says why
  child.stdin.end(JSON.stringify(job));
  return new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(new NodeeError('INTERNAL', `cannot start the worker for user ${user.name}: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (errText) relay(errText, user, log);
      const result = parseResult(out);
      if (result?.ok) return resolve();
      if (result) return reject(new NodeeError(knownCode(result.code), result.message));
      reject(new NodeeError('INTERNAL', `the worker for user ${user.name} ended with ${signal ?? `code ${code}`} and no result`));
    });
  });
}

function parseResult(out: string): WorkerResult | undefined {
  const last = out.trim().split('\n').pop() ?? '';
  try {
    const r = JSON.parse(last) as WorkerResult;
    return typeof r === 'object' && r !== null && typeof r.ok === 'boolean' ? r : undefined;
  } catch {
    return undefined;
  }
}

function knownCode(code: string): ErrorCode {
  return code in ERROR_CODES ? (code as ErrorCode) : 'INTERNAL';
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/** A pino line from the worker, logged again here with its level; anything else as a warning. */
function relay(line: string, user: RunAs, log: Logger): void {
  if (!line.trim()) return;
  try {
    const { level, msg, time: _t, pid: _p, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const at = typeof level === 'string' && LEVELS.has(level) ? (level as 'info') : 'warn';
    log[at]({ ...rest, asUser: user.name }, typeof msg === 'string' ? msg : 'worker');
  } catch {
    log.warn({ asUser: user.name, line: line.slice(0, 2000) }, 'worker output');
  }
}
