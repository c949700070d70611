import type { ExitInfo, ExitStatus } from '../../contract/index.js';
import type { LiveProcess } from '../live-process.js';
import type { LaunchPlan, ServiceHook, StopRequest } from './hook.js';

/**
 * Runs each phase of one service's hooks, in hook order (hook.ts has the phase contract). The
 * runner says which phase, never which hook: a new hook changes nothing here or there.
 */
export class HookChain {
  constructor(private readonly hooks: readonly ServiceHook[]) {}

  /** The validate phase: a fresh plan for a start (`again`: a policy restart), or create's check. */
  plan(again = false): LaunchPlan {
    const plan: LaunchPlan = { softwareDir: '', user: undefined, env: {}, argv: [], enter: [], again };
    for (const h of this.hooks) h.validate?.(plan);
    return plan;
  }

  /** The create phase; resolves what the hooks took for the new record (its ports). */
  async create(): Promise<{ ports: Record<string, number> }> {
    let ports: Record<string, number> = {};
    for (const h of this.hooks) ports = { ...ports, ...(await h.create?.())?.ports };
    return { ports };
  }

  async prestart(plan: LaunchPlan): Promise<void> {
    for (const h of this.hooks) await h.prestart?.(plan);
  }

  poststart(live: LiveProcess, plan: LaunchPlan | undefined): void {
    for (const h of this.hooks) h.poststart?.(live, plan);
  }

  /** The exited phase; resolves what the hooks add to the exit (`oom`). */
  async exited(exit: ExitStatus): Promise<Partial<ExitInfo>> {
    const more: Partial<ExitInfo> = {};
    for (const h of this.hooks) Object.assign(more, await h.exited?.(exit));
    return more;
  }

  async stop(req: StopRequest): Promise<void> {
    for (const h of this.hooks) await h.stop?.(req);
  }

  async remove(): Promise<void> {
    for (const h of this.hooks) await h.remove?.();
  }
}
