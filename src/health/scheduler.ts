import { NodeeError } from '../lib/errors.js';
import { probe, type ProbeResult, type ProbeTarget } from './probes.js';
import type { Check } from './schema.js';

/**
 * Runs the checks of every service on ONE timer: a min-heap of entries by due time, the timer
 * armed to the earliest. 1,000 services with a check each cost one timer and a heap of 1,000,
 * not 1,000 intervals. An entry is out of the heap while its probe runs, so a check never
 * overlaps itself; it goes back due `intervalMs` after its start (at once if the probe took
 * longer). exec probes, which each cost a process, share a small semaphore.
 */
export interface SchedulerOptions {
  /** exec probes running at once, at most (default 4). */
  execConcurrency?: number;
  /** A throwing onResult is reported here; the scheduler goes on. */
  onError?(err: unknown): void;
}

/** The longest delay of a first run (see add()). */
export const MAX_JITTER_MS = 1000;

export type OnResult = (result: ProbeResult, startedAt: number) => void;

interface Entry {
  key: string;
  check: Check;
  target: ProbeTarget;
  onResult: OnResult;
  due: number;
  /** Aborts the probe in flight when the entry is removed. */
  abort: AbortController;
  removed: boolean;
}

export class HealthScheduler {
  private readonly heap: Entry[] = [];
  private readonly byKey = new Map<string, Set<Entry>>();
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private armed = 0;
  private closed = false;
  private readonly execLimit: number;
  private execRunning = 0;
  private readonly execQueue: (() => void)[] = [];
  private runs = 0;

  constructor(private readonly o: SchedulerOptions = {}) {
    this.execLimit = Math.max(1, o.execConcurrency ?? 4);
  }

  /** Timers armed by the scheduler right now: 0 or 1, whatever the number of checks. */
  get pendingTimers(): number {
    return this.armed;
  }

  /** Checks scheduled (waiting or running). */
  get size(): number {
    let n = 0;
    for (const set of this.byKey.values()) n += set.size;
    return n;
  }

  /** Probes in flight, and exec probes among them (for the tests of the bounds). */
  get running(): { all: number; exec: number; execQueued: number } {
    return { all: this.runs, exec: this.execRunning, execQueued: this.execQueue.length };
  }

  /**
   * Schedules `check` under `key` (a service's coordinate). The first run is at once, delayed
   * by up to 10 % of the interval so that services added together (a daemon start re-adopting
   * 1,000 of them) spread out instead of probing in one burst; at most MAX_JITTER_MS, since
   * the first readiness result is what a start (and a dependent, an upgrade) waits for.
   */
  add(key: string, check: Check, target: ProbeTarget, onResult: OnResult): void {
    if (this.closed) throw new NodeeError('SHUTTING_DOWN', 'health checks are closed');
    const entry: Entry = { key, check, target, onResult, due: Date.now() + Math.random() * Math.min(0.1 * check.intervalMs, MAX_JITTER_MS), abort: new AbortController(), removed: false };
    let set = this.byKey.get(key);
    if (!set) this.byKey.set(key, (set = new Set()));
    set.add(entry);
    this.push(entry);
    this.arm();
  }

  /** Stops every check of `key`, aborting probes in flight; their results are dropped. Safe twice. */
  remove(key: string): void {
    const set = this.byKey.get(key);
    if (!set) return;
    this.byKey.delete(key);
    for (const e of set) {
      // left in the heap and skipped when popped: removing from the middle of a heap costs more
      e.removed = true;
      e.abort.abort();
    }
  }

  close(): void {
    this.closed = true;
    for (const key of [...this.byKey.keys()]) this.remove(key);
    this.heap.length = 0;
    this.disarm();
  }

  private arm(): void {
    // drop removed entries at the top so the timer is not armed for nothing
    while (this.heap.length > 0 && this.heap[0]!.removed) this.pop();
    const next = this.heap[0];
    if (!next) return this.disarm();
    if (this.timer && this.timerDue <= next.due) return;
    this.disarm();
    this.timerDue = next.due;
    this.armed++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDue = Infinity;
      this.armed--;
      this.fire();
    }, Math.max(0, next.due - Date.now()));
    // health checks alone never keep the daemon (or a test) alive
    this.timer.unref();
  }

  private disarm(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
    this.armed--;
  }

  private fire(): void {
    const now = Date.now();
    while (this.heap.length > 0 && this.heap[0]!.due <= now) {
      const e = this.pop()!;
      if (!e.removed) void this.run(e);
    }
    this.arm();
  }

  private async run(e: Entry): Promise<void> {
    this.runs++;
    let exec = false;
    try {
      if (e.check.exec) {
        await this.acquireExec();
        exec = true;
        if (e.removed) return;
      }
      const startedAt = Date.now();
      const result = await probe(e.check, e.target, e.abort.signal);
      if (e.removed) return;
      try {
        e.onResult(result, startedAt);
      } catch (err) {
        this.o.onError?.(err);
      }
      // the result callback may have removed the key
      if (e.removed) return;
      e.due = Math.max(Date.now(), startedAt + e.check.intervalMs);
      this.push(e);
      this.arm();
    } finally {
      this.runs--;
      if (exec) this.releaseExec();
    }
  }

  private acquireExec(): Promise<void> {
    if (this.execRunning < this.execLimit) {
      this.execRunning++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.execQueue.push(resolve));
  }

  private releaseExec(): void {
    const next = this.execQueue.shift();
    // the slot passes straight to the next waiter: execRunning stays the same
    if (next) next();
    else this.execRunning--;
  }

  // a binary min-heap on `due`, in an array
  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.due <= h[i]!.due) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.due < h[m]!.due) m = l;
        if (r < h.length && h[r]!.due < h[m]!.due) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}
