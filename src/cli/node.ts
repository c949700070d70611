import type { NodeStatus } from '../contract/index.js';
import { UsageError } from './args.js';
import type { CliContext } from './context.js';

export const DRAIN_USAGE = `usage: nodee drain

Drains the node: new starts are refused (NODE_DRAINING) and every service is drained.
`;
export const UNDRAIN_USAGE = `usage: nodee undrain

Ends a node drain: new starts are accepted again (drained services stay as they are).
`;

/** `nodee drain` / `nodee undrain`: POST /v1/drain or /v1/undrain, then the node's state. */
export async function run(which: 'drain' | 'undrain', args: string[], ctx: CliContext): Promise<number> {
  if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}`);
  const s = await ctx.api.request<NodeStatus>('POST', `/v1/${which}`);
  ctx.out.write(ctx.json ? JSON.stringify(s, null, 2) + '\n' : `node ${s.instance} ${s.state}\n`);
  return 0;
}
