import treeKill from 'tree-kill';
import { GroupWatch, markedProcesses, signalGroup, signalProcess } from '../process-table.js';

const POLL_MS = 20;
const ESCAPEE_POLL_MS = 200;
/** After SIGKILL the kernel needs a moment; a process stuck in D state is reported, not waited on forever. */
const KILL_GRACE_MS = 5000;

export interface StopResult {
  /** True when the timeout passed and SIGKILL was needed. */
  killed: boolean;
  /** Processes still alive after everything (stuck in the kernel): logged by the caller. */
  survivors: number[];
}

/**
 * Stops a service's whole tree: `signal` to its process group (and to descendants that
 * left the group but kept NODEE_RUNTIME_DIR, e.g. daemonised children), wait up to
 * `timeoutMs` for all of them, then SIGKILL the tree (tree-kill), the group and every
 * marked process. Safe to repeat: every step tolerates processes already gone.
 */
export async function stopTree(o: {
  pid: number;
  runtimeDir: string;
  signal: NodeJS.Signals;
  timeoutMs: number;
  leaderGone: () => boolean;
}): Promise<StopResult> {
  const deadline = Date.now() + o.timeoutMs;
  if (!o.leaderGone()) signalProcess(o.pid, o.signal);
  signalGroup(o.pid, o.signal);
  for (const p of await markedProcesses(o.runtimeDir)) signalProcess(p, o.signal);

  const group = new GroupWatch(o.pid);
  const groupGone = async () => o.leaderGone() && !(await group.alive());
  let killed = !(await waitUntil(groupGone, deadline, POLL_MS));
  if (!killed) {
    // the group is gone; descendants that escaped it get the rest of the timeout
    killed = !(await waitUntil(async () => (await markedProcesses(o.runtimeDir)).length === 0, deadline, ESCAPEE_POLL_MS));
  }
  if (killed) {
    if (!o.leaderGone()) await new Promise<void>((resolve) => treeKill(o.pid, 'SIGKILL', () => resolve()));
    signalGroup(o.pid, 'SIGKILL');
    for (const p of await markedProcesses(o.runtimeDir)) signalProcess(p, 'SIGKILL');
    await waitUntil(groupGone, Date.now() + KILL_GRACE_MS, POLL_MS);
  }
  const survivors = await markedProcesses(o.runtimeDir);
  if (survivors.length > 0) {
    for (const p of survivors) signalProcess(p, 'SIGKILL');
    await waitUntil(async () => (await markedProcesses(o.runtimeDir)).length === 0, Date.now() + KILL_GRACE_MS, POLL_MS);
  }
  return { killed, survivors: await markedProcesses(o.runtimeDir) };
}

async function waitUntil(check: () => boolean | Promise<boolean>, deadline: number, pollMs: number): Promise<boolean> {
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(1, deadline - Date.now()))));
  }
}
