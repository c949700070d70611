import type { ChildProcess } from 'node:child_process';
import { isSameProcess } from '../lib/proc.js';
import type { ExitStatus } from '../contract/index.js';
import type { Spawned } from './steps/spawn.js';

/** What an exit nobody saw is: neither a code nor a signal is known. */
export const UNKNOWN_EXIT: ExitStatus = { code: null, signal: null };

/**
 * The process a runner watches: its own child, or one adopted from an earlier daemon.
 * Both answer the same questions, so the runner never branches on which it has. A child
 * reports its exit itself; an adopted process sends no event, so poll() looks in /proc
 * (pid and start time) and settles it with an unknown exit when it is gone.
 */
export class LiveProcess {
  private status: ExitStatus | undefined;
  private settle!: (exit: ExitStatus) => void;
  /** Resolves once, with the exit (unknown for an adopted process). */
  readonly exited: Promise<ExitStatus>;
  /** When this daemon began watching it (ms since the epoch): its spawn, or its adoption. Checks' grace counts from it. */
  readonly since = Date.now();

  private constructor(
    readonly pid: number,
    readonly startTime: number | null,
    private readonly child: ChildProcess | undefined,
  ) {
    this.exited = new Promise<ExitStatus>((resolve) => {
      this.settle = (exit) => {
        if (this.status) return;
        this.status = exit;
        resolve(exit);
      };
    });
  }

  static spawned(s: Spawned): LiveProcess {
    const live = new LiveProcess(s.pid, s.startTime, s.child);
    void s.exited.then((exit) => live.settle(exit));
    return live;
  }

  static adopted(pid: number, startTime: number): LiveProcess {
    return new LiveProcess(pid, startTime, undefined);
  }

  get isAdopted(): boolean {
    return this.child === undefined;
  }

  /** True once the process is gone; for an adopted one, looks in /proc first. */
  poll(): boolean {
    if (!this.status && !this.child && this.startTime !== null && !isSameProcess(this.pid, this.startTime)) this.settle(UNKNOWN_EXIT);
    return this.status !== undefined;
  }

  /** The daemon is exiting: stop listening and let the process outlive us. */
  detach(): void {
    this.child?.removeAllListeners('exit');
    this.child?.unref();
  }
}
