import { EventEmitter } from 'node:events';
import type { Logger } from '../lib/log.js';
import { SingleFlight } from '../lib/single-flight.js';
import { zkCode, type ZkClient, type ZkEvent, type ZkOp, type ZkOpResult, type ZkState } from '../registry/index.js';
import { CANDIDATE_PREFIX, standingOf } from './candidates.js';
import { Leftovers } from './leftovers.js';
import { fencedMulti, NotLeaderError } from './fence.js';

export interface LeaderElectionOptions {
  /** Started by the caller, who also closes it: the election only borrows it. */
  client: ZkClient;
  /** The cell root (the parent of `zookeeper.nodesPath`): candidates go to `<cell>/scheduler/election/`. */
  cellPath: string;
  /** This daemon's instance: the data of its election node, and what leaderInstance() names. */
  instance: string;
  /** Digest ACL on the nodes we create (the client must carry the digest): set with `zookeeper.digestFile`. */
  protect: boolean;
  log: Logger;
  /** A full re-check this often besides the watches (default 30 s): see LeaderElection. */
  recheckMs?: number;
}

type Lifecycle = 'latent' | 'started' | 'closed';

const RECHECK_MS = 30_000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;
const CLOSE_DEADLINE_MS = 2000;
/** An instance name is a host name (at most 253 bytes): longer data in a node is cut for status. */
const MAX_INSTANCE_CHARS = 256;

/**
 * ZooKeeper's leader-election recipe over `<cell>/scheduler/election/`, after Curator's
 * LeaderLatch. Each candidate holds an EPHEMERAL_SEQUENTIAL node `n_<seq>` whose data is its
 * instance; the lowest sequence leads. A follower watches only the node just ahead of it (no
 * herd: a leader's exit wakes one candidate, not all) and looks again when that node goes.
 * The leader watches its own node, so an operator deleting it deposes the leader at once.
 *
 * Leadership is a belief that can only lag the truth, so it is given up as soon as it may be
 * wrong: at once when the connection is lost (a leader that cannot reach ZooKeeper must stop
 * writing), and on a new session (the old node is gone or going: a new one is created, and
 * the old one removed if still there, see leftovers.ts). What makes writes safe is
 * fencedWrite(): each is a transaction that checks our election node still exists.
 *
 * Every trigger (connection, new session, watch, retry, the periodic re-check) runs elect()
 * one at a time. The periodic re-check lets a follower learn of a new leader it does not
 * watch (only its predecessor's exit wakes it), and heals a watch that was lost.
 * Events: 'leader' (our instance), 'follower' (the leader's instance, or null while unknown),
 * 'error' (a failed round, retried; only emitted when someone listens).
 */
export class LeaderElection extends EventEmitter {
  readonly electionPath: string;
  private lifecycle: Lifecycle = 'latent';
  private readonly client: ZkClient;
  private readonly log: Logger;
  /** Our node in the current session. */
  private node: { path: string; session: string } | undefined;
  /** Our nodes of earlier sessions and lost creates: removed before we look where we stand. */
  private readonly leftovers: Leftovers;
  private leading = false;
  private leader: string | null = null;
  private readonly runs = new SingleFlight(
    () => this.elect(),
    () => this.lifecycle === 'started',
    (err) => this.failed(err),
  );
  private timer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;
  private lastError: string | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly o: LeaderElectionOptions) {
    super();
    this.client = o.client;
    this.log = o.log;
    this.electionPath = `${o.cellPath.replace(/\/+$/, '')}/scheduler/election`;
    this.leftovers = new Leftovers({ client: o.client, dir: this.electionPath, instance: o.instance, log: o.log, instanceAt: (name) => this.instanceAt(name) });
  }

  /** Joins the election and returns at once; 'leader' or 'follower' follows once ZooKeeper answers. */
  start(): void {
    if (this.lifecycle !== 'latent') return;
    this.lifecycle = 'started';
    this.client.on('state', this.onState);
    this.kick();
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The leader's instance as last seen (ours when we lead); null while unknown or disconnected. */
  leaderInstance(): string | null {
    return this.leader;
  }

  /** Our election node, below the chroot; undefined while we have none in the current session. */
  nodePath(): string | undefined {
    return this.node?.session === this.client.sessionId ? this.node?.path : undefined;
  }

  /**
   * Applies `ops` only while we lead: one transaction prefixed by a check that our election
   * node exists (fence.ts). Rejects NotLeaderError when we are not the leader, are cut off,
   * or the check fails (then we look again at once).
   */
  async fencedWrite(ops: readonly ZkOp[]): Promise<ZkOpResult[]> {
    const node = this.node;
    if (!node || !this.leading || node.session !== this.client.sessionId || this.client.state !== 'connected' || this.lifecycle !== 'started') {
      throw new NotLeaderError(`not the leader: ${this.whyNotLeader()}; nothing was written`);
    }
    try {
      return await fencedMulti(this.client, node.path, ops);
    } catch (err) {
      if (err instanceof NotLeaderError) {
        this.setStanding(false, null);
        this.kick();
      }
      throw err;
    }
  }

  private whyNotLeader(): string {
    if (this.lifecycle !== 'started') return 'the election is not running';
    if (this.client.state !== 'connected') return 'ZooKeeper is out of reach';
    return this.leader ? `${this.leader} leads` : 'no leader is known yet';
  }

  /** Leaves the election: our node is removed at once (bounded when ZooKeeper is away). Safe twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.lifecycle = 'closed';
      clearTimeout(this.timer);
      this.client.off('state', this.onState);
      if (this.leading) this.setStanding(false, null);
      this.leader = null;
      // a round in flight may still create a node: let it finish (enter() removes a node made after close)
      await Promise.race([this.runs.idle(), sleep(CLOSE_DEADLINE_MS)]);
      const node = this.node;
      this.node = undefined;
      if (node && node.session === this.client.sessionId) await this.removeQuietly(node.path, 'our election node');
    })();
    return this.closing;
  }

  private readonly onState = (state: ZkState): void => {
    if (state === 'connected') this.kick();
    else this.setStanding(false, null); // suspended at once: we cannot know who leads
  };

  /** Any event on a node we watch means "look again": the rules are level-triggered. */
  private readonly onWatch = (_event: ZkEvent): void => this.kick();

  private kick(): void {
    this.runs.kick();
  }

  /** One round: make sure we have a node in this session, then find where we stand. */
  private async elect(): Promise<void> {
    const client = this.client;
    const session = client.sessionId;
    if (client.state !== 'connected' || !session) return this.setStanding(false, null);
    const current = () => this.lifecycle === 'started' && client.state === 'connected' && client.sessionId === session;
    if (this.node && this.node.session !== session) {
      // the old session's node is gone with it, or about to go: a new one, and the old removed
      this.leftovers.left(this.node.path);
      this.node = undefined;
    }
    // each pass ends in a return, or learns something (our node or our predecessor gone) and looks again
    for (let pass = 0; pass < 5 && current(); pass++) {
      const node = this.node ?? (await this.enter(session));
      if (!node || !current()) return;
      await this.leftovers.sweep(node.path);
      const standing = standingOf(await client.getChildren(this.electionPath), node.path.slice(this.electionPath.length + 1));
      if (!standing) {
        // deposed (Curator's reset): we may win again, but only with a new node, and the
        // listeners hear that leadership was interrupted
        this.log.warn({ node: node.path }, 'our election node is gone (deleted, or its session ended); joining again');
        this.setStanding(false, null);
        if (this.node === node) this.node = undefined;
        continue;
      }
      if (standing.predecessor === undefined) {
        // the leader watches its own node: its deletion must depose us now, not at the next re-check
        if (!(await client.exists(node.path, this.onWatch))) continue;
        if (!current()) return;
        this.setStanding(true, this.o.instance);
        return this.settled();
      }
      // getData, not exists: on a node already gone it leaves no watch behind
      const ahead = await this.instanceAt(standing.predecessor, this.onWatch);
      if (ahead === undefined) continue;
      const leader = standing.leader === standing.predecessor ? ahead : ((await this.instanceAt(standing.leader)) ?? null);
      if (!current()) return;
      this.setStanding(false, leader);
      return this.settled();
    }
    if (current()) throw new Error(`${this.electionPath} kept changing under us`);
  }

  /** Creates our candidate node in `session` (and the path to it); undefined when closed meanwhile. */
  private async enter(session: string): Promise<{ path: string; session: string } | undefined> {
    const client = this.client;
    const create = () => client.create(`${this.electionPath}/${CANDIDATE_PREFIX}`, Buffer.from(this.o.instance), { ephemeral: true, sequential: true, protect: this.o.protect });
    let path: string;
    try {
      path = await create().catch(async (err: unknown) => {
        if (zkCode(err) !== 'NO_NODE') throw err;
        await client.mkdirs(this.electionPath, this.o.protect);
        return create();
      });
    } catch (err) {
      // a create without an answer may have landed: a node of ours we do not know the name of
      if (zkCode(err) === 'TIMEOUT' || zkCode(err) === 'CONNECTION_LOSS') this.leftovers.lostCreate();
      throw err;
    }
    if (this.lifecycle !== 'started' || client.sessionId !== session) {
      await this.removeQuietly(path, 'an election node created as we left');
      return undefined;
    }
    this.node = { path, session };
    this.log.info({ node: path, session: '0x' + session }, 'joined the scheduler election');
    return this.node;
  }

  /** The instance in candidate `name`'s node (watched when `watch`), or undefined when the node is gone. */
  private async instanceAt(name: string, watch?: (e: ZkEvent) => void): Promise<string | undefined> {
    try {
      const { data } = await this.client.getData(`${this.electionPath}/${name}`, watch);
      return data.toString('utf8').slice(0, MAX_INSTANCE_CHARS);
    } catch (err) {
      if (zkCode(err) === 'NO_NODE') return undefined;
      throw err;
    }
  }

  private async removeQuietly(path: string, what: string): Promise<void> {
    try {
      await Promise.race([this.client.remove(path), sleep(CLOSE_DEADLINE_MS)]);
    } catch (err) {
      this.log.warn({ node: path, err: String(err) }, `cannot remove ${what}; it goes with the session`);
    }
  }

  /** Records where we stand and tells listeners when it changed. */
  private setStanding(leading: boolean, leader: string | null): void {
    if (leading === this.leading && leader === this.leader) return;
    const was = this.leading;
    this.leading = leading;
    this.leader = leader;
    if (leading) this.log.info({ node: this.node?.path }, 'elected scheduler leader');
    else if (was) this.log.warn({ leader }, 'no longer the scheduler leader');
    this.notify(leading ? 'leader' : 'follower', leader);
  }

  /** A listener that throws must not break the election (nor escape from a timer). */
  private notify(event: 'leader' | 'follower' | 'error', arg: unknown): void {
    if (event === 'error' && this.listenerCount('error') === 0) return; // an unheard 'error' would throw
    try {
      this.emit(event, arg);
    } catch (err) {
      this.log.error({ err, event }, 'a scheduler election listener failed');
    }
  }

  /** A round ended where it should: the next one is the periodic re-check. */
  private settled(): void {
    this.retryMs = RETRY_MIN_MS;
    this.lastError = undefined;
    this.schedule(this.o.recheckMs ?? RECHECK_MS);
  }

  private failed(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    // one line per distinct problem, not one per retry
    if (message !== this.lastError) this.log.warn({ err: message, retryInMs: this.retryMs }, 'scheduler election round failed; retrying');
    this.lastError = message;
    this.notify('error', err);
    this.schedule(this.retryMs);
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
  }

  private schedule(ms: number): void {
    if (this.lifecycle !== 'started') return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), ms);
    this.timer.unref();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
