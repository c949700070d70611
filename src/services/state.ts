import type { ExitInfo, ServiceState } from '../contract/index.js';
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
  lastExit: ExitInfo | null;
  ports: Record<string, number>;
  /** `files` and `restore` are done once, before the first start. */
  prepared: boolean;
  createdAt: string;
}

/**
 * Every allowed change of state. A transition not listed is a bug and throws, so a stray
 * code path can never silently overwrite a state (the PM2 failure mode).
 */
const ALLOWED: Record<ServiceState, readonly ServiceState[]> = {
  starting: ['running', 'backoff', 'exited', 'failed', 'stopped'],
  running: ['starting', 'backoff', 'exited', 'failed', 'stopping', 'draining', 'stopped'],
  backoff: ['starting', 'stopped'],
  stopping: ['stopped'],
  draining: ['stopping', 'stopped'],
  stopped: ['starting'],
  exited: ['starting', 'stopped'],
  failed: ['starting', 'stopped'],
};

export function canTransition(from: ServiceState, to: ServiceState): boolean {
  return from === to || ALLOWED[from].includes(to);
}

/** States with no process and none coming: a service in one of them may be removed. */
export const AT_REST: readonly ServiceState[] = ['stopped', 'exited', 'failed'];
