import { promises as fs, statSync } from 'node:fs';
import type { Logger } from '../lib/log.js';
import { logFile, type LogStream } from './steps/logs.js';

const TICK_MS = 100;
const MAX_INTERVAL_MS = 30_000;
/** Files stat'ed in one tick at most, so a thousand quiet logs falling due together never stall the API. */
const MAX_PER_TICK = 200;

interface Watched {
  file: string;
  nextCheck: number;
  lastSize: number;
  lastAt: number;
  busy: boolean;
}

/**
 * Size-based rotation of every service's logs, done by the daemon because services write
 * to the files directly. copytruncate: `.N-1`→`.N` … `.1`→`.2`, copy the file to `.1`,
 * truncate it; the service's O_APPEND fd goes on writing at the new end. Lines written
 * between the copy and the truncate are lost (the known copytruncate trade-off).
 *
 * Checking 2,000 files every second would cost more than the services it watches, so each
 * file is checked again when, at the rate it has been growing, it could reach half the
 * limit: a quiet log is looked at every 30 s, a flood every 100 ms. The timer sleeps until
 * the next file is due, and the size check is one synchronous stat (microseconds), so 1,000
 * idle services cost next to nothing.
 */
export class LogRotator {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (Infinity: none armed). */
  private due = Infinity;

  constructor(
    private readonly o: { maxBytes: number; keep: number; log: Logger; now?: () => number },
  ) {}

  add(logDir: string): void {
    for (const stream of ['stdout', 'stderr'] as LogStream[]) {
      const file = logFile(logDir, stream);
      if (!this.watched.has(file)) this.watched.set(file, { file, nextCheck: 0, lastSize: 0, lastAt: this.now(), busy: false });
    }
    this.schedule(this.now());
  }

  remove(logDir: string): void {
    for (const stream of ['stdout', 'stderr'] as LogStream[]) this.watched.delete(logFile(logDir, stream));
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.due = Infinity;
    this.watched.clear();
  }

  /** Arms the timer for `at` unless it already fires sooner. */
  private schedule(at: number): void {
    if (at >= this.due) return;
    clearTimeout(this.timer);
    this.due = at;
    this.timer = setTimeout(() => this.tick(), Math.max(TICK_MS, at - this.now())).unref();
  }

  /** Checks every due file, then sleeps until the next one is due. */
  private tick(): void {
    const now = this.now();
    this.due = Infinity;
    let next = Infinity;
    let checked = 0;
    for (const w of this.watched.values()) {
      if (!w.busy && w.nextCheck <= now && checked < MAX_PER_TICK) {
        checked++;
        this.check(w, now);
      }
      next = Math.min(next, w.busy || w.nextCheck <= now ? now + TICK_MS : w.nextCheck);
    }
    if (next < Infinity) this.schedule(next);
  }

  private check(w: Watched, now: number): void {
    let size: number;
    try {
      size = statSync(w.file).size;
    } catch {
      w.nextCheck = now + MAX_INTERVAL_MS * (2 / 3 + Math.random() / 3);
      return;
    }
    if (size < this.o.maxBytes) {
      this.plan(w, now, size, size);
      return;
    }
    w.busy = true;
    rotate(w.file, this.o.keep)
      .catch((err: unknown) => this.o.log.warn({ err, file: w.file }, 'log rotation failed'))
      .finally(() => {
        w.busy = false;
        this.plan(w, now, size, 0);
      });
  }

  /** Next check: when, growing as it did, the file could reach half the limit. */
  private plan(w: Watched, now: number, measured: number, size: number): void {
    // measured before a rotation resets the size, so a flood stays on the short interval
    const rate = Math.max(0, measured - w.lastSize) / Math.max(1, now - w.lastAt); // bytes per ms
    // quiet files are spread over the last third of the interval rather than all due at once
    const quiet = MAX_INTERVAL_MS * (2 / 3 + Math.random() / 3);
    const untilHalf = rate > 0 ? (this.o.maxBytes - size) / rate / 2 : quiet;
    w.nextCheck = now + Math.min(quiet, Math.max(TICK_MS, untilHalf));
    w.lastSize = size;
    w.lastAt = now;
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }
}

/** copytruncate with `keep` old files; safe to repeat, a missing `.i` is skipped. */
export async function rotate(file: string, keep: number): Promise<void> {
  if ((await fs.lstat(file)).isSymbolicLink()) throw new Error(`${file} is a symlink: not rotated`);
  for (let i = keep - 1; i >= 1; i--) {
    await fs.rename(`${file}.${i}`, `${file}.${i + 1}`).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  await fs.copyFile(file, `${file}.1`);
  // the copy is root's; give it the group the service reads its logs with
  const { uid, gid } = await fs.lstat(file);
  await fs.lchown(`${file}.1`, uid, gid).catch(() => undefined);
  await fs.truncate(file, 0);
}
