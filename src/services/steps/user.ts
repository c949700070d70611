import { execFileSync } from 'node:child_process';
import { NodeeError } from '../../lib/errors.js';
import { isRoot } from '../../lib/proc.js';

export interface RunAs {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/**
 * Resolves `user` through NSS (getent), so LDAP/sssd users work like local ones. Only a
 * root daemon can switch users; asking a non-root daemon is a 400, not a start that fails.
 */
export function resolveUser(name: string): RunAs {
  if (!isRoot()) {
    throw new NodeeError('BAD_REQUEST', `user: the daemon does not run as root, so it cannot run a service as "${name}"`);
  }
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    throw new NodeeError('BAD_REQUEST', `user: no such user "${name}"`);
  }
  const [, , uid, gid, , home] = line.split('\n')[0]!.split(':');
  return { name, uid: Number(uid), gid: Number(gid), home: home || '/' };
}
