import { promises as fs, readFileSync } from 'node:fs';
import { errnoOf } from '../lib/errors.js';
import { parseStat } from '../lib/proc.js';

/**
 * What nodee reads of /proc to stop a service's whole tree: process groups (the service is
 * a group leader) and the NODEE_RUNTIME_DIR every service process inherits, which still
 * marks a child that called setsid() and double-forked away from the group and the tree.
 *
 * A full scan reads every process, so scans are shared: concurrent callers (a node drain
 * stopping hundreds of services) within SHARE_MS get one scan.
 */
const SHARE_MS = 50;
const MARKER = 'NODEE_RUNTIME_DIR=';

interface ProcEntry {
  pid: number;
  pgid: number;
  zombie: boolean;
  runtimeDir: string | undefined;
}

let shared: { at: number; scan: Promise<ProcEntry[]> } | undefined;

function scan(): Promise<ProcEntry[]> {
  const now = Date.now();
  if (shared && now - shared.at < SHARE_MS) return shared.scan;
  const current = { at: now, scan: readAll() };
  shared = current;
  return current.scan;
}

async function readAll(): Promise<ProcEntry[]> {
  const pids = (await fs.readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number).filter((p) => p !== process.pid);
  const out: ProcEntry[] = [];
  const CHUNK = 64;
  for (let i = 0; i < pids.length; i += CHUNK) {
    const entries = await Promise.all(pids.slice(i, i + CHUNK).map(readEntry));
    for (const e of entries) if (e) out.push(e);
  }
  return out;
}

async function readEntry(pid: number): Promise<ProcEntry | undefined> {
  try {
    const stat = parseStat(await fs.readFile(`/proc/${pid}/stat`, 'utf8'));
    let runtimeDir: string | undefined;
    try {
      const environ = await fs.readFile(`/proc/${pid}/environ`, 'utf8');
      const at = environ.indexOf(MARKER);
      if (at >= 0 && (at === 0 || environ[at - 1] === '\0')) {
        const end = environ.indexOf('\0', at);
        runtimeDir = environ.slice(at + MARKER.length, end < 0 ? undefined : end);
      }
    } catch {
      // kernel threads and processes we may not read: not ours
    }
    return { pid, pgid: stat.pgid, zombie: stat.state === 'Z', runtimeDir };
  } catch {
    return undefined; // gone while scanning
  }
}

/** Sends `signal` to a process group; a group already gone is fine. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if (errnoOf(err) !== 'ESRCH') throw err;
  }
}

export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if (errnoOf(err) !== 'ESRCH') throw err;
  }
}

/**
 * Answers "is anything of this process group still alive?" while a stop waits. kill(-pgid, 0)
 * answers the common case in one syscall, but it also succeeds for zombies (an init that
 * does not reap leaves them), so a positive answer is checked against the members seen in
 * one full scan, re-reading only their /proc/<pid>/stat on later polls; a second full scan
 * confirms before the group is declared gone. A stubborn tree waiting out a 10 s timeout
 * thus costs a few reads per poll, not a scan of every process on the host.
 */
export class GroupWatch {
  private members: number[] | undefined;

  constructor(private readonly pgid: number) {}

  async alive(): Promise<boolean> {
    try {
      process.kill(-this.pgid, 0);
    } catch (err) {
      return errnoOf(err) !== 'ESRCH';
    }
    this.members = (this.members ?? (await this.scanMembers())).filter((pid) => liveInGroup(pid, this.pgid));
    if (this.members.length > 0) return true;
    this.members = await this.scanMembers();
    return this.members.length > 0;
  }

  private async scanMembers(): Promise<number[]> {
    return (await scan()).filter((e) => e.pgid === this.pgid && !e.zombie).map((e) => e.pid);
  }
}

function liveInGroup(pid: number, pgid: number): boolean {
  try {
    const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return stat.state !== 'Z' && stat.pgid === pgid;
  } catch {
    return false;
  }
}

/** Live processes carrying this service's NODEE_RUNTIME_DIR, wherever they went. */
export async function markedProcesses(runtimeDir: string): Promise<number[]> {
  return (await scan()).filter((e) => e.runtimeDir === runtimeDir && !e.zombie).map((e) => e.pid);
}

/**
 * A live group leader carrying this runtime dir: the service process itself, found when the
 * daemon died before recording its pid.
 */
export async function findLeader(runtimeDir: string): Promise<number | undefined> {
  return (await scan()).find((e) => e.runtimeDir === runtimeDir && e.pgid === e.pid && !e.zombie)?.pid;
}
