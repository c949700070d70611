import { openSync, readFileSync, writeSync, closeSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { NodeeError } from '../lib/errors.js';
import { isSameProcess, processStartTime } from '../lib/proc.js';

/**
 * One daemon per prefix: two would both supervise (and restart) the same services. The
 * lock file holds the owner's pid and start time, so a lock left by a daemon that was
 * killed -9 is recognised as stale even if its pid has been reused.
 */
export class PrefixLock {
  private constructor(private readonly file: string) {}

  static acquire(stateDir: string): PrefixLock {
    const file = path.join(stateDir, 'daemon.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx', 0o600);
        writeSync(fd, JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) }) + '\n');
        closeSync(fd);
        return new PrefixLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = readOwner(file);
      if (owner && owner.pid !== process.pid && isSameProcess(owner.pid, owner.startTime)) {
        throw new NodeeError('PREFIX_IN_USE', `another nodee daemon (pid ${owner.pid}) is running on this prefix`);
      }
      unlinkSync(file); // stale: its owner is gone
    }
    throw new NodeeError('PREFIX_IN_USE', `cannot take ${file}`);
  }

  release(): void {
    try {
      unlinkSync(this.file);
    } catch {
      // already gone: nothing to release
    }
  }
}

function readOwner(file: string): { pid: number; startTime: number } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown; startTime?: unknown };
    if (typeof parsed.pid === 'number' && typeof parsed.startTime === 'number') return { pid: parsed.pid, startTime: parsed.startTime };
  } catch {
    // torn or empty (a crash while writing it): treat as stale
  }
  return undefined;
}
