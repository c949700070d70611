import { z } from 'zod';
import { describeIssues } from '../lib/issues.js';
import { specResources } from '../lib/resources.js';
import type { Artifact, NodeRecord, NodeResources, NodeStatus, Service } from '../contract/index.js';

const nodeResources = z.object({ memoryMB: z.number(), cpu: z.number(), diskMB: z.number() });

/**
 * The parser of `<nodesPath>/<instance>` (contract: "ZooKeeper"; the type is NodeRecord in
 * src/contract). The schema is what cluster tooling accepts from ZooKeeper, where anyone may
 * have written anything; unknown keys pass so an older `nodee cluster` still reads a newer
 * daemon's record.
 */
export const nodeRecordSchema = z.object({
  instance: z.string(),
  hostname: z.string(),
  pid: z.number(),
  version: z.string(),
  state: z.string(),
  startedAt: z.string(),
  updatedAt: z.string(),
  console: z.object({ url: z.string(), port: z.number() }),
  machine: z.object({
    cpus: z.number(),
    memoryBytes: z.number(),
    freeMemoryBytes: z.number(),
    loadavg: z.array(z.number()),
    diskFreeBytes: z.number(),
  }),
  artifacts: z.array(z.string()),
  services: z.array(
    z.object({
      coordinate: z.string(),
      artifact: z.string(),
      state: z.string(),
      pid: z.number().nullable(),
      ports: z.record(z.string(), z.number()),
      resources: z
        .object({ memoryMB: z.number().optional(), cpu: z.number().optional(), pids: z.number().optional(), diskMB: z.number().optional() })
        .optional(),
      ready: z.boolean().optional(),
      exitCode: z.number().nullable().optional(),
    }),
  ),
  // 0.2: optional, so cluster tooling still reads the record of a nodee 0.1 node
  labels: z.record(z.string(), z.string()).optional(),
  resources: z.object({ capacity: nodeResources, reserved: nodeResources }).optional(),
  // a plain string: a newer nodee may contain services some other way
  containment: z.string().optional(),
  refused: z.record(z.string(), z.string()).optional(),
});

// The schema and the contract's type describe one record: a field added to one and not the
// other fails the build here (checked both ways).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaIsTheContract: Same<z.infer<typeof nodeRecordSchema>, NodeRecord> = true;
void schemaIsTheContract;
// ...and with every optional field (the 0.2 ones, at any depth) made required, as these slip by above
type AllRequired<T> = T extends object ? { [K in keyof T]-?: AllRequired<T[K]> } : T;
const optionalFieldsToo: Same<AllRequired<z.infer<typeof nodeRecordSchema>>, AllRequired<NodeRecord>> = true;
void optionalFieldsToo;

/** ZooKeeper refuses znode data over jute.maxbuffer (1 MiB by default, headers included). */
export const MAX_RECORD_BYTES = 1024 * 1024 - 1024;

/** `refused`: the scheduler's assignments this node will not run, and why (the reconciler's). */
export function buildRecord(status: NodeStatus, artifacts: Artifact[], services: Service[], now: Date = new Date(), refused: Record<string, string> = {}): NodeRecord {
  return {
    instance: status.instance,
    hostname: status.hostname,
    pid: status.pid,
    version: status.version,
    state: status.state,
    startedAt: status.startedAt,
    updatedAt: now.toISOString(),
    console: { url: status.console.url, port: status.console.port },
    machine: {
      cpus: status.machine.cpus,
      memoryBytes: status.machine.memoryBytes,
      freeMemoryBytes: status.machine.freeMemoryBytes,
      loadavg: status.machine.loadavg,
      diskFreeBytes: status.machine.diskFreeBytes,
    },
    artifacts: artifacts.filter((a) => a.state === 'installed').map((a) => a.id),
    services: services.map((s) => ({
      coordinate: s.coordinate,
      artifact: s.artifact,
      state: s.state,
      pid: s.pid,
      ports: { ...s.ports },
      resources: specResources(s.spec),
      ready: s.ready,
      ...(AT_REST_STATES.has(s.state) && s.lastExit ? { exitCode: s.lastExit.code } : {}),
    })),
    labels: { ...status.labels },
    resources: { capacity: contractFields(status.resources.capacity), reserved: contractFields(status.resources.reserved) },
    containment: status.containment,
    ...(Object.keys(refused).length > 0 ? { refused: { ...refused } } : {}),
  };
}

/** The states with no process (the contract's stopped, exited, failed): their last exit is the outcome. */
const AT_REST_STATES: ReadonlySet<string> = new Set(['stopped', 'exited', 'failed']);

/** The three figures the contract names, and nothing else that may ride along in the object. */
function contractFields(r: NodeResources): NodeResources {
  return { memoryMB: r.memoryMB, cpu: r.cpu, diskMB: r.diskMB };
}

export function encodeRecord(record: NodeRecord): Buffer {
  return Buffer.from(JSON.stringify(record), 'utf8');
}

/** A record read from ZooKeeper, or the reason it is not one. */
export function decodeRecord(data: Buffer): { record: NodeRecord } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    return { error: data.length === 0 ? 'empty node' : 'not JSON' };
  }
  const r = nodeRecordSchema.safeParse(parsed);
  if (!r.success) return { error: `not a nodee record (${describeIssues(r.error.issues.slice(0, 1), { top: 'top level' })[0]})` };
  return { record: r.data };
}
