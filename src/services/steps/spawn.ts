import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { NodeeError, errnoOf, messageOf } from '../../lib/errors.js';
import { processStartTime } from '../../lib/proc.js';
import type { ExitStatus } from '../policy.js';
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
  /** Root services start inside the read-only software namespace. */
  namespace: SoftwareNamespace | undefined;
}): Promise<Spawned> {
  let argv = o.argv;
  // `user: root` is root too: only a real other user is kept out of software/ by mode bits
  if (o.namespace && (!o.user || o.user.uid === 0)) {
    await o.namespace.ready();
    argv = o.namespace.wrap(o.argv, o.cwd);
  }
  const [out, err] = openLogFds(o.cwd);
  let child: ChildProcess;
  try {
    child = spawn(argv[0]!, argv.slice(1), {
      cwd: o.cwd,
      env: o.env,
      detached: true,
      stdio: ['ignore', out, err],
      ...(o.user ? { uid: o.user.uid, gid: o.user.gid } : {}),
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
      reject(new NodeeError('BAD_REQUEST', `command: cannot execute ${o.argv[0]} (${errnoOf(err) ?? messageOf(err)})`, { cause: err }));
    });
  });
  const pid = child.pid!;
  return { pid, startTime: processStartTime(pid) ?? null, child, exited };
}
