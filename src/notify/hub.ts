import { EventEmitter } from 'node:events';
import { chmod, chown, lstat, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { NodeeError, errnoOf, messageOf } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { MAX_DATAGRAM_BYTES, isEmptyMessage, parseNotify, type NotifyMessage } from './protocol.js';
import { Relay, RelayExitedError } from './relay.js';

/** The socket's name in its directory: the one path a service gets as NOTIFY_SOCKET. */
export const SOCKET_NAME = 'notify.sock';
/** sun_path holds 108 bytes, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 107;

export interface NotifyHubOptions {
  log: Logger;
  /** The Perl interpreter; perl-base's by default. */
  perl?: string;
  /** Backoff between relay restarts: from min, doubling up to max while starts keep failing. */
  restartDelayMs?: { min: number; max: number };
}

/** Who may send: the service's user and group. Neither: a root service, root alone. */
export interface NotifyAccess {
  /** The socket's directory, made (or taken over) here as root's; its parents must be root's. */
  dir: string;
  /** The service's uid: the socket is then owned by it and 0600, so only it (and root) can send. */
  uid?: number;
  /** The service's gid: the directory is root:gid 0750, so only the group can reach the socket. */
  gid?: number;
}

interface Entry {
  id: number;
  /** The opener's own listener: a hub of 1,000 sockets calls one function per datagram, not 1,000. */
  onMessage: ((message: NotifyMessage) => void) | undefined;
  socketPath: string;
  mode: number;
  uid: number;
  gid: number;
}

export interface NotifyHub {
  /** A datagram from `key`'s socket that said something. */
  on(event: 'message', listener: (key: string, message: NotifyMessage) => void): this;
  /** A datagram refused whole (over 4 KiB): for a log line or a counter, nothing else. */
  on(event: 'refused', listener: (key: string, reason: string, bytes: number) => void): this;
  /** A relay started (the first one, or after the last one died). */
  on(event: 'relay', listener: (pid: number) => void): this;
  /** A socket could not be bound again after a relay restart; the key is dropped. */
  on(event: 'lost', listener: (key: string, err: NodeeError) => void): this;
}

/**
 * The daemon's notify sockets, one per key (a service), all held by one relay process
 * (relay.ts says why a relay). The hub keeps what it opened, so when the relay dies it starts
 * another and binds every socket again; senders address the socket by path on each send, so
 * a rebind at the same path is invisible to them except for the sends made meanwhile.
 */
export class NotifyHub extends EventEmitter {
  private readonly log: Logger;
  private readonly perl: string;
  private readonly delays: { min: number; max: number };
  private readonly entries = new Map<string, Entry>();
  private readonly keys = new Map<number, string>();
  private relay: Relay | undefined;
  private starting: Promise<Relay> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private delay: number;
  private seq = 0;
  private closed = false;

  constructor(o: NotifyHubOptions) {
    super();
    this.log = o.log;
    this.perl = o.perl ?? '/usr/bin/perl';
    this.delays = o.restartDelayMs ?? { min: 100, max: 5000 };
    this.delay = this.delays.min;
  }

  /** The relay's pid while one runs (tests, diagnostics). */
  get relayPid(): number | undefined {
    return this.relay?.pid;
  }

  /**
   * Makes `<dir>/notify.sock` for `key`, replacing the key's earlier socket. Throws
   * NOTIFY_FAILED when the directory is not safe (see secureDir) or the bind fails.
   */
  async open(key: string, access: NotifyAccess, onMessage?: (message: NotifyMessage) => void): Promise<{ socketPath: string }> {
    if (this.closed) throw new NodeeError('INTERNAL', 'the notify hub is closed');
    if (access.uid !== undefined && access.gid === undefined) throw new NodeeError('NOTIFY_FAILED', 'a notify socket for a uid needs its gid');
    await this.close(key);
    const dir = path.resolve(access.dir);
    const socketPath = path.join(dir, SOCKET_NAME);
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) throw new NodeeError('NOTIFY_FAILED', `notify socket path too long for AF_UNIX: ${socketPath}`);
    await secureDir(dir, access.gid).catch((err) => {
      throw err instanceof NodeeError ? err : new NodeeError('NOTIFY_FAILED', `notify directory ${dir}: ${messageOf(err)}`, { cause: err });
    });
    const entry: Entry = {
      id: ++this.seq,
      onMessage,
      socketPath,
      mode: access.uid !== undefined ? 0o600 : access.gid !== undefined ? 0o660 : 0o600,
      uid: access.uid ?? 0,
      gid: access.gid ?? 0,
    };
    this.entries.set(key, entry);
    this.keys.set(entry.id, key);
    // A relay that dies under the request is replaced and the bind retried; a bind the relay
    // refuses is final.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bind(await this.ensureRelay(), entry);
        return { socketPath };
      } catch (err) {
        const current = this.entries.get(key) === entry;
        if (err instanceof RelayExitedError && current && attempt < 3) continue;
        if (current) this.forget(key);
        throw err instanceof NodeeError ? err : new NodeeError('NOTIFY_FAILED', `notify socket ${socketPath}: ${messageOf(err)}`, { cause: err });
      }
    }
  }

  /**
   * Closes `key`'s socket and removes its file (the directory stays, it is the caller's);
   * a key not open is a no-op. Without a key: every socket, and the relay ends.
   */
  async close(key?: string): Promise<void> {
    if (key === undefined) return this.closeAll();
    const entry = this.entries.get(key);
    if (!entry) return;
    this.forget(key);
    try {
      if (!this.relay) throw new RelayExitedError();
      await this.relay.close(entry.id);
    } catch {
      // no relay to do it: the file is in root's directory, so removing it by path is safe
      await rm(entry.socketPath, { force: true }).catch(() => {});
    }
  }

  private async closeAll(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    await Promise.all([...this.entries.keys()].map((k) => this.close(k)));
    const relay = this.relay ?? (await this.starting?.catch(() => undefined));
    this.relay = undefined;
    if (!relay) return;
    await new Promise<void>((resolve) => {
      relay.once('exit', () => resolve());
      relay.stop();
    });
  }

  private forget(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.keys.delete(entry.id);
  }

  private async bind(relay: Relay, e: Entry): Promise<void> {
    await relay.open(e.id, e.socketPath, e.mode, e.uid, e.gid);
  }

  private ensureRelay(): Promise<Relay> {
    if (this.relay) return Promise.resolve(this.relay);
    this.starting ??= Relay.start({
      perl: this.perl,
      // one byte over the limit, so a datagram cut by the relay still reads as too large
      maxBytes: MAX_DATAGRAM_BYTES + 1,
      onStderr: (line) => this.log.warn({ relay: line }, 'notify relay said something on stderr'),
    })
      .then((relay) => {
        relay.on('datagram', (id, payload) => this.onDatagram(id, payload));
        relay.on('exit', (code, signal) => this.onRelayExit(relay, code, signal));
        if (this.closed) relay.stop();
        else this.relay = relay;
        this.log.info({ pid: relay.pid }, 'notify relay started');
        this.emit('relay', relay.pid);
        return relay;
      })
      .finally(() => {
        this.starting = undefined;
      });
    return this.starting;
  }

  private onDatagram(id: number, payload: Buffer): void {
    // a datagram from a socket closed (or replaced) meanwhile belongs to no one now
    const key = this.keys.get(id);
    if (key === undefined) return;
    const parsed = parseNotify(payload);
    if ('refused' in parsed) this.emit('refused', key, parsed.refused, parsed.bytes);
    else if (!isEmptyMessage(parsed.message)) {
      this.entries.get(key)?.onMessage?.(parsed.message);
      this.emit('message', key, parsed.message);
    }
  }

  private onRelayExit(relay: Relay, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.relay === relay) this.relay = undefined;
    if (this.closed) return;
    this.log.warn({ pid: relay.pid, code, signal, sockets: this.entries.size }, 'notify relay exited; starting another');
    this.scheduleRestart();
  }

  /** Starts a relay after the current backoff and binds every socket again. */
  private scheduleRestart(): void {
    if (this.restartTimer || this.closed) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restart();
    }, this.delay);
  }

  private async restart(): Promise<void> {
    if (this.closed || this.entries.size === 0) return;
    let relay: Relay;
    try {
      relay = await this.ensureRelay();
    } catch (err) {
      this.log.error({ err: messageOf(err) }, 'notify relay could not start');
      this.delay = Math.min(this.delay * 2, this.delays.max);
      return this.scheduleRestart();
    }
    for (const [key, entry] of [...this.entries]) {
      try {
        await this.bind(relay, entry);
      } catch (err) {
        if (err instanceof RelayExitedError) return; // its exit handler schedules the next try
        if (this.entries.get(key) !== entry) continue;
        this.forget(key);
        const lost = new NodeeError('NOTIFY_FAILED', `notify socket ${entry.socketPath}: ${messageOf(err)}`, { cause: err });
        this.log.error({ key, err: lost.message }, 'notify socket lost after a relay restart');
        this.emit('lost', key, lost);
      }
    }
    this.delay = this.delays.min;
  }
}

/**
 * Makes `dir` root's: root:gid 0750 (root:root 0700 without a gid). The root daemon acts on
 * it by path (mkdir, chown, chmod, and the relay's bind and unlink), so no one but root may
 * be able to change that path: every parent must be a real directory owned by root and not
 * writable by others (a sticky one like /tmp is fine, since only root could rename root's
 * entry in it), and `dir`, if it exists, must be root's directory, not a link or another
 * user's. A service then cannot swap the socket's path; it can only send to it.
 */
async function secureDir(dir: string, gid: number | undefined): Promise<void> {
  for (let p = path.dirname(dir); ; p = path.dirname(p)) {
    const st = await lstat(p).catch((err) => fail(`${p}: ${errnoOf(err) ?? messageOf(err)}`));
    if (!st.isDirectory() || st.uid !== 0) fail(`${p} is not a directory owned by root`);
    if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) fail(`${p} is writable by others than root`);
    if (p === path.dirname(p)) break;
  }
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') fail(`${dir}: ${messageOf(err)}`);
  }
  const st = await lstat(dir);
  if (!st.isDirectory() || st.uid !== 0) fail(`${dir} is not a directory owned by root`);
  await chown(dir, 0, gid ?? 0);
  await chmod(dir, gid !== undefined ? 0o750 : 0o700);
}

function fail(message: string): never {
  throw new NodeeError('NOTIFY_FAILED', `unsafe notify directory: ${message}`);
}
