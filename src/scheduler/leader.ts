import type { Assignment, Job, JobStatus } from '../contract/index.js';
import { messageOf } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { SingleFlight } from '../lib/single-flight.js';
import { decodeRecord, zkCode, type ZkClient, type ZkOp } from '../registry/index.js';
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
  private closed = false;
  private readonly jobsPath: string;
  private readonly assignmentsPath: string;

  constructor(private readonly o: SchedulerLeaderOptions) {
    const cell = o.cellPath.replace(/\/+$/, '');
    this.jobsPath = `${cell}/jobs`;
    this.assignmentsPath = `${cell}/assignments`;
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

  private readonly onEvent = (): void => this.kick();

  private kick(): void {
    this.flight.kick();
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.kick();
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
    const out = plan(view, now);
    const put: string[] = [];
    const removed: string[] = [];
    for (const p of out.put) if (await this.write(p.node, p.coordinate, p.assignment, view)) put.push(`${p.coordinate}@${p.node}`);
    for (const r of out.remove) {
      if (await this.fenced([{ op: 'remove', path: `${this.assignmentsPath}/${r.node}/${r.coordinate}` }], `remove ${r.node}/${r.coordinate}`)) removed.push(`${r.coordinate}@${r.node}`);
    }
    for (const s of out.statuses) await this.writeStatus(s);
    // kept only when every write landed: otherwise the next pass would count a move or a retry twice
    if (put.length === out.put.length && removed.length === out.remove.length) this.history = out.history;
    if (put.length + removed.length > 0) this.o.log.info({ put, remove: removed }, 'scheduler: assignments written');
  }

  /** The cell as plan() takes it, every read watched. */
  private async read(now: number): Promise<CellView> {

    const jobs: Job[] = [];
    const statuses: unknown[] = [];
    for (const name of (await this.children(this.jobsPath)).sort()) {
      const job = await this.data(`${this.jobsPath}/${name}`, true);
      const decoded = job === undefined ? undefined : decodeZnode(job, parseJob);
      if (decoded && 'value' in decoded && decoded.value.name === name) jobs.push(decoded.value);
      else if (decoded) this.o.log.warn({ job: name, err: 'error' in decoded ? decoded.error : 'its name is another' }, 'scheduler: a job that is not one is ignored');
      if (this.history === undefined) {
        const status = await this.data(`${this.jobsPath}/${name}/status`, false);
        if (status) statuses.push(safeJson(status));
      }
    }
    const history = this.history ?? historyFromStatuses(jobs, statuses);

    const records = new Map<string, NodeView['record']>();
    for (const name of await this.children(this.o.nodesPath)) {
      const data = await this.data(`${this.o.nodesPath}/${name}`, true);
      const decoded = data === undefined ? undefined : decodeRecord(data);
      records.set(name, decoded && 'record' in decoded ? decoded.record : null);
    }
    const assignments: Record<string, Record<string, Assignment | null>> = {};
    for (const node of await this.children(this.assignmentsPath)) {
      const held: Record<string, Assignment | null> = {};
      for (const coordinate of await this.children(`${this.assignmentsPath}/${node}`)) {
        const data = await this.data(`${this.assignmentsPath}/${node}/${coordinate}`, false);
        if (data === undefined) continue;
        const decoded = decodeZnode(data, parseAssignment);
        held[coordinate] = 'value' in decoded ? decoded.value : null;
      }
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
      if (!record) continue;
      const seen: Record<string, Observed> = {};
      for (const s of record.services) {
        seen[s.coordinate] = { state: s.state, ready: s.ready ?? s.state === 'running', ...(s.exitCode !== undefined ? { exitCode: s.exitCode } : {}) };
      }
      for (const [coordinate, why] of Object.entries(record.refused ?? {})) seen[coordinate] = { ...(seen[coordinate] ?? { state: 'pending', ready: false }), refused: why };
      observed[name] = seen;
    }
    return { jobs, nodes, assignments, observed, history, lostAfterMs: this.o.lostAfterMs };
  }

  private async write(node: string, coordinate: string, a: Assignment, view: CellView): Promise<boolean> {
    const parent = `${this.assignmentsPath}/${node}`;
    const path = `${parent}/${coordinate}`;
    const data = Buffer.from(JSON.stringify(a));
    const held = view.assignments[node];
    const ops: ZkOp[] = [];
    if (!held) ops.push({ op: 'create', path: parent, protect: this.o.protect });
    ops.push(held && coordinate in held ? { op: 'setData', path, data } : { op: 'create', path, data, protect: this.o.protect });
    return this.fenced(ops, `assign ${coordinate} to ${node}`);
  }

  private async writeStatus(s: JobStatus): Promise<void> {
    const { updatedAt: _at, ...rest } = s;
    const key = JSON.stringify(rest);
    if (this.written.get(s.job) === key) return;
    const path = `${this.jobsPath}/${s.job}/status`;
    const data = Buffer.from(JSON.stringify(s));
    const exists = await this.o.client.exists(path);
    const ok = await this.fenced([exists ? { op: 'setData', path, data } : { op: 'create', path, data, protect: this.o.protect }], `status of ${s.job}`);
    if (ok) this.written.set(s.job, key);
  }

  /** A fenced multi; false (logged) when it failed for a reason the next pass deals with. */
  private async fenced(ops: ZkOp[], what: string): Promise<boolean> {
    try {
      await this.o.election.fencedWrite(ops);
      return true;
    } catch (err) {
      // NOT_LEADER: deposed, stop here; NO_NODE/NODE_EXISTS: the cell moved meanwhile, the next pass sees it
      if (zkCode(err) === 'NOT_LEADER' || (err as { code?: string }).code === 'NOT_LEADER') throw err;
      // not kicked again at once: a write that fails for good would spin; the tick comes within a second
      this.o.log.warn({ err: messageOf(err) }, `scheduler: ${what} not written`);
      return false;
    }
  }

  private async children(path: string): Promise<string[]> {
    try {
      return await this.o.client.getChildren(path, this.onEvent);
    } catch (err) {
      if (zkCode(err) !== 'NO_NODE') throw err;
      // not there yet: watch for it to appear
      await this.o.client.exists(path, this.onEvent);
      return [];
    }
  }

  private async data(path: string, watch: boolean): Promise<Buffer | undefined> {
    try {
      return (await this.o.client.getData(path, watch ? this.onEvent : undefined)).data;
    } catch (err) {
      if (zkCode(err) === 'NO_NODE') return undefined;
      throw err;
    }
  }
}

function safeJson(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
}


