import type { LogRotator } from '../log-rotator.js';
import { ensureLogDir } from '../steps/logs.js';
import type { HookContext, LaunchPlan, ServiceHook } from './hook.js';

/**
 * The service's log dir (root's, outside the runtime dir; see steps/logs.ts) and its `logs`
 * link, made before every start; rotation watches the files while a process runs. Spawn opens
 * the files itself, for the child to inherit.
 */
export function logsHook(ctx: HookContext, rotator: LogRotator): ServiceHook {
  return {
    name: 'logs',
    // a policy restart finds root's log dir as the last start left it (spawn opens the files anyway)
    prestart: async (plan: LaunchPlan) => {
      if (!plan.again) await ensureLogDir(ctx.paths.logDir, ctx.paths.runtimeDir, plan.user, ctx.log);
    },
    poststart: () => rotator.add(ctx.paths.logDir),
    remove: async () => rotator.remove(ctx.paths.logDir),
  };
}
