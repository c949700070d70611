import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errnoOf } from '../../lib/errors.js';
import { isRoot } from '../../lib/proc.js';
import { removeTreeNoFollow } from '../../lib/nofollow.js';
import { RESTORE_STAGING } from './restore.js';
import type { ServicePaths } from '../coordinate.js';
import type { RunAs } from './user.js';

/** 0750 and the service user's group: other services and local users read nothing of it. */
const RUNTIME_DIR_MODE = 0o750;

/**
 * Creates the runtime dir (safe to repeat). Every parent of the runtime dir
 * is root's, so its own path cannot be swapped under the daemon: chown and chmod here act on
 * the service's directory itself. Root never writes inside it except the `logs` link.
 */
export async function ensureRuntimeDir(paths: ServicePaths, user: RunAs | undefined): Promise<void> {
  const { runtimeDir } = paths;
  await fs.mkdir(path.dirname(runtimeDir), { recursive: true, mode: 0o755 });
  await fs.mkdir(runtimeDir, { mode: RUNTIME_DIR_MODE }).catch((err: unknown) => {
    if (errnoOf(err) !== 'EEXIST') throw err;
  });
  if (isRoot()) await fs.lchown(runtimeDir, user?.uid ?? 0, user?.gid ?? 0);
  // a runtime dir of nodee 0.1.0 was 0755: tighten, never loosen what the service chose
  const { mode } = await fs.lstat(runtimeDir);
  if ((mode & 0o777 & ~RUNTIME_DIR_MODE) !== 0) await fs.chmod(runtimeDir, mode & RUNTIME_DIR_MODE);
}

/** True when the runtime dir holds nothing but the `logs` link (a fresh service) and a restore's leftovers. */
export async function isPristine(runtimeDir: string): Promise<boolean> {
  let entries;
  try {
    entries = await fs.readdir(runtimeDir, { withFileTypes: true });
  } catch {
    return true;
  }
  return entries.every((e) => (e.name === 'logs' && e.isSymbolicLink()) || e.name.startsWith(RESTORE_STAGING));
}

/**
 * `purge=true`: deletes the runtime dir without following anything the service planted in
 * it (see lib/nofollow), then the log dir, which is root's own.
 */
export async function purgeRuntimeDir(paths: ServicePaths): Promise<void> {
  await removeTreeNoFollow(paths.runtimeDir);
  await fs.rm(paths.logDir, { recursive: true, force: true });
}

/** Undoes a refused create: the dirs it made and the parents left empty, up to runtime/ and logs/. */
export async function removeFreshDir(paths: ServicePaths, prefix: string): Promise<void> {
  await purgeRuntimeDir(paths).catch(() => undefined);
  for (const [dir, root] of [
    [paths.runtimeDir, path.join(prefix, 'runtime')],
    [paths.logDir, path.join(prefix, 'logs')],
  ] as const) {
    for (let p = path.dirname(dir); p.startsWith(root + path.sep); p = path.dirname(p)) {
      if (!(await fs.rmdir(p).then(() => true, () => false))) break;
    }
  }
}
