import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** R, S, D, Z (zombie), T… */
  state: string;
  pgid: number;
  /** Clock ticks since boot. */
  startTime: number;
}

/** The fields nodee uses from the text of /proc/<pid>/stat. */
export function parseStat(text: string): ProcStat {
  // the command name (field 2) may hold spaces and parentheses: split after the last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgid: Number(fields[2]), startTime: Number(fields[19]) };
}

/**
 * A process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or
 * undefined when the pid is gone. Together with the pid it names one process for good:
 * a pid reused after a reboot or a wrap-around has another start time.
 */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const { state, startTime } = parseStat(stat);
  // a zombie has exited: it is not a live process to adopt or to fear
  if (state === 'Z' || !Number.isFinite(startTime)) return undefined;
  return startTime;
}

/** True when `pid` is alive and is still the process that started at `startTime`. */
export function isSameProcess(pid: number, startTime: number): boolean {
  return processStartTime(pid) === startTime;
}

/** Whether the daemon runs as root: only then can it switch users, chown, mount and make cgroups. */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}
