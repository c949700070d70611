import { readFileSync } from 'node:fs';
import { rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoOf, NodeeError } from '../lib/errors.js';

export interface ResourceLimits {
  memoryMB?: number;
  /** Cores: 0.5 is half a core. */
  cpu?: number;
  pids?: number;
}

export interface Usage {
  memoryBytes: number | null;
  cpuSeconds: number | null;
  pids: number | null;
}

/**
 * The directories of one service's cgroup. On cgroup2 every field is the same directory; on a
 * v1/hybrid host each controller has its own (cpu and cpuacct share one where co-mounted) and
 * `unified` is the mirror in the controller-less cgroup2 hierarchy, kept for cgroup.kill.
 */
export interface CgroupDirs {
  v2: boolean;
  memory: string;
  cpu: string;
  cpuacct?: string;
  pids: string;
  freezer?: string;
  unified?: string;
}

/** The CFS period nodee sets: 100 ms, the kernel's default. */
const PERIOD_US = 100_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * cgroup control files are made by the kernel on read, never touch a disk and never block, so
 * they are read synchronously: fs.promises.readFile costs an open, an fstat and a read through
 * the thread pool each, about 20 times the CPU (3,000 files: 1.5 s against 60 ms).
 */
function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** A number from a cgroup file, or null when the file is absent or unreadable. */
function readNumber(file: string): number | null {
  const t = readText(file);
  const n = t === undefined ? NaN : Number(t.trim());
  return Number.isFinite(n) ? n : null;
}

/** The value of `key` in a flat-keyed file (cpu.stat, memory.events, memory.oom_control, cgroup.events). */
function readKey(file: string, key: string): number | null {
  const t = readText(file);
  const m = t === undefined ? null : new RegExp(`^${key} (\\d+)$`, 'm').exec(t);
  return m === null ? null : Number(m[1]);
}

/** Write a control file; a missing optional one (memory.swap.max without swap accounting) is skipped when `optional`. */
async function put(file: string, value: string, optional = false): Promise<void> {
  try {
    await writeFile(file, value);
  } catch (err) {
    if (optional && errnoOf(err) === 'ENOENT') return;
    throw err;
  }
}

export class ServiceCgroup {
  /** What a spawned child must do to enter the cgroup before exec: write its own pid to each of these. */
  readonly procsFiles: string[];
  private readonly unique: string[];

  constructor(
    readonly name: string,
    private readonly dirs: CgroupDirs,
  ) {
    this.unique = [...new Set([dirs.memory, dirs.cpu, dirs.cpuacct, dirs.pids, dirs.freezer, dirs.unified])].filter(
      (d): d is string => d !== undefined,
    );
    this.procsFiles = this.unique.map((d) => path.join(d, 'cgroup.procs'));
  }

  /** Every process in the cgroup: on v1 the union of the hierarchies, so one that entered only some still counts. */
  pids(): number[] {
    const all = new Set<number>();
    for (const f of this.procsFiles) {
      for (const line of (readText(f) ?? '').split('\n')) if (line !== '') all.add(Number(line));
    }
    return [...all].sort((a, b) => a - b);
  }

  /**
   * End everything in the cgroup, whatever it did to leave its process group or session.
   * cgroup.kill (cgroup2, and the hybrid host's unified mirror) kills atomically, forks in flight
   * included. Without it, or for a process that entered the v1 hierarchies only, the freezer
   * stops the cgroup so nothing can fork while each pid gets SIGKILL, then thaws it for the
   * signals to land. Resolves once the cgroup is empty; throws if it is not within 5 s.
   */
  async kill(): Promise<void> {
    const deadline = Date.now() + 5000;
    for (;;) {
      // cgroup.kill, then the kernel's own word that the cgroup is empty (cgroup.events
      // "populated 0"): right after the kill the dying tasks are still listed in cgroup.procs
      if (this.dirs.unified !== undefined && (await this.killNow())) {
        while (readKey(path.join(this.dirs.unified, 'cgroup.events'), 'populated') === 1 && Date.now() < deadline) await sleep(2);
      }
      let left = this.pids();
      if (left.length > 0 && this.dirs.freezer !== undefined) await this.freezeAndKill();
      else if (left.length > 0) this.signalAll(left); // no freezer: kill what we see, the loop catches forks
      left = this.pids();
      if (left.length === 0) return;
      if (Date.now() > deadline) {
        throw new NodeeError('INTERNAL', `cgroup ${this.name} still holds ${left.join(', ')} after SIGKILL`);
      }
      await sleep(20);
    }
  }

  /**
   * SIGKILL to everything in the cgroup at once, without waiting for it to be gone: what is
   * left when a service's main process exits. True when cgroup.kill did it; false where there
   * is none (then kill() is the way).
   */
  async killNow(): Promise<boolean> {
    if (this.dirs.unified === undefined) return false;
    try {
      await writeFile(path.join(this.dirs.unified, 'cgroup.kill'), '1');
      return true;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return false; // a kernel before 5.14, or the cgroup is gone
      throw err;
    }
  }

  private signalAll(pids: number[]): void {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {} // gone already
    }
  }

  private async freezeAndKill(): Promise<void> {
    const state = path.join(this.dirs.freezer!, 'freezer.state');
    await put(state, 'FROZEN');
    try {
      // FREEZING until every task has stopped; a bounded wait, the outer loop retries
      for (let i = 0; i < 50 && readText(state)?.trim() !== 'FROZEN'; i++) await sleep(10);
      this.signalAll(this.pids());
    } finally {
      await put(state, 'THAWED');
    }
  }

  /** Cheap reads; null where this host does not account it. */
  usage(): Usage {
    const d = this.dirs;
    let cpuSeconds: number | null;
    if (d.v2) {
      const usec = readKey(path.join(d.cpu, 'cpu.stat'), 'usage_usec');
      cpuSeconds = usec === null ? null : usec / 1e6;
    } else if (d.cpuacct !== undefined) {
      const ns = readNumber(path.join(d.cpuacct, 'cpuacct.usage'));
      cpuSeconds = ns === null ? null : ns / 1e9;
    } else cpuSeconds = null;
    return {
      memoryBytes: readNumber(path.join(d.memory, d.v2 ? 'memory.current' : 'memory.usage_in_bytes')),
      cpuSeconds,
      pids: readNumber(path.join(d.pids, 'pids.current')),
    };
  }

  /** How many processes the kernel's OOM killer has killed in this cgroup since it was made. */
  oomKills(): number {
    const d = this.dirs;
    const n = d.v2 ? readKey(path.join(d.memory, 'memory.events'), 'oom_kill') : readKey(path.join(d.memory, 'memory.oom_control'), 'oom_kill');
    return n ?? 0;
  }

  /**
   * Set all three limits; an absent one is lifted (the contract: absent means not limited).
   * `fresh`: the cgroup was just made, so it is unlimited already and only set limits are written.
   */
  async setLimits(l: ResourceLimits, o: { fresh?: boolean } = {}): Promise<void> {
    const d = this.dirs;
    const mem = l.memoryMB === undefined ? undefined : String(Math.floor(l.memoryMB * 1024 * 1024));
    // at least 1 ms per period: the kernel refuses a smaller quota
    const quota = l.cpu === undefined ? undefined : String(Math.max(1000, Math.round(l.cpu * PERIOD_US)));
    const pids = l.pids === undefined ? undefined : String(Math.floor(l.pids));
    const writes: Array<[string, string | undefined, string, boolean?]> = d.v2
      ? [
          [path.join(d.memory, 'memory.max'), mem, 'max'],
          // a memory limit that swap can get around is not one
          [path.join(d.memory, 'memory.swap.max'), mem === undefined ? undefined : '0', 'max', true],
          // an OOM kill ends the whole service, not one process of it (systemd's OOMPolicy=stop)
          [path.join(d.memory, 'memory.oom.group'), '1', '1', true],
          [path.join(d.cpu, 'cpu.max'), quota === undefined ? undefined : `${quota} ${PERIOD_US}`, `max ${PERIOD_US}`],
          [path.join(d.pids, 'pids.max'), pids, 'max'],
        ]
      : [
          [path.join(d.memory, 'memory.limit_in_bytes'), mem, '-1'],
          [path.join(d.cpu, 'cpu.cfs_period_us'), quota === undefined ? undefined : String(PERIOD_US), String(PERIOD_US)],
          [path.join(d.cpu, 'cpu.cfs_quota_us'), quota, '-1'],
          [path.join(d.pids, 'pids.max'), pids, 'max'],
        ];
    for (const [file, value, lifted, optional] of writes) {
      if (value !== undefined) await put(file, value, optional);
      else if (!o.fresh) await put(file, lifted, optional);
    }
  }

  /** rmdir in every hierarchy; the kernel may take a moment to let go of the last exited task. */
  async remove(): Promise<void> {
    for (const dir of this.unique) {
      for (let i = 0; ; i++) {
        try {
          await rmdir(dir);
          break;
        } catch (err) {
          const code = errnoOf(err);
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || i >= 50) throw err;
          await sleep(20);
        }
      }
    }
  }
}
