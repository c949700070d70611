import type { FetchTimeouts } from '../../artifacts/index.js';
import type { Config } from '../../config/index.js';
import { NodeeError, errnoOf, isNodeeError, messageOf } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { isRoot } from '../../lib/proc.js';
import type { ServiceSpec } from '../spec.js';
import { runAsUser } from './as-user.js';
import { copyFiles } from './files.js';
import { restoreState } from './restore.js';
import { isPristine } from './runtime-dir.js';
import type { RunAs } from './user.js';

/** What the first-start work needs; plain data, so a worker process can be handed it. */
export interface PrepareJob {
  coordinate: string;
  files: ServiceSpec['files'];
  restore: ServiceSpec['restore'];
  softwareDir: string;
  runtimeDir: string;
  env: Record<string, string>;
  limits: Config['limits'];
  downloadTimeouts: FetchTimeouts;
}

/**
 * What happens once, before a service's first start: `files`, then `restore` when the
 * runtime dir is still empty. Safe to repeat after a failure (files are renamed into
 * place, restore unpacks via staging).
 *
 * The runtime dir belongs to the service's user, who can plant links and swap directories
 * in it at any moment, so root does none of this work itself: a worker process running as
 * that user does it, with exactly the user's rights (privilege separation, as OpenSSH and
 * systemd's StateDirectory= do). What it writes is the user's, with no chown walk after.
 */
export async function prepareFirstStart(job: PrepareJob, user: RunAs | undefined, log: Logger): Promise<void> {
  if (job.files.length === 0 && !job.restore) return;
  if (user && user.uid !== 0 && isRoot()) return runAsUser(user, job, log);
  return prepareHere(job, log).catch((err: unknown) => {
    throw asPrepareError(err);
  });
}

/** A failure without a code of its own (EACCES, ENOSPC…) is the runtime dir's, not a bug. */
export function asPrepareError(err: unknown): NodeeError {
  if (isNodeeError(err)) return err;
  return new NodeeError('PREPARE_FAILED', `cannot prepare the runtime dir: ${errnoOf(err) ? `${errnoOf(err)} ` : ''}${messageOf(err)}`, { cause: err });
}

/** The work itself, in whichever process runs as the runtime dir's owner. */
export async function prepareHere(job: PrepareJob, log: Logger): Promise<void> {
  const pristine = await isPristine(job.runtimeDir);
  await copyFiles(job, log);
  if (!job.restore) return;
  if (pristine) await restoreState(job, log);
  else log.info({ coordinate: job.coordinate }, 'runtime dir is not empty: restore skipped');
}
