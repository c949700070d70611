import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { NodeeError, errnoOf, messageOf } from './errors.js';

/**
 * A crash-safe JSON file: written to a temp file, fsynced, renamed over the old one,
 * and the directory fsynced, so a crash at any instant leaves either the old or the new
 * content, never a torn file. Versioned so a later nodee can migrate older records.
 */
export interface Envelope<T> {
  version: number;
  data: T;
}

/** State files hold secrets (a service's env): only root reads them. */
export const STATE_FILE_MODE = 0o600;
export const STATE_DIR_MODE = 0o700;

/** A failed write is tried again after these delays (doubling), until it lands or is replaced. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;

export class JsonStore<T> {
  private last: string | undefined;
  /** The newest snapshot not yet written, and who waits for it. */
  private next: { text: string; waiters: { resolve(): void; reject(err: unknown): void }[] } | undefined;
  private writing: Promise<void> | undefined;
  /** Set while the newest snapshot is not on disk because its write failed. */
  private failure: NodeeError | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_FIRST_MS;
  private discarded = false;

  constructor(
    readonly file: string,
    private readonly version: number,
  ) {}

  /** The stored data, or undefined when there is none yet. A torn or foreign file throws. */
  async read(): Promise<T | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = JSON.parse(text) as Envelope<T>;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.version !== 'number') {
      throw new Error(`${this.file}: not a nodee state file`);
    }
    if (parsed.version > this.version) {
      throw new Error(`${this.file}: written by a newer nodee (version ${parsed.version} > ${this.version})`);
    }
    this.last = text;
    return parsed.data;
  }

  /**
   * Writes are serialised, coalesced (while one is on its way to disk, only the newest
   * snapshot is written next) and skipped when nothing changed. The promise resolves once
   * this snapshot or a newer one is on disk, and rejects with STATE_WRITE_FAILED when the
   * write failed (a full disk): the store then keeps the snapshot and tries it again in
   * the background, so the file catches up as soon as the disk allows.
   */
  write(data: T): Promise<void> {
    const text = JSON.stringify({ version: this.version, data } satisfies Envelope<T>, null, 1) + '\n';
    this.discarded = false;
    return new Promise<void>((resolve, reject) => {
      this.next = { text, waiters: [...(this.next?.waiters ?? []), { resolve, reject }] };
      this.kick();
    });
  }

  /**
   * Resolves once everything written so far is on disk; rejects with STATE_WRITE_FAILED
   * while the newest snapshot is not (its retries go on).
   */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.failure) throw this.failure;
  }

  /** Drops a snapshot not yet written and stops retrying it (the record is being deleted). */
  async discard(): Promise<void> {
    this.discarded = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const w of this.next?.waiters ?? []) w.resolve();
    this.next = undefined;
    while (this.writing) await this.writing;
    this.failure = undefined;
  }

  private kick(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    // from a microtask: a drain with nothing to write finishes synchronously, and must not
    // clear `writing` before this assignment sets it
    this.writing ??= Promise.resolve().then(() => this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.next) {
        const { text, waiters } = this.next;
        this.next = undefined;
        try {
          if (text !== this.last) {
            await writeFileAtomic(this.file, text);
            this.last = text;
          }
          this.failure = undefined;
          this.retryMs = RETRY_FIRST_MS;
          for (const w of waiters) w.resolve();
        } catch (err) {
          this.failure = new NodeeError('STATE_WRITE_FAILED', `cannot write ${path.basename(this.file)} (${errnoOf(err) ?? messageOf(err)}); the daemon keeps trying`, { cause: err });
          for (const w of waiters) w.reject(this.failure);
          // keep the snapshot unless a newer one came meanwhile; nobody waits on the retry
          if (!this.discarded) this.next ??= { text, waiters: [] };
          break;
        }
      }
    } finally {
      this.writing = undefined;
      if (this.next && this.failure && !this.discarded) this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, delay);
    this.retryTimer.unref();
  }
}

/**
 * temp + fsync + rename + fsync(dir). The temp file gets a random name and is created
 * exclusively; whatever fails on the way (ENOSPC mid-write) removes it again, so a full
 * disk never leaves 0-byte files behind for the next start to trip on.
 */
export async function writeFileAtomic(file: string, content: string | Buffer, mode = STATE_FILE_MODE): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: STATE_DIR_MODE });
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let renamed = false;
  try {
    const handle = await fs.open(tmp, 'wx', mode);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
    renamed = true;
    await fsyncDir(dir);
  } finally {
    if (!renamed) await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Tightens a state directory written by an older nodee (0755 dirs, 0644 files): 0700 and
 * 0600 all the way down. The tree is root's own, so walking it by path is safe.
 */
export async function sealStateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: STATE_DIR_MODE });
  await fs.chmod(dir, STATE_DIR_MODE);
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await sealStateDir(p);
    else if (e.isFile()) await fs.chmod(p, STATE_FILE_MODE);
  }
}
