import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { RunAs } from './user.js';

/**
 * Creates the runtime dir and its logs/ (safe to repeat). Owned by the service's user so
 * it can write its working directory; the logs are opened by the daemon either way.
 */
export async function ensureRuntimeDir(runtimeDir: string, user: RunAs | undefined): Promise<void> {
  await fs.mkdir(path.join(runtimeDir, 'logs'), { recursive: true });
  if (user) {
    await fs.chown(runtimeDir, user.uid, user.gid);
    await fs.chown(path.join(runtimeDir, 'logs'), user.uid, user.gid);
  }
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

/** chown -R, for files and restored state a service run as `user` must own. */
export async function chownTree(dir: string, user: RunAs): Promise<void> {
  await fs.lchown(dir, user.uid, user.gid);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, user);
    else await fs.lchown(p, user.uid, user.gid);
  }
}

/** `purge=true`: deletes the runtime dir, giving back write bits a service may have dropped. */
export async function purgeRuntimeDir(runtimeDir: string): Promise<void> {
  try {
    await fs.rm(runtimeDir, { recursive: true, force: true });
  } catch {
    await makeWritable(runtimeDir);
    await fs.rm(runtimeDir, { recursive: true, force: true });
  }
}

async function makeWritable(dir: string): Promise<void> {
  const st = await fs.lstat(dir).catch(() => undefined);
  if (!st || !st.isDirectory()) return;
  await fs.chmod(dir, st.mode | 0o700);
  for (const name of await fs.readdir(dir)) await makeWritable(path.join(dir, name));
}
