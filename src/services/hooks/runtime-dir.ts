import { ensureRuntimeDir } from '../steps/runtime-dir.js';
import type { HookContext, LaunchPlan, ServiceHook } from './hook.js';

/**
 * The runtime dir, the service's working directory: made, or its owner and mode put right,
 * before every start but a policy restart (its parents are root's and the user cannot give it
 * away, so nothing that matters can have changed since the last start).
 */
export function runtimeDirHook(ctx: HookContext): ServiceHook {
  return {
    name: 'runtime-dir',
    prestart: async (plan: LaunchPlan) => {
      if (!plan.again) await ensureRuntimeDir(ctx.paths, plan.user);
    },
  };
}
