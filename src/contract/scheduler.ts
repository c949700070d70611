/**
 * The JSON of fleet scheduling (contract: "Fleet scheduling over ZooKeeper"): what
 * `jobs/<name>`, `jobs/<name>/status` and `assignments/<node>/<coordinate>` hold, and
 * NodeStatus.scheduler. Types only; src/scheduler validates them.
 */

export type JobType = 'service' | 'batch';

/** Job.constraints: every label given must be on a node, with that value, for it to be chosen. */
export interface JobConstraints {
  labels?: Record<string, string>;
}

/** `jobs/<name>`: what should run in the cell. */
export interface Job {
  /** `service.user.cell`; instance i of the job is the coordinate `i.<name>`. */
  name: string;
  type: JobType;
  /** Instances 0 … count-1. */
  count: number;
  /** A ServiceSpec without coordinate, validated and with its defaults filled in. */
  spec: Record<string, unknown>;
  constraints?: JobConstraints;
  /** At most this many instances of the job on one node; absent: no limit. */
  maxPerNode?: number;
  /** Increases on every change of the job. */
  version: number;
}

/** `assignments/<node>/<coordinate>`: the leader's word that this node runs this instance. */
export interface Assignment {
  job: string;
  jobVersion: number;
  /** The job's spec with the instance's coordinate: a full ServiceSpec. */
  spec: Record<string, unknown> & { coordinate: string };
  /** ISO-8601. */
  assignedAt: string;
}

/**
 * One instance in a job's status. `state` is the service state its node reports (a plain
 * string: the node may run another nodee version), or one of the scheduler's own: `pending`
 * (no node yet, or its node has not created it yet), `complete` (a batch instance that exited
 * 0), `unknown` (its node's record is gone, not yet for `lostAfterMs`).
 */
export interface JobInstanceStatus {
  coordinate: string;
  node: string | null;
  state: string;
  ready: boolean;
}

/** `jobs/<name>/status`, written by the leader. */
export interface JobStatus {
  job: string;
  version: number;
  instances: JobInstanceStatus[];
  /** Instances per state. */
  counts: Record<string, number>;
  /** Instances with no node, and which rule excluded which nodes. */
  pending: { coordinate: string; reason: string }[];
  /** ISO-8601. */
  updatedAt: string;
}

/** NodeStatus.scheduler. */
export interface SchedulerStatus {
  enabled: boolean;
  leader: boolean;
  leaderInstance: string | null;
}
