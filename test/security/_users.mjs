import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startDaemon } from '../helpers/daemon.mjs';
import { tempDir } from '../helpers/tmp.mjs';
import { E2E_ART, installScripts } from '../services/e2e-helpers.mjs';

export const isRoot = process.getuid() === 0;

function exists(db, name) {
  try {
    execFileSync('getent', [db, name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes a user or group unless it exists. Test files run in parallel processes that may make
 * the same one at once, and useradd refuses to run while another holds /etc/passwd's lock: the
 * makers queue on one lock file, and "exists already" after losing the race is success.
 */
function make(db, name, argv) {
  if (exists(db, name)) return;
  try {
    execFileSync('flock', ['/run/lock/nodee-test-users.lock', ...argv], { stdio: 'pipe' });
  } catch (err) {
    if (!exists(db, name)) throw err;
  }
}

/** A real local user (useradd), made once per host; `groups` are supplementary groups it gets. */
export function ensureUser(name, { groups = [] } = {}) {
  for (const g of groups) make('group', g, ['groupadd', g]);
  make('passwd', name, ['useradd', '-M', '-N', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', ...(groups.length ? ['-G', groups.join(',')] : []), name]);
  const [, , uid, gid] = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
  return { name, uid: Number(uid), gid: Number(gid) };
}

export function gidOf(group) {
  return Number(execFileSync('getent', ['group', group], { encoding: 'utf8' }).split(':')[2]);
}

/** The attacker's target: a directory only root may enter, with one root-only file in it. */
export async function rootOnly(t, content = 'root:$6$secret-hash:19000:0:99999:7:::\n') {
  const dir = await tempDir(t, 'nodee-rootonly-');
  await chmod(dir, 0o700);
  const file = path.join(dir, 'shadow');
  await writeFile(file, content, { mode: 0o600 });
  return { dir, file, content };
}

/**
 * A real daemon on a prefix that service users may traverse (like /var/lib/nodee; mkdtemp
 * makes it 0700), with the scripts artifact installed: `scripts` maps bin/ names to shell.
 */
export async function daemonWithScripts(t, scripts = {}, config = {}) {
  const prefix = await tempDir(t, 'nodee-sec-');
  await chmod(prefix, 0o755);
  const d = await startDaemon(t, { prefix, config });
  await installScripts(t, d, scripts);
  return d;
}

export function serviceSpec(coordinate, over = {}) {
  return { coordinate, artifact: E2E_ART, command: ['bin/sleeper'], restart: { policy: 'never' }, stop: { timeoutSeconds: 2 }, ...over };
}

/** Runs `sh -c script` as `user` (a racer or a probe outside any service), killed at teardown. */
export function runAs(t, user, script) {
  const child = spawn('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', 'sh', '-c', script], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  return child;
}

export async function writeExecutable(file, text) {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text, { mode: 0o755 });
}
