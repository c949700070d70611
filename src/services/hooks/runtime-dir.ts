import { ensureRuntimeDir } from '../steps/runtime-dir.js';
import type { HookContext, LaunchPlan, ServiceHook } from './hook.js';

/** The runtime dir, the service's working directory: made (or its owner and mode put right) before every start. */
export function runtimeDirHook(ctx: HookContext): ServiceHook {
  return {
    name: 'runtime-dir',
    prestart: (plan: LaunchPlan) => ensureRuntimeDir(ctx.paths, plan.user),
  };
}
