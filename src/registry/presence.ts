import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { Logger } from '../lib/log.js';
import type { Registry } from '../lib/metrics.js';
import { SingleFlight } from '../lib/single-flight.js';
import { PresenceMetrics } from './presence-metrics.js';
import type { NodeRecord } from '../contract/index.js';
import { MAX_RECORD_BYTES, decodeRecord, encodeRecord } from './record.js';
import { SessionMemory } from './session-memory.js';
import { ZkClient, zkCode, type ZkEvent, type ZkState } from './zk-client.js';

export interface PresenceOptions {
  connect: string;
  sessionTimeoutMs: number;
  /** Full znode path below the chroot: `<nodesPath>/<instance>`. */
  path: string;
  /** "user:password": the node and the parents we create get a digest ACL, world may read. */
  digest?: string;
  log: Logger;
  metrics: Registry;
  /** Where our session ids are kept across restarts (`<prefix>/state/zookeeper-sessions.json`). */
  sessionFile?: string;
}

export interface PresenceStatus {
  state: ZkState;
  path: string;
  /** Set while another live session holds our path: who holds it. */
  conflict?: string;
}

/** latent → started → closed, never back (Curator's PersistentNode). */
type Lifecycle = 'latent' | 'started' | 'closed';

/** A burst of changes waits this long to be written as one. */
const COALESCE_MS = 50;
/**
 * Writes are rate-limited by a token bucket: WRITE_BURST writes go out at once (a drain
 * right after start-up is visible in ~50 ms), then one every WRITE_EVERY_MS. The contract
 * lets the record lag a change by up to a second, so a storm (1,000 services starting) is
 * about one write a second, not one per change.
 */
const WRITE_BURST = 3;
const WRITE_EVERY_MS = 950;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;
const CLOSE_DEADLINE_MS = 2000;

/**
 * This node's EPHEMERAL znode, kept true: created when connected, re-created after an
 * expiry or a deletion, rewritten when the record changes, removed on close. Every path
 * (connect, reconnect, new session, watch event, data change, retry) goes through kick(),
 * which runs ensureNode() one at a time. Nothing here waits on ZooKeeper for its caller:
 * start() and setData() return at once, and ZooKeeper being down only delays the node.
 * Emits 'state' (PresenceStatus) on connection or conflict changes, 'node' after each write.
 */
export class Presence extends EventEmitter {
  private lifecycle: Lifecycle = 'latent';
  private readonly client: ZkClient;

  /** The session this presence keeps: the scheduler shares it, so a node's record and its election node live and die together. */
  get zk(): ZkClient {
    return this.client;
  }
  private readonly metrics: PresenceMetrics;
  private readonly sessions: SessionMemory;
  private readonly log: Logger;
  private readonly protect: boolean;
  /** The record to publish (latest given); undefined until the first setData() or build. */
  private pending: Buffer | undefined;
  private source: (() => Promise<NodeRecord>) | undefined;
  /** The source changed since `pending` was built from it. */
  private stale = false;
  /** What our node holds as far as we know: in which session, at which version. */
  private synced: { session: string; version: number; data: Buffer } | undefined;
  private conflict: { owner: string; text: string } | undefined;
  /** The single way into ensureNode(): one run at a time, re-run if asked again meanwhile. */
  private readonly runs = new SingleFlight(
    () => this.ensureNode(),
    () => this.lifecycle === 'started',
    (err) => this.failed(err),
  );
  private flushTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;
  private lastError: string | undefined;
  private readonly bucket = { tokens: WRITE_BURST, at: Date.now() };
  private everConnected = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly o: PresenceOptions) {
    super();
    this.log = o.log;
    this.protect = o.digest !== undefined;
    this.metrics = new PresenceMetrics(o.metrics);
    this.sessions = new SessionMemory(o.sessionFile, o.log);
    this.client = new ZkClient({ connect: o.connect, sessionTimeoutMs: o.sessionTimeoutMs, digest: o.digest, log: o.log });
    this.metrics.setState('connecting');
    this.client.on('session', (id: string) => {
      this.synced = undefined;
      void this.sessions.remember(id);
    });
    this.client.on('expired', () => this.metrics.expiries.inc());
    this.client.on('state', (state: ZkState) => {
      this.metrics.setState(state);
      if (state === 'connected') {
        if (this.everConnected) this.metrics.reconnects.inc();
        this.everConnected = true;
        this.kick();
      }
      this.emit('state', this.status());
    });
  }

  /** Starts connecting and returns at once; the node appears once connected and given data. */
  start(): void {
    if (this.lifecycle !== 'latent') return;
    this.lifecycle = 'started';
    this.client.start();
  }

  /** Publishes `record`; changes within a few hundred ms are coalesced into one write. */
  setData(record: NodeRecord): void {
    if (this.lifecycle === 'closed') return;
    this.stale = false;
    this.accept(encodeRecord(record));
    this.scheduleFlush();
  }

  /**
   * Where the record comes from when the owner changes faster than it is written (the
   * daemon: every service change). changed() marks it stale; the record is built when a
   * write is about to happen, so a storm of changes costs one build per write, not one
   * per change (with 1,000 services a record is 200 kB of JSON).
   */
  setSource(build: () => Promise<NodeRecord>): void {
    this.source = build;
  }

  changed(): void {
    if (this.lifecycle === 'closed' || !this.source) return;
    this.stale = true;
    this.scheduleFlush();
  }

  /** A new record, unless it is over ZooKeeper's limit (then the last one stays). */
  private accept(data: Buffer): void {
    this.metrics.setRecordBytes(data.length);
    if (data.length > MAX_RECORD_BYTES) {
      this.log.error({ bytes: data.length, limit: MAX_RECORD_BYTES }, 'zookeeper record too large; keeping the previous one');
      return;
    }
    this.pending = data;
  }

  /** The record to write now: built from the source when it changed since the last build. */
  private async current(): Promise<Buffer | undefined> {
    if (this.stale && this.source) {
      this.stale = false;
      try {
        this.accept(encodeRecord(await this.source()));
      } catch (err) {
        this.log.error({ err }, 'cannot build the zookeeper record');
      }
    }
    return this.pending;
  }

  status(): PresenceStatus {
    const state: ZkState = this.lifecycle === 'closed' ? 'disconnected' : this.client.state;
    return this.conflict ? { state, path: this.o.path, conflict: this.conflict.text } : { state, path: this.o.path };
  }

  /**
   * Resolves true once our node exists with our current session (Curator's
   * waitForInitialCreate), false after `timeoutMs`. start() itself never waits for this.
   */
  waitForNode(timeoutMs: number): Promise<boolean> {
    if (this.hasNode()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.off('node', onNode);
        resolve(ok);
      };
      const onNode = () => this.hasNode() && done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.on('node', onNode);
    });
  }

  private hasNode(): boolean {
    return this.lifecycle === 'started' && this.synced !== undefined && this.synced.session === this.client.sessionId;
  }

  /** Removes the node at once and ends the session (bounded when ZooKeeper is away). Safe twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const wasStarted = this.lifecycle === 'started';
      this.lifecycle = 'closed';
      clearTimeout(this.flushTimer);
      clearTimeout(this.retryTimer);
      // ending the session removes its ephemeral node anyway, including one whose create is
      // still in flight; the explicit delete makes it immediate for watchers
      if (wasStarted && this.client.state === 'connected' && this.synced && this.synced.session === this.client.sessionId) {
        try {
          await Promise.race([this.client.remove(this.o.path), sleep(CLOSE_DEADLINE_MS)]);
          this.metrics.writes.inc({ op: 'delete' });
          this.log.info({ path: this.o.path }, 'zookeeper node removed');
        } catch (err) {
          this.log.warn({ err: String(err) }, 'cannot remove the zookeeper node; it goes with the session');
        }
      }
      await Promise.race([this.client.close(), sleep(CLOSE_DEADLINE_MS)]);
      this.metrics.setState('disconnected');
      this.emit('state', this.status());
    })();
    return this.closing;
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.lifecycle !== 'started') return;
    const delay = Math.max(COALESCE_MS, this.msUntilWrite());
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.kick();
    }, delay);
  }

  private readonly onNodeEvent = (_event: ZkEvent): void => this.kick();

  private kick(): void {
    this.runs.kick();
  }

  private async ensureNode(): Promise<void> {
    const client = this.client;
    const session = client.sessionId;
    if (client.state !== 'connected' || !session || (!this.pending && !this.stale)) return;
    try {
      await this.sessions.loaded;
      // each pass ends in a return, or learns something (node vanished, replaced, raced) and looks again
      for (let pass = 0; pass < 5 && this.lifecycle === 'started' && client.sessionId === session; pass++) {
        const stat = await client.exists(this.o.path, this.onNodeEvent);
        // after a write, the exists watch armed above fires on it and runs us again
        if (!stat) {
          const data = await this.current();
          if (!data) return;
          if (await this.create(session, data)) return this.succeeded();
          continue;
        }
        if (stat.ephemeralOwner === session) {
          await this.setConflict(undefined);
          const s = this.synced;
          const ours = s !== undefined && s.session === session && s.version === stat.version;
          if (ours && !this.stale && this.pending && s.data.equals(this.pending)) return this.succeeded();
          // a new record for a node we hold waits for the bucket: the watch on our own last
          // write runs us again at once, and would otherwise write every change of a storm
          // (a node that is missing or not ours is repaired at once, above and below)
          if (ours && this.msUntilWrite() > 0) return this.scheduleFlush();
          const data = await this.current();
          if (!data) return;
          if (ours && s.data.equals(data)) return this.succeeded();
          try {
            const written = await client.setData(this.o.path, data, stat.version);
            this.synced = { session, version: written.version, data };
            this.wrote('set');
            return this.succeeded();
          } catch (err) {
            if (zkCode(err) !== 'BAD_VERSION' && zkCode(err) !== 'NO_NODE') throw err;
          }
          continue;
        }
        if (this.sessions.has(stat.ephemeralOwner)) {
          this.log.info({ path: this.o.path, owner: '0x' + stat.ephemeralOwner }, 'replacing the node left by our previous session');
          try {
            await client.remove(this.o.path, stat.version);
            this.metrics.writes.inc({ op: 'delete' });
          } catch (err) {
            if (zkCode(err) !== 'BAD_VERSION' && zkCode(err) !== 'NO_NODE') throw err;
          }
          continue;
        }
        // another live session holds it: never steal; the exists watch set above fires when it goes
        await this.setConflict(stat.ephemeralOwner);
        return this.succeeded();
      }
      if (this.lifecycle === 'started' && client.sessionId === session) this.failed(new Error(`${this.o.path} kept changing under us`));
    } catch (err) {
      this.failed(err);
    }
  }

  /** Creates our node (and its parents); false when a create raced ours (look again). */
  private async create(session: string, data: Buffer): Promise<boolean> {
    // our id is on disk before any node carries it, so a restart recognises the node
    await this.sessions.remember(session);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.client.create(this.o.path, data, { ephemeral: true, protect: this.protect });
        this.synced = { session, version: 0, data };
        await this.setConflict(undefined);
        this.wrote('create');
        this.log.info({ path: this.o.path, session: '0x' + session }, 'zookeeper node created');
        return true;
      } catch (err) {
        const code = zkCode(err);
        // a retried create whose first try landed, or another session's create: look again
        if (code === 'NODE_EXISTS') return false;
        if (code !== 'NO_NODE' || attempt > 0) throw err;
        await this.client.mkdirs(path.posix.dirname(this.o.path), this.protect);
      }
    }
    return false;
  }

  private async setConflict(owner: string | undefined): Promise<void> {
    if (owner === undefined) {
      if (!this.conflict) return;
      this.log.info({ path: this.o.path }, 'the other holder of our zookeeper node is gone; the node is ours');
      this.conflict = undefined;
      this.metrics.setConflict(false);
      this.emit('state', this.status());
      return;
    }
    if (this.conflict?.owner === owner) return;
    let text = owner === '0000000000000000' ? `a persistent node occupies ${this.o.path}` : `session 0x${owner} holds ${this.o.path}`;
    try {
      const { data } = await this.client.getData(this.o.path);
      const r = decodeRecord(data);
      if ('record' in r) text += ` (${r.record.hostname}, pid ${r.record.pid})`;
    } catch {
      // the details are a courtesy: the conflict stands without them
    }
    this.conflict = { owner, text };
    this.metrics.setConflict(true);
    this.log.warn({ path: this.o.path, holder: text }, 'zookeeper node held by another live session; not taking it, waiting for it to go');
    this.emit('state', this.status());
  }

  /** 0 when the bucket has a write to spend, else how long until it has. */
  private msUntilWrite(): number {
    const now = Date.now();
    this.bucket.tokens = Math.min(WRITE_BURST, this.bucket.tokens + (now - this.bucket.at) / WRITE_EVERY_MS);
    this.bucket.at = now;
    return this.bucket.tokens >= 1 ? 0 : Math.ceil((1 - this.bucket.tokens) * WRITE_EVERY_MS);
  }

  private wrote(op: 'create' | 'set'): void {
    this.msUntilWrite(); // brings the bucket up to now before spending from it
    this.bucket.tokens -= 1;
    this.metrics.writes.inc({ op });
    this.emit('node');
  }

  private succeeded(): void {
    this.retryMs = RETRY_MIN_MS;
    this.lastError = undefined;
  }

  private failed(err: unknown): void {
    this.metrics.errors.inc();
    const message = err instanceof Error ? err.message : String(err);
    // one line per distinct problem, not one per retry
    if (message !== this.lastError) this.log.warn({ err: message, retryInMs: this.retryMs }, 'cannot update the zookeeper node; retrying');
    this.lastError = message;
    if (this.lifecycle !== 'started') return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.kick(), this.retryMs);
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
