import { endTree } from '../tree.js';
import type { HookContext, ServiceHook, StopRequest } from './hook.js';

/**
 * A requested stop, drain timeout or removal: every process of the service ended by the one
 * stop sequence (tree.ts endTree: the stop signal, the grace, SIGKILL to what is left).
 */
export function stopHook(ctx: HookContext): ServiceHook {
  return {
    name: 'stop',
    async stop(req: StopRequest): Promise<void> {
      const { tree, log, coordinate } = ctx;
      if (req.live !== undefined) tree.track(req.live.pid);
      const leaderGone = () => req.live === undefined || req.live.poll();
      await endTree(tree, { leaderGone, signal: req.signal, timeoutMs: req.timeoutMs, log, coordinate });
    },
  };
}
