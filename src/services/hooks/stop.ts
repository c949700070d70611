import type { HookContext, ServiceHook, StopRequest } from './hook.js';

/**
 * A requested stop: the stop signal to every process of the service (its cgroup, else its
 * process group and marked escapees), up to the grace for all of them to exit, then SIGKILL to
 * whatever is left (cgroup.kill ends a cgroup in one write, forks in flight included). Safe to
 * run with nothing running and safe twice: every step tolerates processes already gone.
 */
export function stopHook(ctx: HookContext): ServiceHook {
  return {
    name: 'stop',
    async stop(req: StopRequest): Promise<void> {
      const { tree, log, coordinate } = ctx;
      const leaderGone = () => req.live === undefined || req.live.poll();
      if (req.live !== undefined) tree.track(req.live.pid);
      await tree.signal(req.signal);
      if (await tree.waitGone(leaderGone, Date.now() + req.timeoutMs)) return;
      log.warn({ coordinate }, `did not stop within ${req.timeoutMs / 1000} s: killed`);
      const survivors = await tree.kill(leaderGone);
      if (survivors.length > 0) log.error({ coordinate, pids: survivors }, 'processes survived SIGKILL');
    },
  };
}
