import type { Job, NodeRecord, NodeResources } from '../contract/index.js';
import { figure, specResources } from '../lib/resources.js';
import { addUp, fits, shortOf, type ReservedKey } from '../services/index.js';

/**
 * The nodes of a cell as placement sees them, and the one choice of a node for an instance:
 * feasibility (filters) apart from ranking, as Nomad's scheduler does. A Slot is a node's
 * ledger for one plan: what is committed on it (the record's reservations, assignments it has
 * not started yet, what this plan placed) and how many instances of each job it holds.
 */

/** One node as the leader sees it. */
export interface NodeView {
  /** The instance name: `nodes/<name>` and `assignments/<name>`. */
  name: string;
  /** Its record in `nodes/`, or null while there is none. */
  record: NodeRecord | null;
  /** When its record disappeared (ms since the epoch); null while it has one, or not known. */
  lostSince: number | null;
}

/**
 * live: takes new instances. down: record gone, not yet for lostAfterMs (a session
 * re-established in time must not cost its services). lost: gone that long. draining: its
 * owner is emptying it. inactive: a record in a state this version does not know.
 */
export type Condition = 'live' | 'down' | 'lost' | 'draining' | 'inactive';

export interface Slot {
  name: string;
  condition: Condition;
  labels: Record<string, string>;
  /** null: the record carries no resources (a nodee 0.1 node, which runs no assignments). */
  capacity: NodeResources | null;
  committed: NodeResources;
  perJob: Map<string, number>;
}

export function conditionOf(node: NodeView, now: number, lostAfterMs: number): Condition {
  if (node.record === null) return node.lostSince !== null && now - node.lostSince >= lostAfterMs ? 'lost' : 'down';
  if (node.record.state === 'active') return 'live';
  return node.record.state === 'draining' ? 'draining' : 'inactive';
}

export function slotOf(node: NodeView, now: number, lostAfterMs: number): Slot {
  const r = node.record?.resources;
  return {
    name: node.name,
    condition: conditionOf(node, now, lostAfterMs),
    labels: node.record?.labels ?? {},
    capacity: r ? { ...r.capacity } : null,
    committed: r ? { ...r.reserved } : { memoryMB: 0, cpu: 0, diskMB: 0 },
    perJob: new Map(),
  };
}

/** The reservation a spec asks for (an absent figure reserves nothing). */
export function needOf(spec: Record<string, unknown>): NodeResources {
  return addUp([specResources(spec)]);
}

/** Counts `delta` instances of `job` more on the slot (spread and maxPerNode read it). */
export function count(slot: Slot, job: string, delta: number): void {
  slot.perJob.set(job, (slot.perJob.get(job) ?? 0) + delta);
}

/** Adds a reservation the record does not show yet (an assignment not started, one placed now). */
export function reserve(slot: Slot, need: NodeResources): void {
  slot.committed = addUp([slot.committed, need]);
}

/** Takes back a reservation: an assignment removed before its node started it, or one rewritten in place. */
export function release(slot: Slot, need: NodeResources): void {
  for (const k of ['memoryMB', 'cpu', 'diskMB'] as const) slot.committed[k] -= need[k];
}

/** The first rule that keeps `slot` from taking an instance of `job`, or null when it may. */
type Exclusion =
  | { rule: 'avoid' }
  | { rule: 'notLive' }
  | { rule: 'noResources' }
  | { rule: 'label'; key: string; value: string }
  | { rule: 'maxPerNode' }
  | { rule: 'short'; key: ReservedKey };

/** Free room of a slot in one resource, never below 0 in what a person reads. */
function freeOf(slot: Slot, k: ReservedKey): number {
  return slot.capacity ? slot.capacity[k] - slot.committed[k] : 0;
}

/**
 * Why `slot` may not take an instance of `job` needing `need`; null when it may. `own` is an
 * instance already on the slot that this one replaces (an upgrade in place): it is not
 * counted against maxPerNode.
 */
export function exclusion(slot: Slot, job: Job, need: NodeResources, avoid: string | undefined, own = false, labels = constraintLabels(job)): Exclusion | null {
  if (slot.name === avoid) return { rule: 'avoid' };
  if (slot.condition !== 'live') return { rule: 'notLive' };
  if (slot.capacity === null) return { rule: 'noResources' };
  const missing = labels.find(([k, v]) => slot.labels[k] !== v);
  if (missing) return { rule: 'label', key: missing[0], value: missing[1] };
  const held = (slot.perJob.get(job.name) ?? 0) - (own ? 1 : 0);
  if (job.maxPerNode !== undefined && held >= job.maxPerNode) return { rule: 'maxPerNode' };
  if (fits(need, slot.capacity, slot.committed)) return null;
  return { rule: 'short', key: shortOf(need, slot.capacity, slot.committed)[0]! };
}

/**
 * The node for an instance: among feasible slots, the fewest instances of the job (spread,
 * so losing one node loses few of a job's instances), then the most memory left after
 * placing (the least loaded node: headroom for services that use more than they reserve
 * and for upgrades in place that ask for more; the opposite of bin packing), then the name,
 * so the answer never depends on input order. Otherwise the reason nothing fits.
 */
export function choose(slots: readonly Slot[], job: Job, need: NodeResources, avoid: string | undefined): { slot: Slot } | { reason: string } {
  // one scan keeping the best so far, no sort and no list: a 10,000-instance job over 1,000
  // nodes is ten million of these steps (a sort per instance made it seconds)
  const labels = constraintLabels(job);
  let best: Slot | undefined;
  let bestCount = 0;
  let bestFree = 0;
  for (const s of slots) {
    if (exclusion(s, job, need, avoid, false, labels) !== null) continue;
    const n = s.perJob.get(job.name) ?? 0;
    const free = freeOf(s, 'memoryMB') - need.memoryMB;
    if (best === undefined || n < bestCount || (n === bestCount && (free > bestFree || (free === bestFree && s.name < best.name)))) {
      best = s;
      bestCount = n;
      bestFree = free;
    }
  }
  return best ? { slot: best } : { reason: whyNot(slots, job, need, avoid) };
}

/** The job's label constraints, sorted by name (the first missing one is the one a reason names). */
function constraintLabels(job: Job): [string, string][] {
  return Object.entries(job.constraints?.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

const CONDITION_WORDS: Record<Condition, string> = { live: 'live', down: 'record gone', lost: 'lost', draining: 'draining', inactive: 'not active' };

/**
 * Which rule excluded which nodes, one part per rule in the order they are checked (slots
 * come sorted by name). Nodes that are not live are named only when no node is.
 */
function whyNot(slots: readonly Slot[], job: Job, need: NodeResources, avoid: string | undefined): string {
  const live = slots.filter((s) => s.condition === 'live');
  if (live.length === 0) {
    const others = slots.map((s) => `${s.name} ${CONDITION_WORDS[s.condition]}`);
    return others.length ? `no live node (${others.join(', ')})` : 'no live node';
  }
  const groups = new Map<string, { ex: Exclusion; slots: Slot[] }>();
  for (const s of live) {
    const ex = exclusion(s, job, need, avoid)!;
    const key = ex.rule === 'label' ? `label ${ex.key}=${ex.value}` : ex.rule === 'short' ? `short ${ex.key}` : ex.rule;
    const g = groups.get(key) ?? { ex, slots: [] };
    g.slots.push(s);
    groups.set(key, g);
  }
  const order = (key: string) => ['avoid', 'noResources', 'label', 'maxPerNode', 'short'].indexOf(key.split(' ')[0]!);
  const keys = [...groups.keys()].sort((a, b) => order(a) - order(b) || (a < b ? -1 : 1));
  return keys.map((key) => describe(groups.get(key)!, live, job, need)).join('; ');
}

function describe(g: { ex: Exclusion; slots: Slot[] }, live: readonly Slot[], job: Job, need: NodeResources): string {
  const names = g.slots.map((s) => s.name).join(', ');
  switch (g.ex.rule) {
    case 'avoid':
      return `another node needed: failed on ${names}`;
    case 'notLive':
      return `not live: ${names}`;
    case 'noResources':
      return `no resources in record (nodee 0.1): ${names}`;
    case 'label': {
      const { key, value } = g.ex;
      const anywhere = live.some((s) => s.labels[key] === value);
      return `label ${key}=${value}: ${anywhere ? `not on ${names}` : 'no node'}`;
    }
    case 'maxPerNode':
      return `maxPerNode ${job.maxPerNode} reached on ${names}`;
    case 'short': {
      const key = g.ex.key;
      // the first of the most free: slots are sorted by name
      const best = g.slots.reduce((a, b) => (freeOf(b, key) > freeOf(a, key) ? b : a));
      return `${key}: needs ${figure(need[key])}, most free ${figure(Math.max(0, freeOf(best, key)))} on ${best.name}`;
    }
  }
}
