import { promises as fs } from 'node:fs';
import path from 'node:path';
import { removeTree } from '../../artifacts/index.js';
import type { RunAs } from './user.js';

/**
 * Creates the runtime dir and its logs/ (safe to repeat). The runtime dir belongs to the
 * service's user, so it can write its working directory; logs/ stays the daemon's, because
 * the daemon (root) opens and rotates the files in it: a service that could plant a
 * symlink there would have root append to any file it names. A logs/ that is not a plain
 * directory (the service replaced it) is put back.
 */
export async function ensureRuntimeDir(runtimeDir: string, user: RunAs | undefined): Promise<void> {
  const logs = path.join(runtimeDir, 'logs');
  await fs.mkdir(runtimeDir, { recursive: true });
  const st = await fs.lstat(logs).catch(() => undefined);
  if (st && (!st.isDirectory() || st.uid !== process.getuid?.())) await fs.rm(logs, { recursive: true, force: true });
  await fs.mkdir(logs, { recursive: true, mode: 0o755 });
  if (user) await fs.lchown(runtimeDir, user.uid, user.gid);
}

/** True when the runtime dir has nothing in it but an empty logs/ (a fresh service). */
export async function isPristine(runtimeDir: string): Promise<boolean> {
  let names: string[];
  try {
    names = await fs.readdir(runtimeDir);
  } catch {
    return true;
  }
  if (names.length === 0) return true;
  if (names.length > 1 || names[0] !== 'logs') return false;
  return (await fs.readdir(path.join(runtimeDir, 'logs'))).length === 0;
}

/** chown -R of what `files` and `restore` put in the runtime dir; logs/ stays the daemon's. */
export async function chownTree(runtimeDir: string, user: RunAs): Promise<void> {
  const walk = async (dir: string): Promise<void> => {
    await fs.lchown(dir, user.uid, user.gid);
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (p === path.join(runtimeDir, 'logs')) continue;
      if (entry.isDirectory()) await walk(p);
      else await fs.lchown(p, user.uid, user.gid);
    }
  };
  await walk(runtimeDir);
}

/** `purge=true`: deletes the runtime dir, giving back write bits a service may have dropped. */
export async function purgeRuntimeDir(runtimeDir: string): Promise<void> {
  try {
    await fs.rm(runtimeDir, { recursive: true, force: true });
  } catch {
    await removeTree(runtimeDir);
  }
}
