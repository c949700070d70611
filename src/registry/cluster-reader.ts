import { EventEmitter } from 'node:events';
import type { Logger } from '../lib/log.js';
import type { NodeRecord } from '../contract/index.js';
import { decodeRecord } from './record.js';
import { ZkClient, zkCode, type ZkEvent } from './zk-client.js';

/** One child of nodesPath: its record, or why it could not be read as one. */
export interface ClusterNode {
  instance: string;
  record?: NodeRecord;
  error?: string;
}

export interface ClusterReaderOptions {
  connect: string;
  nodesPath: string;
  log: Logger;
}

/** Events within this window are read as one change. */
const SETTLE_MS = 50;

/**
 * The fleet as ZooKeeper shows it: the children of nodesPath and their records. `watch()`
 * emits 'change' with the whole view now and after every change; a change costs a read of
 * what changed only (the child list, or the one node whose data changed), so a fleet of N
 * nodes each updating its record is N reads, not N². After a reconnect or a new session
 * (whose watches start empty) everything is read again. Emits 'state' too.
 */
export class ClusterReader extends EventEmitter {
  private readonly client: ZkClient;
  private watching = false;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private again = false;
  /** What watch() knows: each node's last reading. */
  private readonly view = new Map<string, ClusterNode>();
  /** What to read at the next refresh: the child list, everything, or these nodes. */
  private dirty: { children: boolean; all: boolean; nodes: Set<string> } = { children: true, all: true, nodes: new Set() };

  constructor(private readonly o: ClusterReaderOptions) {
    super();
    this.client = new ZkClient({ connect: o.connect, sessionTimeoutMs: 10_000, log: o.log });
    this.client.on('state', (state) => {
      this.emit('state', state);
      if (state === 'connected' && this.watching) {
        // the watches may be gone with the old connection or session: read it all again
        this.dirty = { children: true, all: true, nodes: new Set() };
        this.schedule();
      }
    });
    this.client.start();
  }

  /** Resolves once connected; rejects after `timeoutMs` naming the connect string. */
  connected(timeoutMs: number): Promise<void> {
    return whenConnected(this.client, this.o.connect, timeoutMs);
  }

  /** The current view, sorted by instance; an absent nodesPath is an empty fleet. */
  read(): Promise<ClusterNode[]> {
    return readFleet(this.client, this.o.nodesPath);
  }

  /** Starts following changes: 'change' (ClusterNode[]) now and on every change. */
  watch(): void {
    if (this.watching) return;
    this.watching = true;
    this.schedule();
  }

  close(): Promise<void> {
    this.watching = false;
    clearTimeout(this.timer);
    return this.client.close();
  }

  private readonly onEvent = (e: ZkEvent): void => {
    const instance = e.path.startsWith(`${this.o.nodesPath}/`) ? e.path.slice(this.o.nodesPath.length + 1) : undefined;
    if (instance && e.type === 'deleted') this.view.delete(instance);
    else if (instance) this.dirty.nodes.add(instance);
    else this.dirty.children = true;
    this.schedule();
  };

  private schedule(): void {
    if (this.timer || !this.watching) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, SETTLE_MS);
  }

  /** Reads what is dirty, re-arming exactly the watches that fired. */
  private async update(): Promise<void> {
    const { children, all, nodes } = this.dirty;
    this.dirty = { children: false, all: false, nodes: new Set() };
    try {
      if (children || all) {
        const names = new Set(await listNodes(this.client, this.o.nodesPath, this.onEvent));
        for (const known of this.view.keys()) if (!names.has(known)) this.view.delete(known);
        for (const name of names) if (all || !this.view.has(name)) nodes.add(name);
      }
      await Promise.all(
        [...nodes].map(async (instance) => {
          const node = await readNode(this.client, this.o.nodesPath, instance, this.onEvent);
          if (node) this.view.set(instance, node);
          else this.view.delete(instance);
        }),
      );
    } catch (err) {
      // read it all again next time: which watches were re-armed is unknown
      this.dirty = { children: true, all: true, nodes: new Set() };
      throw err;
    }
  }

  private async refresh(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.again = false;
        if (this.client.state !== 'connected') return; // the reconnect schedules the next read
        try {
          await this.update();
          this.emit('change', [...this.view.values()].sort((a, b) => (a.instance < b.instance ? -1 : 1)));
        } catch (err) {
          this.emit('warning', err);
          setTimeout(() => this.schedule(), 1000).unref();
          return;
        }
      } while (this.again && this.watching);
    } finally {
      this.reading = false;
    }
  }
}

/**
 * Resolves once `client` is connected; rejects after `timeoutMs` naming `connect` (the string
 * the user gave): tools that read ZooKeeper once say at once that it is not there.
 */
export function whenConnected(client: ZkClient, connect: string, timeoutMs: number): Promise<void> {
  if (client.state === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      client.off('state', onState);
      if (err) reject(err);
      else resolve();
    };
    const onState = (state: string) => state === 'connected' && done();
    const timer = setTimeout(() => done(new Error(`cannot reach zookeeper at ${connect} within ${timeoutMs} ms`)), timeoutMs);
    client.on('state', onState);
  });
}

/** The fleet now: every child of nodesPath with its record or why it is none, sorted; an absent nodesPath is an empty fleet. */
export async function readFleet(client: ZkClient, nodesPath: string): Promise<ClusterNode[]> {
  const children = await listNodes(client, nodesPath, undefined);
  const nodes = await Promise.all(children.sort().map((instance) => readNode(client, nodesPath, instance, undefined)));
  return nodes.filter((n): n is ClusterNode => n !== undefined);
}

/** The children of nodesPath ([] while it does not exist, watching for it to appear when `watch`). */
async function listNodes(client: ZkClient, nodesPath: string, watch: ((e: ZkEvent) => void) | undefined): Promise<string[]> {
  try {
    return await client.getChildren(nodesPath, watch);
  } catch (err) {
    if (zkCode(err) !== 'NO_NODE') throw err;
    if (watch) await client.exists(nodesPath, watch);
    return [];
  }
}

/** One node's record, or undefined when it went away between the list and the read. */
async function readNode(client: ZkClient, nodesPath: string, instance: string, watch: ((e: ZkEvent) => void) | undefined): Promise<ClusterNode | undefined> {
  try {
    const { data } = await client.getData(`${nodesPath}/${instance}`, watch);
    const r = decodeRecord(data);
    return 'record' in r ? { instance, record: r.record } : { instance, error: r.error };
  } catch (err) {
    if (zkCode(err) === 'NO_NODE') return undefined;
    throw err;
  }
}
