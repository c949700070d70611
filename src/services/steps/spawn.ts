import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { NodeeError, errnoOf, messageOf } from '../../lib/errors.js';
import { isRoot, processStartTime } from '../../lib/proc.js';
import type { ExitStatus } from '../../contract/index.js';
import { findOnPath } from './command.js';
import { openLogFds } from './logs.js';
import type { SoftwareNamespace } from './isolation.js';
import type { RunAs } from './user.js';

export interface Spawned {
  pid: number;
  startTime: number | null;
  child: ChildProcess;
  exited: Promise<ExitStatus>;
}

/**
 * Starts the service as the leader of its own session and process group (detached), so
 * a signal to the group reaches everything it forks and the daemon's own signals and
 * death never do. stdio goes straight to the log files.
 */
export async function spawnService(o: {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  user: RunAs | undefined;
  /** Where stdout.log and stderr.log are (root's, see logs.ts). */
  logDir: string;
  /** Root services start inside the read-only software namespace. */
  namespace: SoftwareNamespace | undefined;
  /** `cgroup.procs` files the process enters, still as root, before anything else runs. */
  enter: string[];
}): Promise<Spawned> {
  let argv = o.argv;
  let ids: { uid: number; gid: number } | undefined;
  // `user: root` is root too: only a real other user is kept out of software/ by mode bits
  if (o.namespace && (!o.user || o.user.uid === 0)) {
    await o.namespace.ready();
    argv = o.namespace.wrap(o.argv, o.cwd);
  } else if (o.user) {
    [argv, ids] = asUser(o.user, argv);
  }
  if (o.enter.length > 0) argv = [SH, '-c', ENTER, 'nodee-enter', String(o.enter.length), ...o.enter, ...argv];
  const [out, err] = openLogFds(o.logDir, o.user);
  let child: ChildProcess;
  try {
    child = spawn(argv[0]!, argv.slice(1), {
      cwd: o.cwd,
      env: o.env,
      detached: true,
      stdio: ['ignore', out, err],
      ...ids,
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  const exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => {
      // the command was checked at create; what fails here is the exec itself (permissions, format)
      reject(new NodeeError('SPAWN_FAILED', `command: cannot execute ${o.argv[0]} (${errnoOf(err) ?? messageOf(err)})`, { cause: err }));
    });
  });
  const pid = child.pid!;
  return { pid, startTime: processStartTime(pid) ?? null, child, exited };
}

const SETPRIV = findOnPath('setpriv');
const SH = '/bin/sh';

/**
 * The cgroup wrapper: the new process writes its own pid to each `cgroup.procs` and only then
 * execs (same pid) the rest, so the service's first instruction already runs in its cgroup
 * and no fork can slip out before it. Node cannot clone into a cgroup (clone3's
 * CLONE_INTO_CGROUP), and writing the pid from the daemon after spawn would race the child.
 * Arguments: N, N procs files, then the command. A failure exits 126 (cannot execute).
 */
const ENTER = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || { echo "nodee: cannot enter cgroup ($1)" >&2; exit 126; }; shift; n=$((n - 1)); done; exec "$@"';

/**
 * How to become `user`. libuv's setuid path calls setgroups(0), dropping the supplementary
 * groups the user has (a service in group `ssl-cert` could no longer read its key), so a
 * root daemon execs `setpriv --init-groups`, which does what login does (initgroups, then
 * setgid and setuid) and execs the command in place: same pid, one exec more. Without
 * setpriv (or as non-root, which cannot switch anyway) spawn's uid/gid are used.
 */
function asUser(user: RunAs, argv: string[]): [string[], { uid: number; gid: number } | undefined] {
  if (SETPRIV && isRoot()) {
    return [[SETPRIV, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', ...argv], undefined];
  }
  return [argv, { uid: user.uid, gid: user.gid }];
}
