/**
 * The types of what docs/CONTRACT.md defines as JSON: what the REST API answers and what
 * the ZooKeeper node holds. Every capability imports them from here, so none has to reach
 * into another (or into the daemon) for a type. Types only, plus the one contract list
 * (ALL_STATES) the type is derived from: no logic lives here.
 */

import type { SchedulerStatus } from './scheduler.js';

/** Every state a service can be in (contract: Service.state). */
export const ALL_STATES = ['waiting', 'starting', 'running', 'backoff', 'stopping', 'draining', 'stopped', 'exited', 'failed'] as const;
export type ServiceState = (typeof ALL_STATES)[number];

/** How a process ended. */
export interface ExitStatus {
  /** null when unknown (an adopted process, or a start that failed before exec). */
  code: number | null;
  signal: string | null;
}

/** Service.lastExit: how the last process ended, and when. */
export interface ExitInfo extends ExitStatus {
  at: string;
  /** The kernel's OOM killer ended it (the service went over `resources.memoryMB`). Absent in records of nodee 0.1. */
  oom?: boolean;
  /**
   * Why nodee ended it, when nodee did on its own: `liveness:<check>` (a liveness check failed
   * its threshold) or `watchdog` (no WATCHDOG=1 in time). Absent for an exit of the service's own.
   */
  reason?: string;
}

/** One health check's last result (contract: Service.checks[]). */
export interface CheckView {
  name: string;
  type: 'readiness' | 'liveness';
  status: 'passing' | 'failing' | 'pending';
  /** What the last probe said (an HTTP status, an error, an exec's output), at most 256 characters. */
  output: string;
  /** ISO-8601 time of the last result; null while pending. */
  at: string | null;
}

/** ServiceSpec.resources: limits (memoryMB, cpu, pids) and reservations (all four). Absent: neither. */
export interface Resources {
  memoryMB?: number;
  /** Cores: 0.5 is half a core. */
  cpu?: number;
  pids?: number;
  /** Reserved only (admission, placement), not enforced. */
  diskMB?: number;
}

/** What a node offers to reservations, and what is reserved of it. */
export interface NodeResources {
  memoryMB: number;
  cpu: number;
  diskMB: number;
}

/** Service.usage, read from the service's cgroup; null where unknown (no cgroup, not running). */
export interface Usage {
  memoryBytes: number | null;
  cpuSeconds: number | null;
  pids: number | null;
}

/** How services are contained on this node: a cgroup each, or only a process group. */
export type Containment = 'cgroup2' | 'cgroup1' | 'none';

/** A service as the API shows it (contract: "Service"). `spec` is the validated ServiceSpec. */
export interface Service {
  coordinate: string;
  artifact: string;
  state: ServiceState;
  pid: number | null;
  startedAt: string | null;
  restarts: number;
  lastExit: ExitInfo | null;
  runtimeDir: string;
  ports: Record<string, number>;
  usage: Usage;
  /**
   * Running and ready for work: every readiness check passing and, with `notify.ready`,
   * READY=1 received. A service without either is ready when running.
   */
  ready: boolean;
  /** The service's last STATUS= over NOTIFY_SOCKET; null when it sent none. */
  statusText: string | null;
  checks: CheckView[];
  spec: Record<string, unknown>;
}

/** An artifact as the API and the ZooKeeper record show it (contract: "Artifact"). */
export interface Artifact {
  id: string;
  groupId: string;
  artifactId: string;
  version: string;
  state: 'installing' | 'installed';
  path: string;
  sizeBytes: number;
  fileCount: number;
  sha256: string | null;
  source: string | null;
  installedAt: string | null;
  progress: { bytes: number; totalBytes: number | null };
}

/** NodeStatus.machine and the record's machine: figures read from the OS. */
export interface MachineInfo {
  cpus: number;
  memoryBytes: number;
  freeMemoryBytes: number;
  loadavg: number[];
  /** Free space on the filesystem that holds the prefix. */
  diskFreeBytes: number;
}

export type ZookeeperState = 'connected' | 'connecting' | 'disconnected' | 'standalone';

/** GET /v1/status (contract: "NodeStatus"). */
export interface NodeStatus {
  instance: string;
  hostname: string;
  version: string;
  pid: number;
  state: 'active' | 'draining';
  startedAt: string;
  console: { url: string; port: number };
  zookeeper: { state: ZookeeperState; path: string | null; conflict?: string };
  /** Fleet scheduling: whether this node takes part, whether it leads, and who does. */
  scheduler: SchedulerStatus;
  machine: MachineInfo;
  counts: { artifacts: number; services: number; byState: Record<string, number> };
  labels: Record<string, string>;
  resources: { capacity: NodeResources; reserved: NodeResources };
  containment: Containment;
}

/**
 * The data of `<nodesPath>/<instance>` (contract: "ZooKeeper"), UTF-8 JSON. The states are
 * plain strings: a reader may meet a record written by another nodee version. The registry
 * parses it with a zod schema checked against this type at build time.
 */
export interface NodeRecord {
  instance: string;
  hostname: string;
  pid: number;
  version: string;
  state: string;
  startedAt: string;
  updatedAt: string;
  console: { url: string; port: number };
  machine: MachineInfo;
  artifacts: string[];
  services: NodeRecordService[];
  /** The 0.2 fields: absent in the record of a nodee 0.1 node. */
  labels?: Record<string, string>;
  resources?: { capacity: NodeResources; reserved: NodeResources };
  containment?: string;
  /** Assignments this node will not run (coordinate → why): the scheduler shows them as pending. */
  refused?: Record<string, string>;
}

/** One service in the ZooKeeper record: the Service fields the fleet view needs. */
export interface NodeRecordService {
  coordinate: string;
  artifact: string;
  state: string;
  pid: number | null;
  ports: Record<string, number>;
  /** The spec's resources (absent in a nodee 0.1 record). */
  resources?: Resources;
  /** Service.ready (absent in a record of nodee 0.1, whose services are ready when running). */
  ready?: boolean;
  /** lastExit.code while the service is at rest (exited, failed, stopped): a batch job's outcome. */
  exitCode?: number | null;
}
export * from './scheduler.js';
