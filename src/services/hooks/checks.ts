import type { CheckView } from '../../contract/index.js';
import type { HealthChecks, ProbeTarget } from '../../health/index.js';
import { resolveCommand } from '../steps/command.js';
import type { HookContext, LaunchPlan, ServiceHook } from './hook.js';

/**
 * The spec's readiness and liveness checks (docs/health.md), run by the node's one
 * HealthChecks scheduler while a process runs. A readiness result only changes the record's
 * `checks` (and so `ready`, which the RecordKeeper derives); a liveness check dead after its
 * threshold asks the runner to end the process, which the restart policy then treats as a
 * failure with `lastExit.reason: "liveness:<name>"`.
 */
export function checksHook(ctx: HookContext, health: HealthChecks): ServiceHook {
  const pending = (): CheckView[] => ctx.spec.checks.map((c) => ({ name: c.name, type: c.type, status: 'pending', output: '', at: null }));
  const unwatch = async (): Promise<void> => health.unwatch(ctx.coordinate);
  return {
    name: 'checks',
    async prestart(): Promise<void> {
      // a new process starts from pending: the last one's results say nothing about it
      if (ctx.spec.checks.length > 0) ctx.health({ checks: pending() });
    },
    poststart(live, plan): void {
      if (ctx.spec.checks.length === 0 || !plan) return;
      health.watch(ctx.coordinate, ctx.spec.checks, probeTarget(ctx, plan), live.since, {
        onChange: (checks) => ctx.health({ checks }),
        onDead: (name) => ctx.unhealthy(`liveness:${name}`),
      });
    },
    // the last results stay in the record: they are why a liveness check ended the process
    exited: async () => void (await unwatch()),
    stop: unwatch,
    remove: unwatch,
  };
}

/**
 * Where a check probes: the service's named ports on 127.0.0.1; an exec check runs in its
 * runtime dir, as its user, with its environment, its argv resolved like `command` (in the
 * artifact, then on the service's PATH).
 */
function probeTarget(ctx: HookContext, plan: LaunchPlan): ProbeTarget {
  return {
    ports: ctx.ports(),
    cwd: ctx.paths.runtimeDir,
    env: plan.env,
    ...(plan.user ? { uid: plan.user.uid, gid: plan.user.gid } : {}),
    resolveArgv: (argv) => [resolveCommand(argv[0]!, plan.softwareDir, plan.env.PATH), ...argv.slice(1)],
  };
}
