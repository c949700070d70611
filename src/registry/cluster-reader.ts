import { EventEmitter } from 'node:events';
import type { Logger } from '../lib/log.js';
import { decodeRecord, type NodeRecord } from './record.js';
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
 * re-reads on every child or data change, after a reconnect and after a new session (whose
 * watches start empty), and emits 'change' with the whole view. Emits 'state' too.
 */
export class ClusterReader extends EventEmitter {
  private readonly client: ZkClient;
  private watching = false;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private again = false;

  constructor(private readonly o: ClusterReaderOptions) {
    super();
    this.client = new ZkClient({ connect: o.connect, sessionTimeoutMs: 10_000, log: o.log });
    this.client.on('state', (state) => {
      this.emit('state', state);
      if (state === 'connected' && this.watching) this.schedule();
    });
    this.client.start();
  }

  /** Resolves once connected; rejects after `timeoutMs` naming the connect string. */
  connected(timeoutMs: number): Promise<void> {
    if (this.client.state === 'connected') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.client.off('state', onState);
        if (err) reject(err);
        else resolve();
      };
      const onState = (state: string) => state === 'connected' && done();
      const timer = setTimeout(() => done(new Error(`cannot reach zookeeper at ${this.o.connect} within ${timeoutMs} ms`)), timeoutMs);
      this.client.on('state', onState);
    });
  }

  /** The current view, sorted by instance; an absent nodesPath is an empty fleet. */
  async read(): Promise<ClusterNode[]> {
    const watch = this.watching ? this.onEvent : undefined;
    let children: string[];
    try {
      children = await this.client.getChildren(this.o.nodesPath, watch);
    } catch (err) {
      if (zkCode(err) !== 'NO_NODE') throw err;
      // watch for nodesPath to appear
      if (watch) await this.client.exists(this.o.nodesPath, watch);
      return [];
    }
    const nodes = await Promise.all(
      children.sort().map(async (instance): Promise<ClusterNode | undefined> => {
        try {
          const { data } = await this.client.getData(`${this.o.nodesPath}/${instance}`, watch);
          const r = decodeRecord(data);
          return 'record' in r ? { instance, record: r.record } : { instance, error: r.error };
        } catch (err) {
          if (zkCode(err) === 'NO_NODE') return undefined; // gone between the two reads
          throw err;
        }
      }),
    );
    return nodes.filter((n): n is ClusterNode => n !== undefined);
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

  private readonly onEvent = (_e: ZkEvent): void => this.schedule();

  private schedule(): void {
    if (this.timer || !this.watching) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, SETTLE_MS);
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
          this.emit('change', await this.read());
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
