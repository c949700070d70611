import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * A crash-safe JSON file: written to a temp file, fsynced, renamed over the old one,
 * and the directory fsynced, so a crash at any instant leaves either the old or the new
 * content, never a torn file. Versioned so a later nodee can migrate older records.
 */
export interface Envelope<T> {
  version: number;
  data: T;
}

export class JsonStore<T> {
  private last: string | undefined;
  /** The newest snapshot not yet written, and who waits for it. */
  private next: { text: string; waiters: { resolve(): void; reject(err: unknown): void }[] } | undefined;
  private writing: Promise<void> | undefined;

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
   * this snapshot or a newer one is on disk.
   */
  write(data: T): Promise<void> {
    const text = JSON.stringify({ version: this.version, data } satisfies Envelope<T>, null, 1) + '\n';
    return new Promise<void>((resolve, reject) => {
      this.next = { text, waiters: [...(this.next?.waiters ?? []), { resolve, reject }] };
      // from a microtask: a drain with nothing to write finishes synchronously, and must not
      // clear `writing` before this assignment sets it
      this.writing ??= Promise.resolve().then(() => this.drain());
    });
  }

  /** Resolves once everything written so far is on disk (or has failed). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
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
          for (const w of waiters) w.resolve();
        } catch (err) {
          for (const w of waiters) w.reject(err);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}

export async function writeFileAtomic(file: string, content: string | Buffer, mode = 0o644): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await fs.open(tmp, 'w', mode);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
  await fsyncDir(dir);
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
