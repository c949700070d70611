import type { Logger } from '../lib/log.js';
import { zkCode, type ZkClient } from '../registry/index.js';
import { sequenceOf } from './candidates.js';

export interface LeftoversOptions {
  client: ZkClient;
  /** The election directory. */
  dir: string;
  /** Our instance: the data of every node we create. */
  instance: string;
  log: Logger;
  /** The instance in a candidate's node, undefined when it is gone. */
  instanceAt(name: string): Promise<string | undefined>;
}

/**
 * Election nodes of ours that are not our current node. Left where they are, they stand
 * ahead of our new node until their session expires, and a dead leader's node keeps the
 * whole cell without a leader that long. They come from:
 * - an earlier session of this process (an expiry declared while cut off: the server may not
 *   have expired it yet) — known by path;
 * - a create whose answer was lost (it may have landed) — not known by name;
 * - our previous process, killed and restarted while its session lived on — not known either.
 * The unknown ones are found by their data (our instance) among the nodes ahead of ours:
 * once at start and after a lost create, since that reads every node ahead of us. Instance
 * names are unique in a fleet (presence reports a clash as a conflict); two live daemons
 * misconfigured with one name would remove each other's node only when they join.
 */
export class Leftovers {
  private readonly known = new Set<string>();
  private scan = true;

  constructor(private readonly o: LeftoversOptions) {}

  /** `path` was our node in a session that ended. */
  left(path: string): void {
    this.known.add(path);
  }

  /** A create of ours got no answer: look for a node it may have made. */
  lostCreate(): void {
    this.scan = true;
  }

  /** Removes our leftovers, `ours` (the current node) excepted. Throws on ZooKeeper failures (the round is retried). */
  async sweep(ours: string): Promise<void> {
    const { client, dir } = this.o;
    if (this.scan) {
      const mine = sequenceOf(ours.slice(dir.length + 1)) ?? 0;
      for (const name of await client.getChildren(dir)) {
        const seq = sequenceOf(name);
        if (seq !== undefined && seq < mine && (await this.o.instanceAt(name)) === this.o.instance) this.known.add(`${dir}/${name}`);
      }
      this.scan = false;
    }
    for (const path of this.known) {
      if (path === ours) continue;
      try {
        await client.remove(path);
        this.o.log.info({ node: path }, 'removed our election node of an earlier session');
      } catch (err) {
        if (zkCode(err) !== 'NO_NODE') throw err;
      }
      this.known.delete(path);
    }
  }
}
