import { existsSync } from 'node:fs';
import type { Cgroups } from '../../cgroups/index.js';
import { NodeeError, isNodeeError, messageOf } from '../../lib/errors.js';
import type { HookContext, LaunchPlan, ServiceHook } from './hook.js';

/**
 * The service's own cgroup (named by its coordinate, under the daemon's `cgroup.parent`), with
 * the spec's limits: memory (hard), cpu quota, pids. Made before a start and entered by the
 * spawned process before it execs anything of the service's (spawn's wrapper writes its pid to
 * every `cgroup.procs`), so no process of the service ever runs outside it. After an exit it
 * tells whether the kernel's OOM killer did it; after a stop the empty cgroup is removed. Only
 * present when the host has cgroups.
 */
export function cgroupHook(ctx: HookContext, cgroups: Cgroups): ServiceHook {
  const cg = ctx.cgroup ?? cgroups.handle(ctx.coordinate);
  const { memoryMB, cpu, pids } = ctx.spec.resources ?? {};
  /** Made, with its limits, in this daemon's life: a policy restart then only checks it is still there. */
  let made = false;
  /** The cgroup's OOM kill count before the process started; more after its exit means an OOM kill. */
  let oomBefore: number | undefined;

  async function removeCgroup(): Promise<void> {
    made = false;
    oomBefore = undefined;
    await cg.remove().catch((err: unknown) => ctx.log.error({ err, coordinate: ctx.coordinate }, 'cannot remove the service cgroup'));
  }

  return {
    name: 'cgroup',
    async prestart(plan: LaunchPlan): Promise<void> {
      try {
        if (!made || !existsSync(cg.procsFiles[0]!)) {
          await cgroups.create(ctx.coordinate, { memoryMB, cpu, pids });
          made = true;
          oomBefore = undefined;
        }
        // after an exit the count read then is the baseline: a restart reads nothing more
        oomBefore ??= cg.oomKills();
        plan.enter = cg.procsFiles;
      } catch (err) {
        made = false;
        if (isNodeeError(err) && err.code !== 'INTERNAL') throw err;
        throw new NodeeError('CGROUP_FAILED', `cannot make the cgroup of ${ctx.coordinate}: ${messageOf(err)}`, { cause: err });
      }
    },
    poststart(live): void {
      // an adopted process had no prestart in this daemon: count from now
      if (live.isAdopted) oomBefore = cg.oomKills();
    },
    async exited() {
      if (oomBefore === undefined) return;
      const before = oomBefore;
      oomBefore = cg.oomKills();
      return { oom: oomBefore > before };
    },
    // after the stop hook ended every process: a stopped service holds no cgroup, the next start makes it afresh
    stop: () => removeCgroup(),
    remove: () => removeCgroup(),
  };
}
