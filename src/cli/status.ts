import type { NodeStatus } from '../contract/index.js';
import { UsageError } from './args.js';
import type { CliContext } from './context.js';

export const USAGE = 'usage: nodee status\n';

/** `nodee status`: the node as the daemon sees it. */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}`);
  const s = await ctx.api.request<NodeStatus>('GET', '/v1/status');
  if (ctx.json) {
    ctx.out.write(JSON.stringify(s, null, 2) + '\n');
    return 0;
  }
  const gib = (n: number) => (n / 1024 ** 3).toFixed(1) + ' GiB';
  const by = Object.entries(s.counts.byState)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  const rows: [string, string][] = [
    ['instance', s.instance],
    ['hostname', s.hostname],
    ['version', s.version],
    ['state', s.state],
    ['started', s.startedAt],
    ['console', s.console.url],
    ['zookeeper', `${s.zookeeper.state}${s.zookeeper.path ? ' ' + s.zookeeper.path : ''}${s.zookeeper.conflict ? ' (conflict: ' + s.zookeeper.conflict + ')' : ''}`],
    ['machine', `${s.machine.cpus} cpus, load ${s.machine.loadavg.map((l) => l.toFixed(2)).join(' ')}, ${gib(s.machine.freeMemoryBytes)} of ${gib(s.machine.memoryBytes)} free, disk ${gib(s.machine.diskFreeBytes)} free`],
    ['artifacts', String(s.counts.artifacts)],
    ['services', `${s.counts.services}${by ? ' (' + by + ')' : ''}`],
  ];
  for (const [k, v] of rows) ctx.out.write(`${k.padEnd(10)} ${v}\n`);
  return 0;
}
