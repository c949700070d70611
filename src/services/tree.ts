import treeKill from 'tree-kill';
import type { ServiceCgroup } from '../cgroups/index.js';
import type { Usage } from '../contract/index.js';
import type { Logger } from '../lib/log.js';
import { processStartTime } from '../lib/proc.js';
import { NO_USAGE } from './record-keeper.js';
import { GroupWatch, findLeader, markedProcesses, signalGroup, signalProcess } from './process-table.js';

const POLL_MS = 20;
const ESCAPEE_POLL_MS = 200;
/** After SIGKILL the kernel needs a moment; a process stuck in D state is reported, not waited on forever. */
const KILL_GRACE_MS = 5000;

/**
 * Every process of one service, whatever it did to get away: what a stop signals, waits for
 * and kills, and what re-adoption searches. With cgroups that is the service's cgroup, which no
 * process can leave; without, the leader's process group plus every process still carrying the
 * service's NODEE_RUNTIME_DIR (a setsid'd child that cleared its environment escapes that one).
 */
export interface ServiceTree {
  readonly kind: 'cgroup' | 'group';
  /** The service's leader is now this pid (spawned or adopted): its group is the service's. */
  track(leader: number): void;
  /** Sends `signal` to every process of the service. */
  signal(signal: NodeJS.Signals): Promise<void>;
  /** Resolves true once nothing of the service lives, false at the deadline (ms since the epoch). */
  waitGone(leaderGone: () => boolean, deadline: number): Promise<boolean>;
  /** SIGKILLs everything and waits for it; resolves the pids that outlived that (stuck in the kernel). */
  kill(leaderGone: () => boolean): Promise<number[]>;
  /**
   * The leader exited on its own: SIGKILL what it left, now, without waiting or searching (this
   * is on the way to a restart). A new process started right after is not touched.
   */
  endLeftovers(): Promise<void>;
  /** The service process after a daemon crash that left no pid on record. */
  findLeader(): Promise<number | undefined>;
  /** What the service uses now; nulls where nothing accounts for it (no cgroup). */
  usage(): Usage;
}

/**
 * The one way a service's processes are ended (a requested stop, a drain timeout, a liveness
 * check or watchdog that gave up): `signal` to every process, up to `timeoutMs` for all of them
 * to go, then SIGKILL to whatever is left (cgroup.kill ends a cgroup in one write, forks in
 * flight included). Safe with nothing running and safe twice: every step tolerates processes
 * already gone. `leaderGone` says when the leader (if any) has exited.
 */
export async function endTree(
  tree: ServiceTree,
  o: { leaderGone: () => boolean; signal: NodeJS.Signals; timeoutMs: number; log: Logger; coordinate: string },
): Promise<void> {
  await tree.signal(o.signal);
  if (await tree.waitGone(o.leaderGone, Date.now() + o.timeoutMs)) return;
  o.log.warn({ coordinate: o.coordinate }, `did not stop within ${o.timeoutMs / 1000} s: killed`);
  const survivors = await tree.kill(o.leaderGone);
  if (survivors.length > 0) o.log.error({ coordinate: o.coordinate, pids: survivors }, 'processes survived SIGKILL');
}

/** The process group + NODEE_RUNTIME_DIR tree: what nodee had before cgroups, and still the fallback. */
export class GroupTree implements ServiceTree {
  readonly kind = 'group';
  private pgid: number | undefined;

  constructor(private readonly runtimeDir: string) {}

  track(leader: number): void {
    this.pgid = leader;
  }

  async signal(signal: NodeJS.Signals): Promise<void> {
    if (this.pgid !== undefined) {
      signalProcess(this.pgid, signal);
      signalGroup(this.pgid, signal);
    }
    for (const p of await markedProcesses(this.runtimeDir)) signalProcess(p, signal);
  }

  async waitGone(leaderGone: () => boolean, deadline: number): Promise<boolean> {
    if (this.pgid !== undefined) {
      const group = new GroupWatch(this.pgid);
      if (!(await waitUntil(async () => leaderGone() && !(await group.alive()), deadline, POLL_MS))) return false;
    }
    // the group is gone; descendants that escaped it get the rest of the time
    return waitUntil(async () => (await markedProcesses(this.runtimeDir)).length === 0, deadline, ESCAPEE_POLL_MS);
  }

  async kill(leaderGone: () => boolean): Promise<number[]> {
    const pgid = this.pgid;
    if (pgid !== undefined) {
      if (!leaderGone()) await new Promise<void>((resolve) => treeKill(pgid, 'SIGKILL', () => resolve()));
      signalGroup(pgid, 'SIGKILL');
    }
    for (const p of await markedProcesses(this.runtimeDir)) signalProcess(p, 'SIGKILL');
    await this.waitGone(leaderGone, Date.now() + KILL_GRACE_MS);
    return markedProcesses(this.runtimeDir);
  }

  async endLeftovers(): Promise<void> {
    // the group only: a /proc scan for marked escapees would cost every restart ~20 ms; they are swept at the next stop
    if (this.pgid !== undefined) signalGroup(this.pgid, 'SIGKILL');
  }

  findLeader(): Promise<number | undefined> {
    return findLeader(this.runtimeDir);
  }

  usage(): Usage {
    return NO_USAGE;
  }
}

/** The service's cgroup: nothing it starts can leave it, and cgroup.kill ends it in one write. */
export class CgroupTree implements ServiceTree {
  readonly kind = 'cgroup';

  constructor(readonly cgroup: ServiceCgroup) {}

  track(): void {
    // the cgroup holds the leader already: it entered before exec
  }

  async signal(signal: NodeJS.Signals): Promise<void> {
    // what systemd's KillMode=control-group does: the stop signal to every process, not only the leader
    for (const pid of this.cgroup.pids()) signalProcess(pid, signal);
  }

  waitGone(leaderGone: () => boolean, deadline: number): Promise<boolean> {
    return waitUntil(() => leaderGone() && this.cgroup.pids().length === 0, deadline, POLL_MS);
  }

  usage(): Usage {
    return this.cgroup.usage();
  }

  async endLeftovers(): Promise<void> {
    // one write where there is cgroup.kill; the v1 freezer way otherwise (slower, waits)
    if (!(await this.cgroup.killNow())) await this.cgroup.kill().catch(() => undefined);
  }

  async kill(leaderGone: () => boolean): Promise<number[]> {
    try {
      await this.cgroup.kill();
    } catch {
      // kill() gave up after its own bounded wait: report who is left
    }
    await waitUntil(leaderGone, Date.now() + KILL_GRACE_MS, POLL_MS);
    return this.cgroup.pids();
  }

  /** The oldest process of the cgroup: the leader was there first, everything else is its offspring. */
  async findLeader(): Promise<number | undefined> {
    let oldest: { pid: number; start: number } | undefined;
    for (const pid of this.cgroup.pids()) {
      const start = processStartTime(pid);
      if (start !== undefined && (oldest === undefined || start < oldest.start)) oldest = { pid, start };
    }
    return oldest?.pid;
  }
}

async function waitUntil(check: () => boolean | Promise<boolean>, deadline: number, pollMs: number): Promise<boolean> {
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, Math.min(pollMs, Math.max(1, deadline - Date.now()))));
  }
}
