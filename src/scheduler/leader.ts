import type { Assignment, Job, JobStatus } from '../contract/index.js';
import { messageOf } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { SingleFlight } from '../lib/single-flight.js';
import { decodeRecord, type ZkClient, type ZkOp } from '../registry/index.js';
import { CellCache } from './cell-cache.js';
import type { LeaderElection } from './election.js';
import { historyFromStatuses, type History } from './history.js';
import { decodeZnode, parseAssignment, parseJob } from './job.js';
import type { NodeView } from './nodes.js';
import { plan, type CellView, type Observed } from './plan.js';

export interface SchedulerLeaderOptions {
  client: ZkClient;
  election: LeaderElection;
  /** The cell root: `jobs/`, `assignments/`, `scheduler/` are under it. */
  cellPath: string;
  /** `zookeeper.nodesPath`: the node records. */
  nodesPath: string;
  lostAfterMs: number;
  /** Digest ACL on what the leader creates (`zookeeper.digestFile`). */
  protect: boolean;
  log: Logger;
  /** A full pass this often while leading, besides the watches (lost nodes are noticed by it). */
  tickMs?: number;
}

/**
 * The controller side (Helix's controller): while this daemon leads, it reads the whole cell
 * (jobs, node records, assignments), asks plan() what should be, and writes the difference,
 * every write fenced by the election (a deposed leader's write fails whole). Level-triggered:
 * a pass never depends on which watch fired, so a lost watch, a new leader or a restarted one
 * plans the same. Passes run one at a time, on every watch and at least every tickMs.
 */
export class SchedulerLeader {
  private readonly flight: SingleFlight;
  private history: History | undefined;
  /** When each node's record was first seen missing (by this leader). */
  private readonly lostSince = new Map<string, number>();
  /** Each job's status as last written, without updatedAt: an unchanged status is not written again. */
  private readonly written = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  /** A write did not land: the next tick passes again even if no watch fires. */
  private retry = false;
  private closed = false;
  private readonly jobsPath: string;
  private readonly assignmentsPath: string;
  private readonly cache: CellCache;

  constructor(private readonly o: SchedulerLeaderOptions) {
    const cell = o.cellPath.replace(/\/+$/, '');
    this.jobsPath = `${cell}/jobs`;
    this.assignmentsPath = `${cell}/assignments`;
    this.cache = new CellCache(o.client, () => this.kick());
    this.flight = new SingleFlight(
      () => this.pass(),
      () => !this.closed && o.election.isLeader(),
      (err) => o.log.warn({ err: messageOf(err) }, 'scheduler pass failed; the next one tries again'),
    );
  }

  start(): void {
    this.o.election.on('leader', () => {
      // a new leadership starts from what ZooKeeper holds, not from what an earlier one remembered
      this.history = undefined;
      this.written.clear();
      this.lostSince.clear();
      this.cache.clear();
      this.o.log.info('scheduler: leading the cell');
      this.kick();
      this.arm();
    });
    this.o.election.on('follower', () => clearTimeout(this.timer));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private kick(): void {
    this.flight.kick();
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      // watches bring every change; the clock matters only while a node may become lost, or
      // after a write that did not land (a quiet cell costs nothing)
      if (this.lostSince.size > 0 || this.retry) this.kick();
      if (this.o.election.isLeader()) this.arm();
    }, this.o.tickMs ?? 1000);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    if (this.closed || !this.o.election.isLeader()) return;
    if (this.history === undefined) {
      // the parents every write below needs, once per leadership (an empty cell has none)
      for (const p of [this.jobsPath, this.assignmentsPath]) await this.o.client.mkdirs(p, this.o.protect);
    }
    const now = Date.now();
    const view = await this.read(now);
    const planned = Date.now();
    this.retry = false;
    const out = plan(view, now);
    const wrote = Date.now();
    // a node lost for good that holds nothing any more needs no more watching of the clock
    for (const [name, since] of this.lostSince) {
      if (now - since >= this.o.lostAfterMs && Object.keys(view.assignments[name] ?? {}).length === 0 && !out.put.some((p) => p.node === name)) this.lostSince.delete(name);
    }
    // a node's first assignment makes its parent: once, in the first of its writes
    const parents = new Set<string>();
    const puts = out.put.map((p) => this.putOps(p.node, p.coordinate, p.assignment, view, parents));
    const removes = out.remove.map((r) => ({ ops: [{ op: 'remove', path: `${this.assignmentsPath}/${r.node}/${r.coordinate}` }] as ZkOp[], what: `${r.coordinate}@${r.node}` }));
    const put = await this.writeAll(puts);
    const removed = await this.writeAll(removes);
    // kept, and the statuses written, only when every write landed: otherwise the next pass
    // would count a move or a retry twice, and a status would name a node not yet assigned
    if (put.length === puts.length && removed.length === removes.length) {
      this.history = out.history;
      for (const st of out.statuses) await this.writeStatus(st);
    }
    const ms = Date.now() - now;
    // a slow pass is worth a line: which part (reading the cell, planning, writing) took the time
    if (ms > 1000) this.o.log.info({ readMs: planned - now, planMs: wrote - planned, writeMs: Date.now() - wrote, puts: puts.length, removes: removes.length }, 'scheduler: a slow pass');
    if (put.length + removed.length > 0) {
      this.o.log.info({ put: put.length > 20 ? `${put.length} assignments` : put, remove: removed.length > 20 ? `${removed.length} assignments` : removed }, 'scheduler: assignments written');
    }
  }

  /** The cell as plan() takes it: from the cache, reading only what changed since the last pass. */
  private async read(now: number): Promise<CellView> {
    const cache = this.cache;
    const jobs: Job[] = [];
    const statuses: unknown[] = [];
    const jobNames = await cache.children(this.jobsPath);
    const jobData = await cache.readAll(jobNames.map((n) => `${this.jobsPath}/${n}`));
    jobNames.forEach((name, i) => {
      const data = jobData[i];
      if (!data) return;
      const decoded = decodeZnode(data, parseJob);
      if ('value' in decoded && decoded.value.name === name) jobs.push(decoded.value);
      else if (this.history === undefined) this.o.log.warn({ job: name, err: 'error' in decoded ? decoded.error : 'its name is another' }, 'scheduler: a job that is not one is ignored');
    });
    if (this.history === undefined) {
      // a new leader takes up the batch outcomes its predecessor wrote
      for (const data of await cache.readAll(jobNames.map((n) => `${this.jobsPath}/${n}/status`), false)) if (data) statuses.push(safeJson(data));
    }
    const history = this.history ?? historyFromStatuses(jobs, statuses);

    const records = new Map<string, NodeView['record']>();
    const nodeNames = await cache.children(this.o.nodesPath);
    const recordData = await cache.readAll(nodeNames.map((n) => `${this.o.nodesPath}/${n}`));
    nodeNames.forEach((name, i) => {
      const data = recordData[i];
      if (!data) return;
      const decoded = decodeRecord(data);
      records.set(name, 'record' in decoded ? decoded.record : null);
    });
    // only the leader writes assignments: read once a leadership, then kept up by its own writes
    const assignments: Record<string, Record<string, Assignment | null>> = {};
    for (const node of await cache.children(this.assignmentsPath, false)) {
      const coordinates = await cache.children(`${this.assignmentsPath}/${node}`, false);
      const datas = await cache.readAll(coordinates.map((c) => `${this.assignmentsPath}/${node}/${c}`), false);
      const held: Record<string, Assignment | null> = {};
      coordinates.forEach((c, i) => {
        const data = datas[i];
        if (!data) return;
        const decoded = decodeZnode(data, parseAssignment);
        held[c] = 'value' in decoded ? decoded.value : null;
      });
      assignments[node] = held;
    }
    const names = new Set([...records.keys(), ...Object.keys(assignments), ...this.lostSince.keys()]);
    const nodes: NodeView[] = [];
    const observed: Record<string, Record<string, Observed>> = {};
    for (const name of [...names].sort()) {
      const record = records.get(name) ?? null;
      if (record) this.lostSince.delete(name);
      else if (!this.lostSince.has(name)) this.lostSince.set(name, now);
      nodes.push({ name, record, lostSince: record ? null : this.lostSince.get(name)! });
      if (record) observed[name] = observedOf(record);
    }
    return { jobs, nodes, assignments, observed, history, lostAfterMs: this.o.lostAfterMs };
  }

  private putOps(node: string, coordinate: string, a: Assignment, view: CellView, parents: Set<string>): Write {
    const parent = `${this.assignmentsPath}/${node}`;
    const path = `${parent}/${coordinate}`;
    const data = Buffer.from(JSON.stringify(a));
    const held = view.assignments[node];
    const ops: ZkOp[] = [];
    if (!held && !parents.has(node)) ops.push({ op: 'create', path: parent, protect: this.o.protect });
    parents.add(node);
    ops.push(held && coordinate in held ? { op: 'setData', path, data } : { op: 'create', path, data, protect: this.o.protect });
    return { ops, what: `${coordinate}@${node}` };
  }

  /**
   * The writes, many to a fenced multi (one round trip for up to WRITE_BATCH ops): a batch
   * that fails is retried one write at a time, so one write the cell refuses (a node created
   * meanwhile) does not hold back the others. Resolves what was written.
   */
  private async writeAll(writes: Write[]): Promise<string[]> {
    const done: string[] = [];
    for (let i = 0; i < writes.length; ) {
      const batch: Write[] = [];
      let ops = 0;
      while (i < writes.length && ops + writes[i]!.ops.length <= WRITE_BATCH) {
        const w = writes[i]!;
        batch.push(w);
        ops += w.ops.length;
        i++;
      }
      if (await this.fenced(batch.flatMap((w) => w.ops), `${batch.length} assignment writes`, batch.length === 1)) {
        for (const w of batch) this.applied(w, done);
      } else if (batch.length > 1) {
        for (const w of batch) {
          if (await this.fenced(w.ops, w.what, true)) this.applied(w, done);
          else this.unknown(w);
        }
      } else this.unknown(batch[0]!);
    }
    return done;
  }

  /** A write failed or timed out (the server may have applied it all the same): read its paths again. */
  private unknown(w: Write): void {
    this.retry = true;
    for (const op of w.ops) this.cache.forget(op.path);
  }

  /** A write landed: the cache follows it (the next pass reads nothing for it). */
  private applied(w: Write, done: string[]): void {
    const newParent = w.ops.length === 2;
    const last = w.ops[w.ops.length - 1]!;
    if (last.op === 'remove') this.cache.removed(last.path);
    else if (last.op === 'create' || last.op === 'setData') this.cache.wrote(last.path, last.data ?? Buffer.alloc(0), newParent);
    done.push(w.what);
  }

  private async writeStatus(s: JobStatus): Promise<void> {
    const { updatedAt: _at, ...rest } = s;
    const key = JSON.stringify(rest);
    if (this.written.get(s.job) === key) return;
    const path = `${this.jobsPath}/${s.job}/status`;
    const data = Buffer.from(JSON.stringify(s));
    const exists = await this.o.client.exists(path);
    const ok = await this.fenced([exists ? { op: 'setData', path, data } : { op: 'create', path, data, protect: this.o.protect }], `status of ${s.job}`, true);
    if (ok) this.written.set(s.job, key);
    else this.retry = true;
  }

  /** A fenced multi; false when it failed for a reason the next pass deals with (said when `loud`). */
  private async fenced(ops: ZkOp[], what: string, loud: boolean): Promise<boolean> {
    try {
      await this.o.election.fencedWrite(ops);
      return true;
    } catch (err) {
      // NOT_LEADER: deposed, stop here; NO_NODE/NODE_EXISTS: the cell moved meanwhile, the next pass sees it
      if ((err as { code?: string }).code === 'NOT_LEADER') throw err;
      // not kicked again at once: a write that fails for good would spin; the tick comes within a second
      if (loud) this.o.log.warn({ err: messageOf(err) }, `scheduler: ${what} not written`);
      return false;
    }
  }
}

/** One assignment write: its ops (the node's parent first when new), and what it is, for the log. */
interface Write {
  ops: ZkOp[];
  what: string;
}

/** Most ops in one multi: ~100 KB of assignments, far under ZooKeeper's 1 MB request limit. */
const WRITE_BATCH = 100;

/** What a node's record says of each service, as plan() takes it (and what it refuses). */
function observedOf(record: NonNullable<NodeView['record']>): Record<string, Observed> {
  const seen: Record<string, Observed> = {};
  for (const s of record.services) {
    seen[s.coordinate] = { state: s.state, ready: s.ready ?? s.state === 'running', ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}) };
  }
  for (const [coordinate, why] of Object.entries(record.refused ?? {})) seen[coordinate] = { ...(seen[coordinate] ?? { state: 'pending', ready: false }), refused: why };
  return seen;
}

function safeJson(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
}


