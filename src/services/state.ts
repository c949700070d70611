import type { CheckView, ExitInfo, ServiceState } from '../contract/index.js';
import type { ServiceSpec } from './spec.js';

/** What `<prefix>/state/services/<coordinate>.json` holds: enough to re-adopt or restart. */
export interface ServiceRecord {
  spec: ServiceSpec;
  /** What the operator asked for; the policy only restarts when this is 'running'. */
  desired: 'running' | 'stopped';
  state: ServiceState;
  pid: number | null;
  /** Field 22 of /proc/<pid>/stat: with the pid it names one process for good. */
  startTime: number | null;
  startedAt: string | null;
  restarts: number;
  /**
   * When the policy restarted the service (ms since the epoch), within its window: kept in the
   * record so a daemon restart does not give a crash-looping service a fresh allowance.
   */
  restartTimes: number[];
  lastExit: ExitInfo | null;
  ports: Record<string, number>;
  /** `files` and `restore` are done once, before the first start. */
  prepared: boolean;
  createdAt: string;
  /** READY=1 came over NOTIFY_SOCKET from the process now running (kept: a re-adopted service does not say it twice). */
  notified: boolean;
  /** The last STATUS= it sent. */
  statusText: string | null;
  /** Each check's last result, in spec order. */
  checks: CheckView[];
  /** Derived by the RecordKeeper on every commit (readyOf): never set by anyone else. */
  ready: boolean;
}

/** The record of a service just made: wanted running, not started yet, nothing taken (create adds its ports). */
export function freshRecord(spec: ServiceSpec, now: Date): ServiceRecord {
  return {
    spec,
    desired: 'running',
    state: 'stopped',
    pid: null,
    startTime: null,
    startedAt: null,
    restarts: 0,
    restartTimes: [],
    lastExit: null,
    ports: {},
    prepared: false,
    createdAt: now.toISOString(),
    notified: false,
    statusText: null,
    checks: [],
    ready: false,
  };
}

/**
 * The fields a commit may change besides the state. Spec, ports and createdAt are fixed
 * when the record is made: nothing in a service's life rewrites them.
 */
export interface RecordPatch {
  desired?: 'running' | 'stopped';
  pid?: number | null;
  startTime?: number | null;
  startedAt?: string | null;
  restarts?: number;
  restartTimes?: number[];
  lastExit?: ExitInfo | null;
  prepared?: true;
  notified?: boolean;
  statusText?: string | null;
  checks?: CheckView[];
}

/**
 * Service.ready: running, READY=1 received when the spec asks for it, and every readiness
 * check passing. A service with neither is ready as soon as it runs.
 */
export function readyOf(r: Readonly<ServiceRecord>): boolean {
  if (r.state !== 'running' || r.pid === null) return false;
  if (r.spec.notify.ready && !r.notified) return false;
  return r.spec.checks.every((c) => c.type !== 'readiness' || r.checks.find((v) => v.name === c.name)?.status === 'passing');
}

/**
 * Every allowed change of state. A transition not listed is a bug and throws, so a stray
 * code path can never silently overwrite a state (the PM2 failure mode).
 */
const ALLOWED: Record<ServiceState, readonly ServiceState[]> = {
  // waiting: a start held until every required service is ready (it has no process yet)
  waiting: ['starting', 'stopped'],
  starting: ['running', 'backoff', 'exited', 'failed', 'stopped'],
  running: ['waiting', 'starting', 'backoff', 'exited', 'failed', 'stopping', 'draining', 'stopped'],
  backoff: ['waiting', 'starting', 'stopped'],
  stopping: ['stopped'],
  draining: ['stopping', 'stopped'],
  stopped: ['waiting', 'starting'],
  exited: ['waiting', 'starting', 'stopped'],
  failed: ['waiting', 'starting', 'stopped'],
};

export function canTransition(from: ServiceState, to: ServiceState): boolean {
  return from === to || ALLOWED[from].includes(to);
}

/** States with no process and none coming: a service in one of them may be removed. */
export const AT_REST: readonly ServiceState[] = ['stopped', 'exited', 'failed'];

/** States in which a process may exist (a pid on record). */
const WITH_PROCESS: readonly ServiceState[] = ['starting', 'running', 'stopping', 'draining'];

/**
 * Why changing `record` to state `to` with `patch` is wrong, or undefined when it is right.
 * Checks the transition and every field the patch touches against the state it leads to, so
 * a record on disk is always one the runner can resume from.
 */
export function changeProblem(record: ServiceRecord, to: ServiceState, patch: RecordPatch): string | undefined {
  if (!canTransition(record.state, to)) return `illegal state change ${record.state} -> ${to}`;
  const pid = 'pid' in patch ? patch.pid! : record.pid;
  const startTime = 'startTime' in patch ? patch.startTime! : record.startTime;
  if (pid !== null && (!Number.isInteger(pid) || pid <= 0)) return `pid ${pid} is not a process id`;
  if (pid !== null && !WITH_PROCESS.includes(to)) return `a ${to} service has no process, yet pid ${pid} is given`;
  if (pid === null && startTime !== null) return 'a start time without a pid';
  if (patch.desired !== undefined && patch.desired !== 'running' && patch.desired !== 'stopped') return `desired state ${String(patch.desired)}`;
  if (patch.restarts !== undefined && (!Number.isInteger(patch.restarts) || patch.restarts < record.restarts)) {
    return `restarts may only grow (${record.restarts} -> ${patch.restarts})`;
  }
  if (patch.restartTimes !== undefined && !patch.restartTimes.every((t) => Number.isFinite(t))) return 'restart times must be numbers';
  if (patch.lastExit && pid !== null) return 'an exit is recorded only once the process is gone';
  if ('prepared' in patch && patch.prepared !== true) return 'a prepared runtime dir cannot become unprepared';
  if (patch.notified && !WITH_PROCESS.includes(to)) return `a ${to} service cannot have said READY=1`;
  return undefined;
}
