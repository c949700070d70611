import { closeSync, constants, fchownSync, openSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { errnoOf } from '../../lib/errors.js';
import { isRoot } from '../../lib/proc.js';
import type { Logger } from '../../lib/log.js';
import type { RunAs } from './user.js';

export type LogStream = 'stdout' | 'stderr';

/**
 * A service's logs live in `<prefix>/logs/<cell>/<user>/<service>/<instance>/`, a directory
 * only root may change, never inside the runtime dir: the service owns its runtime dir and
 * could rename or replace anything in it between the daemon's check and its use (root then
 * rotating into, truncating or serving a file the service chose). Readers still find them
 * at `runtime/.../logs/`, a link the daemon makes and never follows itself.
 */
export function logFile(logDir: string, stream: LogStream): string {
  return path.join(logDir, `${stream}.log`);
}

/** 0750 root:<service group>: the service user may read its own logs, not change them. */
const LOG_DIR_MODE = 0o750;
const LOG_FILE_MODE = 0o640;

/** Creates the log dir (safe to repeat) and the `logs` link in the runtime dir when it is missing. */
export async function ensureLogDir(logDir: string, runtimeDir: string, user: RunAs | undefined, log: Logger): Promise<void> {
  await fs.mkdir(path.dirname(logDir), { recursive: true, mode: 0o755 });
  await fs.mkdir(logDir, { mode: LOG_DIR_MODE }).catch((err: unknown) => {
    if (errnoOf(err) !== 'EEXIST') throw err;
  });
  // the log dir's parent is root's: this path cannot be swapped under us
  if (isRoot()) await fs.lchown(logDir, 0, user?.gid ?? 0);
  await fs.chmod(logDir, LOG_DIR_MODE);
  await linkLogs(logDir, runtimeDir, log);
}

/**
 * `runtime/.../logs` → the log dir. symlink() and rename() never follow the name they
 * create or move, so working in the service's own directory is safe here. A real `logs/`
 * directory of nodee 0.1.0 (root's, holding the old logs) is moved aside to `logs.0.1`;
 * anything else of that name is the service's own and is left alone.
 */
async function linkLogs(logDir: string, runtimeDir: string, log: Logger): Promise<void> {
  const link = path.join(runtimeDir, 'logs');
  const st = await fs.lstat(link).catch(() => undefined);
  if (st?.isSymbolicLink() && (await fs.readlink(link).catch(() => '')) === logDir) return;
  if (st?.isDirectory() && st.uid === 0 && isRoot()) await fs.rename(link, `${link}.0.1`).catch(() => undefined);
  try {
    await fs.symlink(logDir, link);
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw err;
    log.info({ runtimeDir }, 'runtime dir has a "logs" of its own: the logs are in the log dir and through the API');
  }
}

/**
 * Opens stdout.log and stderr.log with O_APPEND for a child to inherit. The service writes
 * to the files directly, never through a pipe to the daemon: it keeps running and logging
 * while the daemon restarts or is killed, and a copytruncate rotation makes its next write
 * land at the new end of the file. The caller closes the fds once the child has them.
 */
export function openLogFds(logDir: string, user: RunAs | undefined): [number, number] {
  // O_NOFOLLOW as a second line: the directory is root's, nothing should be a link in it
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW;
  const fds: number[] = [];
  try {
    for (const stream of ['stdout', 'stderr'] as const) {
      const fd = openSync(logFile(logDir, stream), flags, LOG_FILE_MODE);
      fds.push(fd);
      if (isRoot()) fchownSync(fd, 0, user?.gid ?? 0);
    }
    return fds as [number, number];
  } catch (err) {
    for (const fd of fds) closeSync(fd);
    throw err;
  }
}
