import type { NodeStatus } from '../contract/index.js';
import { labelsText, reservedText } from '../lib/resources.js';
import { UsageError } from './args.js';
import type { CliContext } from './context.js';
import { table } from './table.js';

export const USAGE = 'usage: nodee status\n';

/** What GET /v1/status answers; a nodee 0.1 daemon leaves out the 0.2 fields. */
type StatusAnswer = Omit<NodeStatus, 'labels' | 'resources' | 'containment'> & Partial<Pick<NodeStatus, 'labels' | 'resources' | 'containment'>>;

/** `nodee status`: the node as the daemon sees it. */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}`);
  const s = await ctx.api.request<StatusAnswer>('GET', '/v1/status');
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
    ['labels', labelsText(s.labels)],
    ['resources', s.resources ? `${reservedText(s.resources)} (reserved/capacity)` : '-'],
    // "none" means a stop may miss a descendant that left the process group: say so
    ['containment', s.containment === 'none' ? 'none (process groups only)' : (s.containment ?? '-')],
    ['artifacts', String(s.counts.artifacts)],
    ['services', `${s.counts.services}${by ? ' (' + by + ')' : ''}`],
  ];
  ctx.out.write(table(rows));
  return 0;
}
