import type { FetchTimeouts } from '../../artifacts/index.js';
import type { Config } from '../../config/index.js';
import { prepareFirstStart } from '../steps/prepare.js';
import type { HookContext, LaunchPlan, ServiceHook } from './hook.js';

/**
 * `files` and `restore`, once, before the first start. They are one hook because they are one
 * job for one unprivileged worker (steps/prepare.ts: the service user's runtime dir is written
 * as that user), and restore's "is the runtime dir still empty" must be asked before files land.
 * Until it has succeeded it is tried again on every start.
 */
export function prepareHook(ctx: HookContext, o: { limits: Config['limits']; downloadTimeouts: FetchTimeouts }): ServiceHook {
  return {
    name: 'prepare',
    async prestart(plan: LaunchPlan): Promise<void> {
      if (ctx.prepared()) return;
      const { coordinate, files, restore } = ctx.spec;
      const job = { coordinate, files, restore, softwareDir: plan.softwareDir, runtimeDir: ctx.paths.runtimeDir, env: plan.env, ...o };
      await prepareFirstStart(job, plan.user, ctx.log);
      ctx.markPrepared();
    },
  };
}
