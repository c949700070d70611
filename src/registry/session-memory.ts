import { JsonStore } from '../lib/json-store.js';
import type { Logger } from '../lib/log.js';

/** Sessions kept: enough for a few quick restarts and local expiries in a row. */
const KEEP = 8;

/**
 * The ZooKeeper sessions this nodee instance has held, so that a node left by our own
 * previous process (killed -9 and restarted before its session expired) is recognised by
 * its ephemeralOwner and replaced, while a node of any other session is never touched.
 * Kept in memory and, when a file is given (`<prefix>/state/zookeeper-sessions.json`),
 * on disk: each id is written before the node is created with it.
 */
export class SessionMemory {
  private readonly ids = new Set<string>();
  private readonly adding = new Map<string, Promise<void>>();
  private readonly store: JsonStore<{ sessions: string[] }> | undefined;
  readonly loaded: Promise<void>;

  constructor(file: string | undefined, private readonly log: Logger) {
    this.store = file ? new JsonStore(file, 1) : undefined;
    this.loaded = this.load();
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Adds `id`; resolves once it is on disk (for every caller). A write failure is logged, never thrown. */
  remember(id: string): Promise<void> {
    let done = this.adding.get(id);
    if (!done) {
      done = this.add(id);
      this.adding.set(id, done);
    }
    return done;
  }

  private async add(id: string): Promise<void> {
    await this.loaded;
    if (this.ids.has(id)) return;
    this.ids.add(id);
    const recent = [...this.ids].slice(-KEEP);
    if (!this.store) return;
    try {
      await this.store.write({ sessions: recent });
    } catch (err) {
      this.log.warn({ err, file: this.store.file }, 'cannot record the zookeeper session id; a quick restart will wait for its expiry');
    }
  }

  private async load(): Promise<void> {
    if (!this.store) return;
    try {
      const data = await this.store.read();
      for (const id of data?.sessions ?? []) if (typeof id === 'string' && /^[0-9a-f]{16}$/.test(id)) this.ids.add(id);
    } catch (err) {
      this.log.warn({ err, file: this.store.file }, 'cannot read the previous zookeeper session ids; ignoring them');
    }
  }
}
