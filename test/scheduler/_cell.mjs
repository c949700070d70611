import { assignmentFor, EMPTY_HISTORY, parseJob, plan } from '../../dist/scheduler/index.js';

/**
 * A small language for a cell, so each row of the planner's tables reads as a scenario:
 * nodes, jobs, assignments and what the nodes report, and the plan summarised in words.
 */

export const NOW = Date.UTC(2024, 0, 1, 12);
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const LOST_AFTER = 30_000;

/** A live node (8000 MB, 4 cores, nothing reserved) unless told otherwise. */
export function node(name, o = {}) {
  const record = {
    instance: name,
    hostname: `${name}.example.com`,
    pid: 4242,
    version: '0.2.0',
    state: o.state ?? 'active',
    startedAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T11:59:59.000Z',
    console: { url: `http://${name}:7070/`, port: 7070 },
    machine: { cpus: 4, memoryBytes: 8e9, freeMemoryBytes: 4e9, loadavg: [0, 0, 0], diskFreeBytes: 1e11 },
    artifacts: [],
    services: [],
    labels: o.labels ?? {},
    containment: 'cgroup2',
  };
  if (!o.v01) {
    record.resources = {
      capacity: { memoryMB: o.mem ?? 8000, cpu: o.cpu ?? 4, diskMB: o.disk ?? 100_000 },
      reserved: { memoryMB: o.usedMem ?? 0, cpu: o.usedCpu ?? 0, diskMB: 0 },
    };
  }
  return { name, record, lostSince: null };
}

/** A node whose record disappeared at `since`. */
export function gone(name, since) {
  return { name, record: null, lostSince: since };
}

/** A job of `count` instances reserving 1000 MB each unless told otherwise. */
export function job(name, count, o = {}) {
  const resources = { memoryMB: o.mem ?? 1000, ...(o.cpu !== undefined ? { cpu: o.cpu } : {}) };
  return parseJob({
    name,
    count,
    ...(o.type ? { type: o.type } : {}),
    ...(o.version ? { version: o.version } : {}),
    ...(o.maxPerNode ? { maxPerNode: o.maxPerNode } : {}),
    ...(o.labels ? { constraints: { labels: o.labels } } : {}),
    spec: { artifact: 'com.example:app:1.0.0', resources },
  });
}

/** [node, coordinate, assignment]: instance i of `j` (as that version of the job was) on `nodeName`. */
export function at(nodeName, j, i, coordinate = `${i}.${j.name}`) {
  return [nodeName, coordinate, assignmentFor(j, i, NOW - 10 * MIN)];
}

/** [node, coordinate, observed]: what the node's record says of a service. */
export function seen(nodeName, coordinate, state, extra = {}) {
  return [nodeName, coordinate, { state, ready: false, ...extra }];
}

export function viewOf(s) {
  const assignments = {};
  for (const [n, c, a] of s.assigned ?? []) (assignments[n] ??= {})[c] = a;
  const observed = {};
  for (const [n, c, o] of s.observed ?? []) (observed[n] ??= {})[c] = o;
  return { jobs: s.jobs ?? [], nodes: s.nodes ?? [], assignments, observed, history: s.history ?? EMPTY_HISTORY, lostAfterMs: LOST_AFTER };
}

/** The plan in words: "node coordinate vN" per put, "node coordinate" per remove, "coordinate: reason" per pending. */
export function summary(p) {
  return {
    put: p.put.map((x) => `${x.node} ${x.coordinate} v${x.assignment.jobVersion}`),
    remove: p.remove.map((x) => `${x.node} ${x.coordinate}`),
    pending: p.statuses.flatMap((s) => s.pending.map((x) => `${x.coordinate}: ${x.reason}`)),
    instances: p.statuses.flatMap((s) => s.instances.map((i) => `${i.coordinate} ${i.node ?? '-'} ${i.state}${i.ready ? ' ready' : ''}`)),
    history: p.history,
  };
}

export function planOf(s) {
  return plan(viewOf(s), s.now ?? NOW);
}
