import { zkCode, type ZkClient, type ZkEvent } from '../registry/index.js';

/** Reads in flight at once when many znodes are read together (one connection pipelines them). */
const READ_WIDTH = 64;

/**
 * What the leader read of the cell, kept until ZooKeeper says it changed. A watched read
 * stays cached until its watch fires (watches are one-shot: the next read sets it again); an
 * unwatched one (the assignments, which only the leader writes) until the leader's own write
 * updates it. A pass then reads only what moved: with 1,000 node records and 10,000
 * assignments, a pass after one node's record changed reads one znode, not 11,000. A new
 * session (its watches are gone) or a new leadership starts empty.
 */
export class CellCache {
  private readonly data = new Map<string, Buffer | null>();
  private readonly kids = new Map<string, string[]>();

  constructor(
    private readonly client: ZkClient,
    private readonly changed: () => void,
  ) {
    client.on('session', () => this.clear());
  }

  clear(): void {
    this.data.clear();
    this.kids.clear();
  }

  private readonly onEvent = (e: ZkEvent): void => {
    if (e.type === 'childrenChanged') this.kids.delete(e.path);
    else {
      this.data.delete(e.path);
      this.kids.delete(e.path);
    }
    this.changed();
  };

  /** The children of `path` ([] while it does not exist: then its creation is watched). */
  async children(path: string, watched = true): Promise<string[]> {
    const known = this.kids.get(path);
    if (known) return known;
    const watch = watched ? this.onEvent : undefined;
    let names: string[];
    try {
      names = await this.client.getChildren(path, watch);
    } catch (err) {
      if (zkCode(err) !== 'NO_NODE') throw err;
      // a watch on a missing node's children is refused: watch for it to appear instead
      if (watched) await this.client.exists(path, watch);
      names = [];
    }
    const sorted = names.sort();
    this.kids.set(path, sorted);
    return sorted;
  }

  /** The data at `path`, null when there is no such node. */
  async read(path: string, watched = true): Promise<Buffer | null> {
    if (this.data.has(path)) return this.data.get(path)!;
    let value: Buffer | null;
    try {
      value = (await this.client.getData(path, watched ? this.onEvent : undefined)).data;
    } catch (err) {
      if (zkCode(err) !== 'NO_NODE') throw err;
      if (watched) await this.client.exists(path, this.onEvent);
      value = null;
    }
    this.data.set(path, value);
    return value;
  }

  /** read() of many paths, a few at a time, in the order given. */
  async readAll(paths: readonly string[], watched = true): Promise<(Buffer | null)[]> {
    const out: (Buffer | null)[] = new Array(paths.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < paths.length) {
        const i = next++;
        out[i] = await this.read(paths[i]!, watched);
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_WIDTH, paths.length) }, worker));
    return out;
  }

  /**
   * The leader wrote `path`: the cache follows without a read. `newParent`: the write made its
   * parent too (the first assignment of a node), so the parent's only child is this one.
   */
  wrote(path: string, data: Buffer, newParent = false): void {
    this.data.set(path, data);
    const { parent, name } = split(path);
    if (newParent) {
      this.kids.set(parent, [name]);
      this.added(parent);
    } else this.added(path);
  }

  private added(path: string): void {
    const { parent, name } = split(path);
    const siblings = this.kids.get(parent);
    if (siblings && !siblings.includes(name)) this.kids.set(parent, [...siblings, name].sort());
  }

  /**
   * A write of `path` failed, or its outcome is unknown (a timeout after the server applied
   * it): what the cache holds of it and its parent is no longer known, so it is read again.
   */
  forget(path: string): void {
    this.data.delete(path);
    this.kids.delete(path);
    this.kids.delete(split(path).parent);
  }

  removed(path: string): void {
    this.data.set(path, null);
    const { parent, name } = split(path);
    const siblings = this.kids.get(parent);
    if (siblings) this.kids.set(parent, siblings.filter((n) => n !== name));
  }
}

function split(path: string): { parent: string; name: string } {
  const at = path.lastIndexOf('/');
  return { parent: path.slice(0, at), name: path.slice(at + 1) };
}
