import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { errnoOf } from './errors.js';
import { isRoot } from './proc.js';

/**
 * Filesystem work in a tree that someone else (a service user) can change while root walks
 * it. Node has no openat()/unlinkat(), so each directory is opened once with O_NOFOLLOW and
 * its entries are reached as `/proc/self/fd/<fd>/<name>`: the kernel resolves the fd to the
 * directory it holds, whatever has been renamed since, and `<name>` is looked up in it with
 * no link followed (lstat, unlink and rmdir never follow their last component). A
 * subdirectory swapped for a link after its lstat fails the O_NOFOLLOW open and is removed
 * as the link it now is. This is the *at() idiom of rm -rf, not a path walk.
 */
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** Each level holds an fd; deeper trees are refused rather than exhausting the fd table. */
const MAX_DEPTH = 256;
/** An entry swapped back and forth during the walk is tried this often before giving up. */
const MAX_TRIES = 5;

function at(fd: number, name: string): string {
  return `/proc/self/fd/${fd}/${name}`;
}

/**
 * Deletes `dir` and everything below it. Only `dir`'s parent is resolved by path, so it
 * must be a directory that no one but root can change. A missing `dir` is not an error.
 */
export async function removeTreeNoFollow(dir: string): Promise<void> {
  let parent;
  try {
    parent = await fs.open(path.dirname(dir), DIR_FLAGS);
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw err;
  }
  try {
    await removeAt(parent.fd, path.basename(dir), 0);
  } finally {
    await parent.close();
  }
}

async function removeAt(dirFd: number, name: string, depth: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const p = at(dirFd, name);
    const st = await fs.lstat(p).catch((err: unknown) => {
      if (errnoOf(err) === 'ENOENT') return undefined;
      throw err;
    });
    if (!st) return;
    try {
      if (st.isDirectory()) await emptyAndRemove(p, depth);
      else await fs.unlink(p);
      return;
    } catch (err) {
      const code = errnoOf(err);
      if (code === 'ENOENT') return;
      // the entry changed kind under us (a directory became a link, or back): look again
      const raced = code === 'ELOOP' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'ENOTEMPTY';
      if (!raced || attempt >= MAX_TRIES) throw err;
    }
  }
}

async function emptyAndRemove(p: string, depth: number): Promise<void> {
  if (depth >= MAX_DEPTH) throw Object.assign(new Error(`${p}: deeper than ${MAX_DEPTH} levels`), { code: 'ETOODEEP' });
  const dir = await fs.open(p, DIR_FLAGS);
  try {
    // a non-root daemon needs the write bit to unlink entries (a service may have dropped it)
    if (!isRoot()) await dir.chmod(0o700).catch(() => undefined);
    for (const name of await fs.readdir(at(dir.fd, ''))) await removeAt(dir.fd, name, depth + 1);
  } finally {
    await dir.close();
  }
  await fs.rmdir(p);
}
