import type { FetchTimeouts } from '../../artifacts/index.js';
import type { Cgroups } from '../../cgroups/index.js';
import type { Config } from '../../config/index.js';
import type { LogRotator } from '../log-rotator.js';
import type { PortPool } from '../ports.js';
import type { HealthChecks } from '../../health/index.js';
import { cgroupHook } from './cgroup.js';
import { checksHook } from './checks.js';
import { notifyHook, type NotifyDeps } from './notify.js';
import { HookChain } from './chain.js';
import type { HookContext } from './hook.js';
import { logsHook } from './logs.js';
import { portsHook } from './ports.js';
import { prepareHook } from './prepare.js';
import { runtimeDirHook } from './runtime-dir.js';
import { stopHook } from './stop.js';
import { validateHook } from './validate.js';

export type { HealthPatch, HookContext, LaunchPlan, ServiceHook, StopRequest } from './hook.js';
export type { NotifyDeps } from './notify.js';
export type { HookChain } from './chain.js';

/** What the hooks need from the node, shared by every service. */
export interface HookDeps {
  artifacts: { installedPath(id: string): string | undefined };
  pool: PortPool;
  rotator: LogRotator;
  limits: Config['limits'];
  downloadTimeouts: FetchTimeouts;
  /** Absent where the host has no usable cgroups: no cgroup hook, process groups only. */
  cgroups: Cgroups | undefined;
  /** The node's one check scheduler. */
  health: HealthChecks;
  /** The node's notify sockets (the relay starts with the first one). */
  notify: NotifyDeps;
}

/**
 * One service's hooks, in the order their phases run. A new capability is a new hook file and
 * a line here. Order matters for prestart: the runtime dir before the logs link inside it and
 * before files written into it; the cgroup last, so a start that fails earlier leaves none.
 * Checks and the watchdog stop before the stop hook ends the process, so a stop is not seen
 * as a failing liveness check.
 */
export function serviceHooks(ctx: HookContext, deps: HookDeps): HookChain {
  return new HookChain([
    validateHook(ctx, deps.artifacts),
    portsHook(ctx, deps.pool),
    runtimeDirHook(ctx),
    logsHook(ctx, deps.rotator),
    prepareHook(ctx, { limits: deps.limits, downloadTimeouts: deps.downloadTimeouts }),
    // the socket exists before the process: it may send READY=1 at once
    notifyHook(ctx, deps.notify),
    checksHook(ctx, deps.health),
    // stop runs in this order too: every process ended (stop) before the cgroup is removed
    stopHook(ctx),
    ...(deps.cgroups ? [cgroupHook(ctx, deps.cgroups)] : []),
  ]);
}
