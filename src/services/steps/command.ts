import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { NodeeError } from '../../lib/errors.js';

/**
 * The command's first word (contract): a relative path names a file inside the artifact
 * dir and may not leave it (symlinks included); a bare name with no such file there is
 * looked up on PATH; an absolute path is used as it is. Returns an absolute path.
 */
export function resolveCommand(word: string, softwareDir: string, searchPath = process.env.PATH ?? '/usr/bin:/bin'): string {
  if (path.isAbsolute(word)) {
    if (!isExecutable(word)) throw new NodeeError('BAD_REQUEST', `command: ${word} is not an executable file`);
    return word;
  }
  const root = realpathSync(softwareDir);
  const inside = path.resolve(root, word);
  if (!isWithin(root, inside)) throw new NodeeError('BAD_REQUEST', `command: "${word}" leaves the artifact directory`);
  if (exists(inside)) {
    const real = realpathSync(inside);
    if (!isWithin(root, real)) throw new NodeeError('BAD_REQUEST', `command: "${word}" is a link that leaves the artifact directory`);
    if (!isExecutable(real)) throw new NodeeError('BAD_REQUEST', `command: "${word}" in the artifact is not executable`);
    return inside;
  }
  if (word.includes('/')) throw new NodeeError('BAD_REQUEST', `command: "${word}" does not exist in the artifact`);
  const found = findOnPath(word, searchPath);
  if (!found) throw new NodeeError('BAD_REQUEST', `command: "${word}" is neither in the artifact nor on PATH`);
  return found;
}

export function findOnPath(name: string, searchPath = process.env.PATH ?? '/usr/bin:/bin'): string | undefined {
  for (const dir of searchPath.split(':').filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export function isWithin(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function isExecutable(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
