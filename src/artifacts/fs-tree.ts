import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errnoOf } from '../lib/errors.js';

/**
 * Deletes a tree that may be read-only (an installed artifact or a half-unpacked one):
 * every directory gets its write bit back first, or unlinking its entries fails for a
 * daemon that does not run as root. A missing tree is not an error.
 */
export async function removeTree(dir: string): Promise<void> {
  await unseal(dir);
  await fs.rm(dir, { recursive: true, force: true });
}

async function unseal(dir: string): Promise<void> {
  try {
    await fs.chmod(dir, 0o700);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw err;
  }
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return;
    throw err;
  }
  for (const e of entries) if (e.isDirectory()) await unseal(path.join(dir, e.name));
}

/** Size and file count of an installed tree that has no record (placed by hand). */
export async function measureTree(dir: string): Promise<{ sizeBytes: number; fileCount: number }> {
  let sizeBytes = 0;
  let fileCount = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        fileCount++;
        if (e.isFile()) sizeBytes += (await fs.lstat(p)).size;
      }
    }
  };
  await walk(dir);
  return { sizeBytes, fileCount };
}

/** Names of the subdirectories of `dir` (none when it does not exist). */
export async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [];
    throw err;
  }
}
