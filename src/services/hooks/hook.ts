import type { ServiceCgroup } from '../../cgroups/index.js';
import type { CheckView, ExitInfo, ExitStatus } from '../../contract/index.js';
import type { Logger } from '../../lib/log.js';
import type { ServicePaths } from '../coordinate.js';
import type { LiveProcess } from '../live-process.js';
import type { ServiceSpec } from '../spec.js';
import type { RunAs } from '../steps/user.js';
import type { ServiceTree } from '../tree.js';

/**
 * A service's life is a small runner (runner.ts) plus hooks, one file each, in the manner of
 * Nomad's task runner. A hook implements only the phases it cares about:
 *
 * - `validate(plan)`   at create AND before every start: everything a start needs that can be
 *                      checked without side effects (artifact, user, env, command). A failure
 *                      at create is the request's 400/404; nothing is made.
 * - `create()`         once, when the service is made, before its record is first written
 *                      (takes node resources: ports). Undone by `remove`.
 * - `prestart(plan)`   before every start, again on every restart, in hook order; each is safe
 *                      to repeat after a failure. Adds what it provides to the plan (a cgroup
 *                      to enter before exec). A throw fails the start; nothing is spawned.
 * - spawn              not a hook: the runner starts the process from the finished plan.
 * - `poststart(live, plan)` after the process exists (log rotation watches it, checks begin);
 *                      for a process adopted after a daemon restart too, with the plan its
 *                      start would have had (undefined when that cannot be made any more).
 * - `exited(exit)`     after the process ended on its own (not a requested stop), before the
 *                      restart policy decides; may add to what the exit was (`oom`).
 * - `stop(req)`        a requested stop, drain timeout or removal: ends every process of the
 *                      service. Always runs, even when prestart never did, and is safe twice.
 * - `remove()`         the service is being forgotten: release what `create` and `prestart`
 *                      made (ports, cgroup, log rotation). Safe twice.
 *
 * The daemon exiting is not a stop: no phase runs, the processes live on to be re-adopted.
 */
export interface ServiceHook {
  readonly name: string;
  validate?(plan: LaunchPlan): void;
  create?(): Promise<{ ports?: Record<string, number> } | void>;
  prestart?(plan: LaunchPlan): Promise<void>;
  poststart?(live: LiveProcess, plan: LaunchPlan | undefined): void;
  exited?(exit: ExitStatus): Promise<Partial<ExitInfo> | void>;
  stop?(req: StopRequest): Promise<void>;
  remove?(): Promise<void>;
}

/** What every hook of one service may read; the runner owns it. */
export interface HookContext {
  readonly coordinate: string;
  /** The spec the service runs now: read it in a phase, never keep it (an upgrade replaces it while at rest). */
  readonly spec: ServiceSpec;
  readonly paths: ServicePaths;
  /** The named ports, fixed once `create` ran. */
  ports(): Record<string, number>;
  /** Whether `files`/`restore` have been done; `markPrepared` commits that they have. */
  prepared(): boolean;
  markPrepared(): void;
  /** Everything the service's processes are: its cgroup, else its process group. */
  readonly tree: ServiceTree;
  /** The service's cgroup, where the host has cgroups (it may not exist yet: the cgroup hook makes it). */
  readonly cgroup: ServiceCgroup | undefined;
  readonly log: Logger;
  /** What health hooks learnt of the running process: committed to the record (which derives `ready`). */
  health(patch: HealthPatch): void;
  /**
   * The running process is unhealthy (`liveness:<name>`, `watchdog`): the runner ends it with the
   * stop signal and grace, and the policy restarts it as after a failure, `lastExit.reason` set.
   */
  unhealthy(reason: string): void;
}

export interface HealthPatch {
  notified?: boolean;
  statusText?: string | null;
  checks?: CheckView[];
}

/** What a start is built from: validate fills it, prestart hooks add to it, spawn uses it. */
export interface LaunchPlan {
  softwareDir: string;
  user: RunAs | undefined;
  env: Record<string, string>;
  argv: string[];
  /** Files the spawned process writes its own pid into before exec (its cgroup's cgroup.procs). */
  enter: string[];
  /**
   * A restart by the policy after an exit, in this daemon's life: hooks may skip re-checking
   * what only they change (the runtime and log dirs they made a moment ago), since a crash loop's
   * restarts are where milliseconds count. An operator's start is never `again`.
   */
  again: boolean;
}

export interface StopRequest {
  /** The leader, when one is running; the stop reaches everything of the service regardless. */
  live: LiveProcess | undefined;
  signal: NodeJS.Signals;
  timeoutMs: number;
}
