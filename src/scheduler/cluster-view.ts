import path from 'node:path';
import { z } from 'zod';
import type { Job, JobStatus, NodeRecord } from '../contract/index.js';
import { NodeeError } from '../lib/errors.js';
import { describeIssues } from '../lib/issues.js';
import { decodeRecord, readFleet, zkCode, type ClusterNode, type ZkClient, type ZkStat } from '../registry/index.js';
import { decodeZnode, parseJob, splitCoordinate } from './job.js';

/**
 * The operator's read of the fleet (contract: "Fleet scheduling over ZooKeeper"): the node
 * records, the jobs with the leader's status of each, and where a job's instances answer. It
 * reads ZooKeeper only and never writes; what it reads anyone with write access may have
 * written, so a znode that is not what it should be is shown with why, never thrown.
 */

/** One child of `jobs/`: the job and its status as far as they can be read. */
export interface JobEntry {
  /** The znode's name (a job's name, unless someone put something else there). */
  name: string;
  job: Job | null;
  /** `jobs/<name>/status`: null until a leader has written one (or when it cannot be read). */
  status: JobStatus | null;
  /** Why `job` or `status` is null although its znode is there. */
  error?: string;
}

/** Where one running, ready instance answers. */
export interface Endpoint {
  coordinate: string;
  node: string;
  host: string;
  port: number;
  /** `host:port` (an IPv6 host in brackets). */
  address: string;
}

export interface ClusterViewOptions {
  client: ZkClient;
  /** The cell root: the parent of `zookeeper.nodesPath` (cellPathOf). */
  cellPath: string;
  nodesPath: string;
}

/** The cell root of a nodes path (contract: the parent of `zookeeper.nodesPath`). */
export function cellPathOf(nodesPath: string): string {
  return path.posix.dirname(nodesPath.replace(/\/+$/, ''));
}

/** Why `name` cannot name a job (so a znode under jobs/ either), or undefined. */
export function jobNameProblem(name: string): string | undefined {
  // a name with a slash would address some other znode (jobs/<name>/status, say)
  return splitCoordinate(`0.${name}`) === undefined ? `"${name}" is not a job name (service.user.cell, e.g. myservice.borud.fbu)` : undefined;
}

// Unknown keys pass (and are dropped): a newer leader may write more.
const statusSchema = z.object({
  job: z.string(),
  version: z.number().int().min(0),
  instances: z.array(z.object({ coordinate: z.string(), node: z.string().nullable(), state: z.string(), ready: z.boolean() })),
  counts: z.record(z.string(), z.number()),
  pending: z.array(z.object({ coordinate: z.string(), reason: z.string() })),
  updatedAt: z.string(),
});

/** Validates what a leader wrote to `jobs/<name>/status`; throws 400 BAD_REQUEST naming the problem. */
export function parseJobStatus(input: unknown): JobStatus {
  const r = statusSchema.safeParse(input);
  if (!r.success) throw new NodeeError('BAD_REQUEST', describeIssues(r.error.issues.slice(0, 1), { top: 'status' }).join('; '));
  return r.data;
}

/** A job znode's data under the name it is stored as: `{value}`, or `{error}` when it is not that job. */
export function decodeJob(name: string, data: Buffer): { value: Job } | { error: string } {
  const decoded = decodeZnode(data, parseJob);
  if ('value' in decoded && decoded.value.name !== name) return { error: `it names another job, "${decoded.value.name}"` };
  return decoded;
}

/** `nodee cluster ls --json` and GET /v1/cluster/nodes: a node's record, or its name and why it has none. */
export function nodeJson(n: ClusterNode): NodeRecord | { instance: string; error: string } {
  return n.record ?? { instance: n.instance, error: n.error ?? 'unreadable' };
}

export class ClusterView {
  readonly jobsPath: string;

  constructor(private readonly o: ClusterViewOptions) {
    this.jobsPath = `${o.cellPath.replace(/\/+$/, '')}/jobs`;
  }

  get client(): ZkClient {
    return this.o.client;
  }

  /** Every node record (or why a child of nodesPath is none), sorted by instance. */
  nodes(): Promise<ClusterNode[]> {
    return readFleet(this.o.client, this.o.nodesPath);
  }

  /** Every child of `jobs/`, sorted by name; none while `jobs/` does not exist. */
  async jobs(): Promise<JobEntry[]> {
    let names: string[];
    try {
      names = await this.o.client.getChildren(this.jobsPath);
    } catch (err) {
      if (zkCode(err) === 'NO_NODE') return [];
      throw err;
    }
    const entries = await Promise.all(names.sort().map((name) => this.entry(name)));
    return entries.filter((e): e is JobEntry => e !== undefined);
  }

  /** One job; null when there is none of that name. A name that cannot be a job's is a 400. */
  async job(name: string): Promise<JobEntry | null> {
    const problem = jobNameProblem(name);
    if (problem) throw new NodeeError('BAD_REQUEST', problem);
    return (await this.entry(name)) ?? null;
  }

  /** `jobs/<name>` with its stat (the CAS version a writer needs); undefined when it is not there. */
  async stored(name: string): Promise<{ decoded: { value: Job } | { error: string }; data: Buffer; stat: ZkStat } | undefined> {
    const node = await this.data(`${this.jobsPath}/${name}`);
    return node && { decoded: decodeJob(name, node.data), ...node };
  }

  /**
   * Where a job's instances answer: those its status shows `running` and ready, checked
   * against their node's own record (fresher than the status), as `host:port`. The host is
   * the one the node's console is reached at (its record's console.url); the port is the
   * service's port named `portName`, by default the first of the job's `ports`.
   */
  async endpoints(name: string, portName?: string): Promise<Endpoint[]> {
    const entry = await this.job(name);
    if (!entry) throw new NodeeError('JOB_NOT_FOUND', `no job ${name}`);
    if (!entry.job) throw new NodeeError('BAD_REQUEST', `job ${name} cannot be read: ${entry.error}`);
    const ports = (entry.job.spec as { ports?: string[] }).ports ?? [];
    const wanted = portName ?? ports[0];
    if (wanted === undefined) throw new NodeeError('BAD_REQUEST', `job ${name} has no named ports (spec.ports)`);
    if (!ports.includes(wanted)) throw new NodeeError('BAD_REQUEST', `job ${name} has no port "${wanted}" (its ports: ${ports.join(', ')})`);
    const live = (entry.status?.instances ?? []).filter((i) => i.state === 'running' && i.ready && i.node !== null);
    const records = new Map<string, NodeRecord | undefined>();
    for (const node of new Set(live.map((i) => i.node as string))) records.set(node, await this.record(node));
    const out: Endpoint[] = [];
    for (const i of live) {
      const record = records.get(i.node as string);
      const service = record?.services.find((s) => s.coordinate === i.coordinate);
      const port = service?.ports[wanted];
      // the node may have stopped it since the leader's last status
      if (!record || !service || service.state !== 'running' || service.ready === false || port === undefined) continue;
      const host = hostOf(record);
      out.push({ coordinate: i.coordinate, node: i.node as string, host, port, address: `${host.includes(':') ? `[${host}]` : host}:${port}` });
    }
    return out;
  }

  /** Reads the job every `pollMs` until `done(entry)` holds (resolves the entry) or `timeoutMs` passes (resolves undefined). */
  async until(name: string, done: (e: JobEntry | null) => boolean | Promise<boolean>, timeoutMs: number, pollMs = 200): Promise<JobEntry | null | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const entry = await this.job(name);
      if (await done(entry)) return entry;
      if (Date.now() + pollMs > deadline) return undefined;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private async entry(name: string): Promise<JobEntry | undefined> {
    const stored = await this.stored(name);
    if (!stored) return undefined; // removed between the list and the read
    const errors: string[] = [];
    const job = 'value' in stored.decoded ? stored.decoded.value : null;
    if ('error' in stored.decoded) errors.push(`job: ${stored.decoded.error}`);
    let status: JobStatus | null = null;
    const raw = await this.data(`${this.jobsPath}/${name}/status`);
    if (raw) {
      const decoded = decodeZnode(raw.data, parseJobStatus);
      if ('error' in decoded) errors.push(`status: ${decoded.error}`);
      else if (decoded.value.job !== name) errors.push(`status: it names another job, "${decoded.value.job}"`);
      else status = decoded.value;
    }
    return { name, job, status, ...(errors.length > 0 ? { error: errors.join('; ') } : {}) };
  }

  private async record(node: string): Promise<NodeRecord | undefined> {
    const raw = await this.data(`${this.o.nodesPath}/${node}`);
    const decoded = raw && decodeRecord(raw.data);
    return decoded && 'record' in decoded ? decoded.record : undefined;
  }

  private async data(p: string): Promise<{ data: Buffer; stat: ZkStat } | undefined> {
    try {
      return await this.o.client.getData(p);
    } catch (err) {
      if (zkCode(err) === 'NO_NODE') return undefined;
      throw err;
    }
  }
}

/** The address a node is reached at: its console URL's host (what the daemon advertises), else its host name. */
function hostOf(record: NodeRecord): string {
  try {
    const host = new URL(record.console.url).hostname.replace(/^\[|\]$/g, '');
    if (host !== '') return host;
  } catch {
    // a record from someone else: fall through
  }
  return record.hostname;
}
