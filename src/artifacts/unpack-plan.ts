import { NodeeError } from '../lib/errors.js';
import type { ZipEntry } from './zip-directory.js';

/**
 * What an archive will write, decided before a single byte is: every path normalised and
 * resolved through the archive's own symlinks, so nothing can land outside the artifact
 * (entries with "..", absolute paths, links or paths through links that leave it are
 * refused) and writing never follows a link on disk.
 */
export interface UnpackPlan {
  /** Relative dirs, parents before children. */
  dirs: { path: string; mode: number | undefined }[];
  files: { entry: ZipEntry; path: string }[];
  links: { path: string; target: string }[];
}

const MAX_LINK_HOPS = 40;

function unsafe(message: string): NodeeError {
  return new NodeeError('UNSAFE_ARCHIVE', message);
}

/** An entry name as path components, or a refusal. */
function splitEntryName(name: string): string[] {
  if (name.includes('\0')) throw new NodeeError('BAD_ARCHIVE', `entry name "${name.replaceAll('\0', '\\0')}" contains a NUL byte`);
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) throw unsafe(`entry "${name}" has an absolute path`);
  // a backslash is a plain character on Unix, but an archive made for Windows means it as a
  // separator: "..\" is refused either way
  if (name.split(/[\\/]/).includes('..')) throw unsafe(`entry "${name}" leaves the artifact ("..")`);
  return name.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * Resolves `parts` against the archive's symlinks (lexically, as the kernel would once they
 * exist). `followLast` also follows a link named by the last component. Throws when the
 * path leaves the root.
 */
function resolve(parts: string[], links: Map<string, string>, followLast: boolean, what: string): string[] {
  let pending = [...parts];
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const comp = pending.shift() as string;
    if (comp === '' || comp === '.') continue;
    if (comp === '..') {
      if (done.length === 0) throw unsafe(`${what} leaves the artifact`);
      done.pop();
      continue;
    }
    const here = [...done, comp].join('/');
    const target = links.get(here);
    if (target !== undefined && (pending.length > 0 || followLast)) {
      if (++hops > MAX_LINK_HOPS) throw unsafe(`${what} goes through a loop of symlinks`);
      if (target.startsWith('/')) throw unsafe(`${what} goes through a symlink to an absolute path`);
      pending = [...target.split('/'), ...pending];
      continue;
    }
    done.push(comp);
  }
  return done;
}

export function planUnpack(entries: ZipEntry[], linkTargets: Map<ZipEntry, string>): UnpackPlan {
  const named = entries.map((entry) => ({ entry, parts: splitEntryName(entry.name) }));
  const links = new Map<string, string>();
  for (const { entry, parts } of named) {
    if (entry.kind !== 'symlink') continue;
    if (parts.length === 0) throw new NodeeError('BAD_ARCHIVE', `symlink entry "${entry.name}" has no name`);
    const target = linkTargets.get(entry) as string;
    if (target === '' || target.includes('\0')) throw new NodeeError('BAD_ARCHIVE', `symlink "${entry.name}" has an empty or invalid target`);
    if (target.startsWith('/')) throw unsafe(`symlink "${entry.name}" points to an absolute path (${target})`);
    links.set(parts.join('/'), target);
  }

  const kinds = new Map<string, 'dir' | 'file' | 'symlink'>();
  const dirModes = new Map<string, number | undefined>();
  const claim = (path: string, kind: 'dir' | 'file' | 'symlink', name: string) => {
    const had = kinds.get(path);
    if (had === undefined) kinds.set(path, kind);
    else if (had !== kind || kind !== 'dir') throw unsafe(`entry "${name}" collides with another entry at "${path}"`);
  };
  const claimParents = (parts: string[], name: string) => {
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      claim(p, 'dir', name);
      if (!dirModes.has(p)) dirModes.set(p, undefined);
    }
  };

  const plan: UnpackPlan = { dirs: [], files: [], links: [] };
  for (const { entry, parts } of named) {
    if (parts.length === 0) {
      if (entry.kind === 'dir') continue; // "./" and the like: the root itself
      throw new NodeeError('BAD_ARCHIVE', `entry "${entry.name}" has no name`);
    }
    const what = `entry "${entry.name}"`;
    const parent = resolve(parts.slice(0, -1), links, true, what);
    const real = [...parent, parts[parts.length - 1] as string];
    const path = real.join('/');
    claimParents(real, entry.name);
    if (entry.kind === 'symlink') {
      const target = links.get(parts.join('/')) as string;
      resolve([...parent, ...target.split('/')], links, true, `symlink "${entry.name}" -> ${target}`);
      claim(path, 'symlink', entry.name);
      plan.links.push({ path, target });
    } else if (entry.kind === 'dir') {
      claim(path, 'dir', entry.name);
      dirModes.set(path, entry.mode);
    } else {
      claim(path, 'file', entry.name);
      plan.files.push({ entry, path });
    }
  }
  // parents first: a shorter path can never be a child of a longer one
  plan.dirs = [...dirModes.entries()]
    .sort((a, b) => a[0].split('/').length - b[0].split('/').length)
    .map(([path, mode]) => ({ path, mode }));
  return plan;
}
