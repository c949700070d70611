import type { Assignment, Job, JobStatus } from '../contract/index.js';
import { AT_REST } from '../services/index.js';
import { MAX_BATCH_RETRIES, MAX_MOVES, pruneHistory, recentMoves, type History } from './history.js';
import { assignmentFor, instanceCoordinate, splitCoordinate } from './job.js';
import { choose, count, exclusion, needOf, release, reserve, slotOf, type NodeView, type Slot } from './nodes.js';

/**
 * The planner: a pure function from the whole cell to what the leader writes, as Helix's
 * rebalancer is. It is level-triggered: it never looks at what changed, only at what is, so
 * a missed watch or a new leader plans the same. No clock (`now` is given), no I/O, and every
 * list is sorted, so the same view always gives the same plan.
 */

/** What a node's record says of one service (its `services[]` entry). */
export interface Observed {
  state: string;
  ready: boolean;
  /** lastExit.code while `exited`; absent or null when not known (a batch run then counts as failed). */
  exitCode?: number | null;
  /** Why the node will not run its assignment (e.g. a root spec without allowRoot): shown as pending. */
  refused?: string;
}

export interface CellView {
  jobs: readonly Job[];
  nodes: readonly NodeView[];
  /** node → coordinate → what `assignments/<node>/<coordinate>` holds; null when it is not an Assignment. */
  assignments: Readonly<Record<string, Readonly<Record<string, Assignment | null>>>>;
  /** node → coordinate → what that node's record says of the service. */
  observed: Readonly<Record<string, Readonly<Record<string, Observed>>>>;
  /** The previous plan's history (EMPTY_HISTORY, or historyFromStatuses(), for a new leader). */
  history: History;
  /** A node whose record has been gone this long is lost: its instances go elsewhere. */
  lostAfterMs: number;
}

export interface Plan {
  /** Assignments to write (new, moved, or rewritten for a new job version). */
  put: { node: string; coordinate: string; assignment: Assignment }[];
  /** Assignments to delete. Never the same node and coordinate as a put. */
  remove: { node: string; coordinate: string }[];
  /** One per job, sorted by name; updatedAt is `now`. */
  statuses: JobStatus[];
  /** To hand to the next plan, once the writes are done. */
  history: History;
}

interface Held {
  node: string;
  assignment: Assignment;
}

/** One instance of a job, as this plan leaves it. */
interface Instance {
  job: Job;
  index: number;
  coordinate: string;
  node: string | null;
  state: string;
  ready: boolean;
  reason?: string;
}

/** The working state of one plan. */
interface Run {
  view: CellView;
  now: number;
  slots: Map<string, Slot>;
  /** The same slots as a list, made once: a placement scans it (a copy per instance cost more than the scan). */
  slotList: Slot[];
  history: History;
  put: Plan['put'];
  remove: Plan['remove'];
  /** Instances to place, with the node a failed run just left (to try another). */
  toPlace: { inst: Instance; avoid?: string }[];
  upgrades: { inst: Instance; held: Held }[];
}

export function plan(view: CellView, now: number): Plan {
  const jobs = latestJobs(view.jobs);
  const names = new Set([...view.nodes.map((n) => n.name), ...Object.keys(view.assignments)]);
  const byName = new Map(view.nodes.map((n) => [n.name, n]));
  const slots = new Map(
    [...names].sort().map((name) => [name, slotOf(byName.get(name) ?? { name, record: null, lostSince: null }, now, view.lostAfterMs)]),
  );
  const run: Run = { view, now, slots, slotList: [...slots.values()], history: { moves: { ...view.history.moves }, batch: { ...view.history.batch } }, put: [], remove: [], toPlace: [], upgrades: [] };

  const current = keptAssignments(run, jobs);
  const instances: Instance[] = [];
  for (const job of jobs) {
    for (let i = 0; i < job.count; i++) {
      const inst: Instance = { job, index: i, coordinate: instanceCoordinate(job.name, i), node: null, state: 'pending', ready: false };
      instances.push(inst);
      settle(run, inst, current.get(inst.coordinate));
    }
  }
  for (const u of run.upgrades) upgrade(run, u.inst, u.held);
  const order = new Map(instances.map((inst, n) => [inst, n]));
  for (const p of run.toPlace.sort((a, b) => order.get(a.inst)! - order.get(b.inst)!)) place(run, p.inst, p.avoid);

  const written = new Set(run.put.map((p) => `${p.node}/${p.coordinate}`));
  return {
    put: run.put.sort(byNodeThenCoordinate),
    remove: run.remove.filter((r) => !written.has(`${r.node}/${r.coordinate}`)).sort(byNodeThenCoordinate),
    statuses: jobs.map((job) => statusOf(job, instances, now)),
    history: pruneHistory(run.history, jobs, now),
  };
}

/** One job per name, the highest version (two znodes cannot share a name; a careless caller can). */
function latestJobs(jobs: readonly Job[]): Job[] {
  const out = new Map<string, Job>();
  for (const j of jobs) if ((out.get(j.name)?.version ?? -1) < j.version) out.set(j.name, j);
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * The one assignment each instance keeps; every other is removed: garbage, one for no
 * instance of a current job (job deleted, count lowered), one whose data names another
 * coordinate, and all but one of the same instance on two nodes (the one on a node that
 * stays, then the one its node reports, then by node name).
 */
function keptAssignments(run: Run, jobs: readonly Job[]): Map<string, Held> {
  const counts = new Map(jobs.map((j) => [j.name, j.count]));
  const byCoordinate = new Map<string, { node: string; assignment: Assignment | null }[]>();
  for (const node of [...run.slots.keys()]) {
    for (const [coordinate, assignment] of Object.entries(run.view.assignments[node] ?? {})) {
      const list = byCoordinate.get(coordinate) ?? [];
      list.push({ node, assignment });
      byCoordinate.set(coordinate, list);
    }
  }
  const kept = new Map<string, Held>();
  for (const [coordinate, list] of [...byCoordinate].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const s = splitCoordinate(coordinate);
    const wanted = s !== undefined && s.index < (counts.get(s.job) ?? 0);
    const valid = list.filter((h): h is Held => wanted && h.assignment !== null && h.assignment.spec.coordinate === coordinate && h.assignment.job === s!.job);
    const rank = (h: Held) => (leaving(run.slots.get(h.node)!) ? 2 : 0) + (run.view.observed[h.node]?.[coordinate] ? 0 : 1);
    const keep = valid.sort((a, b) => rank(a) - rank(b) || (a.node < b.node ? -1 : 1))[0];
    for (const h of list) if (h !== keep) run.remove.push({ node: h.node, coordinate });
    if (keep) kept.set(coordinate, keep);
  }
  return kept;
}

/** A node whose instances go elsewhere. */
function leaving(slot: Slot): boolean {
  return slot.condition === 'lost' || slot.condition === 'draining';
}

/** A run that went wrong: a service that its node gave up on; a batch run that did not exit 0. */
function failedRun(job: Job, o: Observed): boolean {
  if (o.state === 'failed') return true;
  return job.type === 'batch' && o.state === 'exited' && o.exitCode !== 0;
}

/** Decides what becomes of an instance and its assignment `held` (if any), apart from placing it. */
function settle(run: Run, inst: Instance, held: Held | undefined): void {
  const { job, coordinate: c } = inst;
  const rec = job.type === 'batch' ? run.history.batch[c] : undefined;
  const drop = () => held && run.remove.push({ node: held.node, coordinate: c });
  if (rec?.outcome === 'complete') {
    drop();
    Object.assign(inst, { node: rec.node, state: 'complete' });
    return;
  }
  // every node named under assignments/ has a slot, record or not
  const slot = held && run.slots.get(held.node)!;
  if (!held || !slot || leaving(slot)) {
    drop();
    // a batch instance that failed for good stays failed wherever its node went
    if (rec?.outcome === 'failed') Object.assign(inst, { node: rec.node, state: 'failed' });
    else run.toPlace.push({ inst });
    return;
  }
  const o = run.view.observed[held.node]?.[c];
  keep(run, inst, held, o);
  if (slot.condition === 'down') {
    // no record to read: the instance may well be running; only lostAfterMs decides
    Object.assign(inst, { state: 'unknown', ready: false, reason: undefined });
    return;
  }
  if (rec?.outcome === 'failed') {
    inst.state = 'failed';
    return;
  }
  if (o && failedRun(job, o)) {
    if (job.type === 'service') {
      const moves = recentMoves(run.history, c, run.now);
      if (moves.length < MAX_MOVES) {
        run.history.moves[c] = [...moves, run.now];
        unkeep(run, inst, held, o);
        run.toPlace.push({ inst, avoid: held.node });
        return;
      }
      // stays failed where it is, until a new job version (a fix, say) is written over it below
    } else {
      const failures = (rec?.failures ?? 0) + 1;
      const last = failures > MAX_BATCH_RETRIES;
      run.history.batch[c] = { failures, outcome: last ? 'failed' : null, node: last ? held.node : null };
      if (last) {
        inst.state = 'failed';
        return;
      }
      unkeep(run, inst, held, o);
      run.toPlace.push({ inst, avoid: held.node });
      return;
    }
  }
  // failedRun() took every other exit: this one is 0
  if (job.type === 'batch' && o?.state === 'exited') {
    run.history.batch[c] = { failures: rec?.failures ?? 0, outcome: 'complete', node: held.node };
    unkeep(run, inst, held, o);
    Object.assign(inst, { node: held.node, state: 'complete' });
    return;
  }
  if (held.assignment.jobVersion !== job.version && slot.condition === 'live') run.upgrades.push({ inst, held });
}

/** Whether a service's reservation is in its node's record: started and not at rest (admission's rule). */
function inRecord(o: Observed | undefined): boolean {
  return o !== undefined && !AT_REST.includes(o.state as never);
}

/** The instance stays where it is: counted on its node, its state what the node says. */
function keep(run: Run, inst: Instance, held: Held, o: Observed | undefined): void {
  const slot = run.slots.get(held.node)!;
  count(slot, inst.job.name, 1);
  // an assignment its node has not started yet is in no record's reserved: count it here
  if (o === undefined) reserve(slot, needOf(held.assignment.spec));
  Object.assign(inst, { node: held.node, state: o?.refused ? 'pending' : (o?.state ?? 'pending'), ready: o?.ready ?? false });
  if (o?.refused) inst.reason = `${held.node}: ${o.refused}`;
}

/**
 * Undoes keep() and removes the assignment. A service that was started keeps its reservation
 * in its node's record until the node has stopped it, so only a never-started one frees room now.
 */
function unkeep(run: Run, inst: Instance, held: Held, o: Observed | undefined): void {
  const slot = run.slots.get(held.node)!;
  count(slot, inst.job.name, -1);
  if (o === undefined) release(slot, needOf(held.assignment.spec));
  run.remove.push({ node: held.node, coordinate: inst.coordinate });
  Object.assign(inst, { node: null, state: 'pending', ready: false, reason: undefined });
}

/** A new job version: rewritten on the same node (which upgrades in place) if that node still fits it, else moved. */
function upgrade(run: Run, inst: Instance, held: Held): void {
  const slot = run.slots.get(held.node)!;
  const o = run.view.observed[held.node]?.[inst.coordinate];
  const was = needOf(held.assignment.spec);
  const need = needOf(inst.job.spec);
  // judged without its own old reservation and count: the new version takes their place
  const counted = o === undefined || inRecord(o);
  if (counted) release(slot, was);
  if (exclusion(slot, inst.job, need, undefined, true) === null) {
    reserve(slot, need);
    run.put.push({ node: held.node, coordinate: inst.coordinate, assignment: assignmentFor(inst.job, inst.index, run.now) });
    return;
  }
  if (counted) reserve(slot, was);
  unkeep(run, inst, held, o);
  run.toPlace.push({ inst });
}

function place(run: Run, inst: Instance, avoid: string | undefined): void {
  const need = needOf(inst.job.spec);
  const chosen = choose(run.slotList, inst.job, need, avoid);
  if ('reason' in chosen) {
    inst.reason = chosen.reason;
    return;
  }
  count(chosen.slot, inst.job.name, 1);
  reserve(chosen.slot, need);
  run.put.push({ node: chosen.slot.name, coordinate: inst.coordinate, assignment: assignmentFor(inst.job, inst.index, run.now) });
  inst.node = chosen.slot.name;
}

function statusOf(job: Job, instances: readonly Instance[], now: number): JobStatus {
  const mine = instances.filter((i) => i.job === job);
  const counts: Record<string, number> = {};
  for (const state of mine.map((i) => i.state).sort()) counts[state] = (counts[state] ?? 0) + 1;
  return {
    job: job.name,
    version: job.version,
    instances: mine.map((i) => ({ coordinate: i.coordinate, node: i.node, state: i.state, ready: i.ready })),
    counts,
    pending: mine.filter((i) => i.reason !== undefined).map((i) => ({ coordinate: i.coordinate, reason: i.reason! })),
    updatedAt: new Date(now).toISOString(),
  };
}

function byNodeThenCoordinate(a: { node: string; coordinate: string }, b: { node: string; coordinate: string }): number {
  return a.node < b.node ? -1 : a.node > b.node ? 1 : a.coordinate < b.coordinate ? -1 : a.coordinate > b.coordinate ? 1 : 0;
}
