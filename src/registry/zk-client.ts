import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { NodeeError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { parseConnectString, type ConnectString } from '../config/index.js';
import { stripChroot, underChroot } from './chroot.js';
import { guardConnection, hardenJute, type JuteModule, type LibConnectionManager } from './zk-wire-guard.js';
import { ZkError, zkCode } from './zk-error.js';
import { toStat, type Callback, type Lib, type LibClient, type LibEvent, type LibJuteMulti, type LibOpResult, type LibStat, type LibWatcher, type ZkStat } from './zk-lib.js';
import { describeMulti, readMulti, sendMulti, type MultiContext, type ZkOp, type ZkOpResult } from './zk-multi.js';

export { ZkError, ZkMultiError, zkCode } from './zk-error.js';
export type { ZkStat } from './zk-lib.js';
export type { ZkOp, ZkOpResult } from './zk-multi.js';

/**
 * The one module that imports node-zookeeper-client (1.1.3, pinned). It covers what the
 * library leaves to its caller:
 * - it never emits `expired` while cut off: we count the time since the server last
 *   answered and, past the session timeout, declare the session expired ourselves;
 * - it never recovers from an expiry: we replace the library client with a new one;
 * - it can sit "connected" on a dead socket (there is no read timeout): a cheap `exists`
 *   probe with a deadline runs every third of the session timeout, and a probe without an
 *   answer closes the socket so the library reconnects (the Java client's read timeout);
 * - it queues requests forever while disconnected: every operation has a deadline;
 * - it splits `[::1]:2181` on ':' and needs an existing chroot: we parse the connect string
 *   ourselves, hand the library our server list, and prefix paths with the chroot ourselves;
 * - a server that answers garbage can make it throw inside its socket handler (an uncaught
 *   exception: the daemon exits), buffer or allocate without bound, or loop: zk-wire-guard.ts
 *   frames and parses what servers send strictly, and drops a connection that sends garbage.
 */

const zookeeper = require('node-zookeeper-client') as Lib;
const jute = require('node-zookeeper-client/lib/jute') as JuteModule & LibJuteMulti;
// the library's record parser trusts every length a server sends; replace it once, before any client exists
hardenJute(jute);
/** The library's name of an error code; a code it does not know (newer servers have more) keeps its number. */
const CODE_NAMES = new Map(Object.entries(zookeeper.Exception).flatMap(([name, code]) => (typeof code === 'number' ? [[code, name] as const] : [])));
const codeName = (code: number): string => CODE_NAMES.get(code) ?? `ERROR_${code}`;
const LIB_CLOSED = -2; // ConnectionManager.STATES.CLOSED
/** The largest session timeout we believe a server gives (the config's maximum): past it our own expiry detection would sleep. */
const MAX_SESSION_TIMEOUT_MS = 600_000;
/** Garbage from a server is logged as a warning at most this often (a client reconnects every ~200 ms). */
const GARBAGE_WARN_INTERVAL_MS = 60_000;
const EVENT_TYPES: Record<number, ZkEvent['type']> = { 1: 'created', 2: 'deleted', 3: 'dataChanged', 4: 'childrenChanged' };

export type ZkState = 'connecting' | 'connected' | 'disconnected';

export interface ZkEvent {
  type: 'created' | 'deleted' | 'dataChanged' | 'childrenChanged';
  path: string;
}
export type ZkWatcher = (event: ZkEvent) => void;

export interface ZkClientOptions {
  connect: string;
  sessionTimeoutMs: number;
  /** "user:password": added as digest auth to every session, and used for protected ACLs. */
  digest?: string;
  log: Logger;
  /** Deadline of each operation; default two thirds of the session timeout (at least 1 s). */
  opTimeoutMs?: number;
}

/**
 * A self-renewing ZooKeeper connection. Events: 'state' (ZkState), 'session' (hex id: a new
 * session began, so ephemeral nodes and watches of the previous one are gone), 'expired'
 * (reason). Operations take paths below the chroot and reject with ZkError.
 */
export class ZkClient extends EventEmitter {
  private readonly target: ConnectString;
  private readonly log: Logger;
  readonly opTimeoutMs: number;
  private lib: LibClient | undefined;
  private current: ZkState = 'connecting';
  private session: string | undefined;
  private negotiatedTimeoutMs: number;
  private lastHeard = 0;
  private probing = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  /** Why the last connection was dropped for garbage, until a connection succeeds: named in CONNECTION_LOSS errors. */
  private garbage: string | undefined;
  private garbageWarnedAt = 0;
  private garbageDrops = 0;
  private readonly watchers = new WeakMap<ZkWatcher, LibWatcher>();

  constructor(private readonly o: ZkClientOptions) {
    super();
    try {
      this.target = parseConnectString(o.connect);
    } catch (err) {
      throw new NodeeError('CONFIG_INVALID', `zookeeper.connect: ${(err as Error).message}`);
    }
    this.log = o.log;
    this.negotiatedTimeoutMs = o.sessionTimeoutMs;
    this.opTimeoutMs = o.opTimeoutMs ?? Math.max(1000, Math.round((o.sessionTimeoutMs * 2) / 3));
  }

  get state(): ZkState {
    return this.current;
  }

  /** Hex id of the live session; undefined before the first connect and after an expiry. */
  get sessionId(): string | undefined {
    return this.session;
  }

  start(): void {
    if (this.lib || this.closed) return;
    this.renew();
    this.timer = setInterval(() => this.tick(), Math.max(50, Math.floor(this.o.sessionTimeoutMs / 3)));
    this.timer.unref();
  }

  /** Ends the session (its ephemeral nodes go at once) within the operation deadline. Safe twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const lib = this.lib;
    this.lib = undefined;
    this.session = undefined;
    if (lib) await closeLib(lib, this.opTimeoutMs);
  }

  /** Creates `path`; resolves the created path, below the chroot (with its sequence number when `sequential`). */
  async create(path: string, data: Buffer | null, o: { ephemeral: boolean; protect: boolean; sequential?: boolean }): Promise<string> {
    const mode = createMode({ ephemeral: o.ephemeral, sequential: o.sequential ?? false });
    const [created] = await this.call<[string]>('create', path, (lib, full, cb) => lib.create(full, data, this.acl(o.protect), mode, cb));
    return stripChroot(this.target.chroot, created);
  }

  /**
   * Applies `ops` all together or not at all (ZooKeeper's multi). Resolves one result per
   * operation; a refused transaction rejects with a ZkMultiError naming the first failing
   * operation's code and index. A TIMEOUT or CONNECTION_LOSS leaves the outcome unknown.
   */
  async multi(ops: readonly ZkOp[]): Promise<ZkOpResult[]> {
    const ctx: MultiContext = { chroot: this.target.chroot, jute, acl: (p) => this.acl(p), mode: createMode, codeName };
    const [raw] = await this.call<[LibOpResult[]]>(describeMulti(ops), '', (lib, _full, cb) => sendMulti(lib, ctx, ops, cb), true);
    return readMulti(ctx, ops, raw);
  }

  async exists(path: string, watch?: ZkWatcher): Promise<ZkStat | null> {
    const [stat] = await this.call<[LibStat | null]>('exists', path, (lib, full, cb) => lib.exists(full, this.libWatcher(watch), cb));
    return stat ? toStat(stat) : null;
  }

  async getData(path: string, watch?: ZkWatcher): Promise<{ data: Buffer; stat: ZkStat }> {
    const [data, stat] = await this.call<[Buffer | null, LibStat]>('getData', path, (lib, full, cb) => lib.getData(full, this.libWatcher(watch), cb));
    return { data: data ?? Buffer.alloc(0), stat: toStat(stat) };
  }

  async getChildren(path: string, watch?: ZkWatcher): Promise<string[]> {
    const [children] = await this.call<[string[], LibStat]>('getChildren', path, (lib, full, cb) => lib.getChildren(full, this.libWatcher(watch), cb));
    return children;
  }

  async setData(path: string, data: Buffer, version = -1): Promise<ZkStat> {
    const [stat] = await this.call<[LibStat]>('setData', path, (lib, full, cb) => lib.setData(full, data, version, cb));
    return toStat(stat);
  }

  async remove(path: string, version = -1): Promise<void> {
    await this.call<[]>('remove', path, (lib, full, cb) => lib.remove(full, version, cb));
  }

  /**
   * Creates `path` and every missing ancestor, chroot included, as persistent nodes
   * (protected by the digest ACL when `protect`). Existing nodes are left as they are.
   */
  async mkdirs(path: string, protect: boolean): Promise<void> {
    const full = underChroot(this.target.chroot, path);
    const parts = full.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = '/' + parts.slice(0, i).join('/');
      try {
        await this.call<[string]>('create', p, (lib, _full, cb) => lib.create(p, null, this.acl(protect), zookeeper.CreateMode.PERSISTENT, cb), true);
      } catch (err) {
        if (zkCode(err) !== 'NODE_EXISTS') throw err;
      }
    }
  }

  private acl(protect: boolean): unknown[] {
    const { ACL, Id, Permission } = zookeeper;
    const world = new Id('world', 'anyone');
    if (!protect || !this.o.digest) return [new ACL(Permission.ALL, world)];
    const user = this.o.digest.slice(0, this.o.digest.indexOf(':'));
    const hash = createHash('sha1').update(this.o.digest).digest('base64');
    return [new ACL(Permission.ALL, new Id('digest', `${user}:${hash}`)), new ACL(Permission.READ, world)];
  }

  /** The same wrapper for the same watcher, so the library's de-duplication still works. */
  private libWatcher(watch: ZkWatcher | undefined): LibWatcher | undefined {
    if (!watch) return undefined;
    let w = this.watchers.get(watch);
    if (!w) {
      w = (e: LibEvent) => {
        const type = EVENT_TYPES[e.getType()];
        if (type && !this.closed) watch({ type, path: stripChroot(this.target.chroot, e.getPath()) });
      };
      this.watchers.set(watch, w);
    }
    return w;
  }

  /** One library call with a deadline; `absolute` skips the chroot (mkdirs walks it itself, a multi has a path per operation). */
  private call<T extends unknown[]>(what: string, path: string, fn: (lib: LibClient, full: string, cb: Callback<T>) => void, absolute = false): Promise<T> {
    const lib = this.lib;
    const full = absolute ? path : underChroot(this.target.chroot, path);
    const label = full ? `${what} ${full}` : what;
    if (this.closed || !lib) return Promise.reject(new ZkError('CLOSED', `${label}: the client is closed`));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ZkError('TIMEOUT', `${label}: no answer in ${this.opTimeoutMs} ms`)), this.opTimeoutMs);
      try {
        fn(lib, full, (error, ...result) => {
          clearTimeout(timer);
          if (error && error.getCode() !== 0) {
            const name = error.getName();
            if (lib === this.lib && name !== 'CONNECTION_LOSS') this.lastHeard = Date.now();
            const why = name === 'CONNECTION_LOSS' && this.garbage ? ` (the server sent an invalid reply: ${this.garbage})` : '';
            reject(new ZkError(name, `${label}: ${name}${why}`));
            return;
          }
          if (lib === this.lib) this.lastHeard = Date.now();
          resolve(result);
        });
      } catch (err) {
        // the library asserts on bad arguments (a path it rejects, data over 1 MB)
        clearTimeout(timer);
        reject(new ZkError('BAD_ARGUMENTS', `${label}: ${(err as Error).message}`));
      }
    });
  }

  /** A fresh library client, hence (once connected) a fresh session. */
  private renew(): void {
    const old = this.lib;
    if (old) void closeLib(old, this.opTimeoutMs);
    const servers = this.target.servers;
    // the library would mangle IPv6 hosts: give it placeholders of the right count, then our list
    const lib = zookeeper.createClient(servers.map((_, i) => `placeholder${i}:1`).join(','), {
      sessionTimeout: this.o.sessionTimeoutMs,
      spinDelay: 200,
      retries: 0,
    });
    lib.connectionManager.servers = shuffle(servers.map((s) => ({ host: s.host, port: s.port })));
    guardConnection(lib.connectionManager as unknown as LibConnectionManager, (reason) => lib === this.lib && this.onGarbage(reason));
    if (this.o.digest) lib.addAuthInfo('digest', Buffer.from(this.o.digest));
    this.lib = lib;
    this.session = undefined;
    this.lastHeard = Date.now();
    this.negotiatedTimeoutMs = this.o.sessionTimeoutMs;
    lib.on('connected', () => {
      if (lib !== this.lib) return;
      this.lastHeard = Date.now();
      this.garbage = undefined;
      this.negotiatedTimeoutMs = Math.min(lib.getSessionTimeout(), MAX_SESSION_TIMEOUT_MS);
      const id = lib.getSessionId().toString('hex');
      if (id !== this.session) {
        this.session = id;
        this.log.info({ session: '0x' + id, timeoutMs: this.negotiatedTimeoutMs }, 'zookeeper session established');
        this.emit('session', id);
      }
      this.setState('connected');
    });
    lib.on('disconnected', () => {
      if (lib === this.lib) this.setState('disconnected');
    });
    lib.on('expired', () => {
      if (lib === this.lib) this.expire('the server reported the session expired');
    });
    lib.on('authenticationFailed', () => {
      if (lib !== this.lib) return;
      this.log.error('zookeeper refused our authentication; retrying with a new session');
      this.setState('disconnected');
      setTimeout(() => lib === this.lib && !this.closed && this.renew(), 1000).unref();
    });
    this.setState('connecting');
    lib.connect();
  }

  /** The guard dropped the connection (the library reconnects by itself); say so, not too often. */
  private onGarbage(reason: string): void {
    this.garbage = reason;
    this.garbageDrops++;
    const now = Date.now();
    if (now - this.garbageWarnedAt < GARBAGE_WARN_INTERVAL_MS) {
      this.log.debug({ reason }, 'zookeeper server sent an invalid reply; connection dropped');
      return;
    }
    this.log.warn({ reason, dropped: this.garbageDrops }, 'zookeeper server sent an invalid reply; connection dropped, reconnecting');
    this.garbageWarnedAt = now;
    this.garbageDrops = 0;
  }

  private expire(reason: string): void {
    if (this.closed) return;
    this.log.warn({ session: this.session ? '0x' + this.session : undefined, reason }, 'zookeeper session expired; starting a new one');
    this.emit('expired', reason);
    this.renew();
  }

  private tick(): void {
    if (this.closed || !this.lib) return;
    if (this.current === 'connected') {
      void this.probe();
    } else if (Date.now() - this.lastHeard > this.negotiatedTimeoutMs) {
      if (this.session) {
        this.expire(`no server answered for ${Date.now() - this.lastHeard} ms (session timeout ${this.negotiatedTimeoutMs} ms)`);
      } else {
        // a first connect can hang on a server that accepted the socket and never answers
        this.log.debug('no zookeeper session yet; trying again with a new client');
        this.renew();
      }
    }
  }

  private async probe(): Promise<void> {
    if (this.probing) return;
    const lib = this.lib;
    this.probing = true;
    try {
      await this.exists('/');
    } catch (err) {
      if (zkCode(err) === 'TIMEOUT' && lib === this.lib && this.current === 'connected') {
        this.log.warn({ deadlineMs: this.opTimeoutMs }, 'zookeeper connection looks dead (probe unanswered); reconnecting');
        this.setState('disconnected');
        lib?.connectionManager.socket?.destroy();
      }
    } finally {
      this.probing = false;
    }
  }

  private setState(state: ZkState): void {
    if (state === this.current) return;
    if (state === 'disconnected') this.log.warn({ session: this.session ? '0x' + this.session : undefined }, 'zookeeper connection lost; reconnecting');
    else if (state === 'connected' && this.current === 'disconnected') this.log.info({ session: '0x' + this.session }, 'zookeeper connection regained');
    this.current = state;
    this.emit('state', state);
  }
}

function createMode(o: { ephemeral: boolean; sequential: boolean }): number {
  const { CreateMode } = zookeeper;
  if (o.sequential) return o.ephemeral ? CreateMode.EPHEMERAL_SEQUENTIAL : CreateMode.PERSISTENT_SEQUENTIAL;
  return o.ephemeral ? CreateMode.EPHEMERAL : CreateMode.PERSISTENT;
}

/** Closes a library client; a socket that never answers the close is destroyed at the deadline. */
async function closeLib(lib: LibClient, deadlineMs: number): Promise<void> {
  lib.removeAllListeners();
  lib.close();
  const deadline = Date.now() + deadlineMs;
  while (lib.connectionManager.state !== LIB_CLOSED && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
  if (lib.connectionManager.state !== LIB_CLOSED) lib.connectionManager.socket?.destroy();
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
