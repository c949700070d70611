/**
 * Entry point of the first-start worker (see as-user.ts): started by the daemon with the
 * service user's uid and gid, it reads one PrepareJob on stdin, does it, and prints the
 * result as one JSON line. It never runs as root for a service that has a user.
 */
import pino from 'pino';
import { createLogger } from '../../lib/log.js';
import type { WorkerResult } from './as-user.js';
import { asPrepareError, prepareHere, type PrepareJob } from './prepare.js';

async function main(): Promise<void> {
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const log = createLogger({ destination: pino.destination({ fd: 2, sync: true }) });
  let result: WorkerResult;
  try {
    await prepareHere(JSON.parse(input) as PrepareJob, log);
    result = { ok: true };
  } catch (err) {
    const { code, message } = asPrepareError(err);
    result = { ok: false, code, message };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

void main();
