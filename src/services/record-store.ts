import { promises as fs } from 'node:fs';
import path from 'node:path';
import { JsonStore, STATE_DIR_MODE } from '../lib/json-store.js';
import type { Logger } from '../lib/log.js';
import type { ServiceRecord } from './state.js';

const VERSION = 1;

/**
 * One crash-safe file per service under `<prefix>/state/services/`, so a change to one
 * service rewrites a few hundred bytes, not the whole fleet's records. JsonStore coalesces:
 * a burst of transitions costs at most two fsyncs and never delays a spawn.
 */
export class RecordFile {
  private readonly store: JsonStore<ServiceRecord>;

  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {
    this.store = new JsonStore<ServiceRecord>(file, VERSION);
  }

  /** Logged once per failure, not once per change: a full disk can last a while. */
  private failing = false;

  save(record: ServiceRecord): void {
    this.store.write(record).then(
      () => {
        if (this.failing) this.log.info({ file: this.file }, 'service state is on disk again');
        this.failing = false;
      },
      (err: unknown) => {
        if (!this.failing) this.log.error({ err, file: this.file }, 'cannot persist service state; retrying');
        this.failing = true;
      },
    );
  }

  /** Resolves once everything saved so far is on disk; STATE_WRITE_FAILED while it is not. */
  flush(): Promise<void> {
    return this.store.flush();
  }

  /** Removes the record; a snapshot that never reached the disk is dropped, not retried. */
  async delete(): Promise<void> {
    await this.store.discard();
    await fs.rm(this.file, { force: true });
  }
}

export class RecordDir {
  constructor(
    readonly dir: string,
    private readonly log: Logger,
  ) {}

  fileFor(coordinate: string): RecordFile {
    return new RecordFile(path.join(this.dir, `${coordinate}.json`), this.log);
  }

  /** Every readable record; temp files left by a crash are removed, unreadable records logged and skipped. */
  async loadAll(): Promise<ServiceRecord[]> {
    await fs.mkdir(this.dir, { recursive: true, mode: STATE_DIR_MODE });
    const out: ServiceRecord[] = [];
    for (const name of (await fs.readdir(this.dir)).sort()) {
      const file = path.join(this.dir, name);
      if (name.startsWith('.') && name.endsWith('.tmp')) {
        await fs.rm(file, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const record = await new JsonStore<ServiceRecord>(file, VERSION).read();
        if (record && record.spec?.coordinate === name.slice(0, -'.json'.length)) out.push(record);
        else this.log.error({ file }, 'service record does not match its file name; ignored');
      } catch (err) {
        this.log.error({ err, file }, 'unreadable service record; ignored');
      }
    }
    return out;
  }
}
