import type { PortPool } from '../ports.js';
import type { HookContext, ServiceHook } from './hook.js';

/**
 * The service's named ports: taken from the pool when the service is made, kept in its record
 * for good (a restart gets the same ports), given back when it is removed. A service loaded
 * from its record claims its ports again at once, so no new service can be handed them.
 */
export function portsHook(ctx: HookContext, pool: PortPool): ServiceHook {
  const held = ctx.ports();
  if (Object.keys(held).length > 0) pool.claim(ctx.coordinate, held);
  let taken: Record<string, number> = held;
  return {
    name: 'ports',
    async create() {
      taken = await pool.allocate(ctx.coordinate, ctx.spec.ports);
      return { ports: taken };
    },
    async remove() {
      pool.release(taken);
      taken = {};
    },
  };
}
