import { silentLogger } from '../lib/log.js';
import { labelsText, reservedText } from '../lib/resources.js';
import { ClusterReader, type ClusterNode } from '../registry/index.js';
import { nodeJson } from '../scheduler/index.js';
import { UsageError, parseArgs } from './args.js';
import { DEFAULT_CONFIG, TARGET_OPTIONS, clusterTarget } from './cluster-target.js';
import type { CliContext } from './context.js';
import { JOB_USAGE, JOB_VERBS, runJobVerb } from './jobs.js';
import { table } from './table.js';

export const USAGE = `usage: nodee cluster <verb> [--json] [--zookeeper CONNECT] [--nodes-path PATH] [--config FILE] [--timeout MS]
  ls                                     every node, one row each
  watch                                  the same, again on every change (Ctrl-C ends it)
${JOB_USAGE}
Reads and writes ZooKeeper directly (no daemon needed). The connect string and nodes path
come from --zookeeper / --nodes-path, else $NODEE_ZOOKEEPER / $NODEE_NODES_PATH, else the
daemon's config (--config, default ${DEFAULT_CONFIG}). --timeout (default 10000) is how
long to wait for ZooKeeper; --wait how long run and stop wait for the scheduler (0: not at all).
`;

/** The words after `nodee cluster`, for help and completion. */
export const VERBS = ['ls', 'watch', ...JOB_VERBS];

/**
 * `nodee cluster ls|watch`: the fleet as ZooKeeper shows it, one row a node; the job verbs
 * are jobs.ts's. Reads ZooKeeper directly (no daemon needed), where cluster-target.ts says.
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const [verb, ...rest] = args;
  if (verb !== undefined && JOB_VERBS.includes(verb)) return runJobVerb(verb, rest, ctx);
  if (verb !== 'ls' && verb !== 'watch') throw new UsageError(verb ? `unknown cluster command "${verb}"` : 'missing cluster command');
  const a = parseArgs(rest, { values: TARGET_OPTIONS });
  if (a.positional.length > 0) throw new UsageError(`unexpected argument ${a.positional[0]}`);
  const json = ctx.json;
  const { connect, nodesPath, timeoutMs } = clusterTarget(a);

  const reader = new ClusterReader({ connect, nodesPath, log: silentLogger() });
  try {
    await reader.connected(timeoutMs);
    if (verb === 'ls') {
      const nodes = await reader.read();
      ctx.out.write(json ? JSON.stringify(nodes.map(nodeJson), null, 2) + '\n' : nodeTable(nodes));
      return 0;
    }
    return await follow(reader, ctx, json, nodesPath);
  } finally {
    await reader.close();
  }
}

/** Prints the view on every change until SIGINT/SIGTERM; --json prints one JSON line per change. */
function follow(reader: ClusterReader, ctx: CliContext, json: boolean, nodesPath: string): Promise<number> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    reader.on('change', (nodes: ClusterNode[]) => {
      const at = new Date().toISOString();
      if (json) ctx.out.write(JSON.stringify({ at, nodes: nodes.map(nodeJson) }) + '\n');
      else ctx.out.write(`--- ${at}  ${nodesPath}  ${nodes.length} node${nodes.length === 1 ? '' : 's'}\n${nodeTable(nodes)}`);
    });
    reader.on('state', (state: string) => {
      if (state !== 'connected') ctx.err.write(`nodee cluster: zookeeper ${state}; still watching\n`);
    });
    reader.on('warning', (err: Error) => ctx.err.write(`nodee cluster: ${err.message}; retrying\n`));
    reader.watch();
  });
}

function nodeTable(nodes: ClusterNode[]): string {
  const rows = [['INSTANCE', 'STATE', 'SERVICES', 'LOAD', 'FREE MEM', 'RESERVED/CAPACITY', 'CONTAINMENT', 'LABELS', 'CONSOLE']];
  for (const n of nodes) {
    const r = n.record;
    if (!r) {
      rows.push([n.instance, '?', '-', '-', '-', '-', '-', '-', `(unreadable: ${n.error})`]);
      continue;
    }
    const running = r.services.filter((s) => s.state === 'running').length;
    rows.push([
      n.instance,
      r.state,
      `${running}/${r.services.length}`,
      (r.machine.loadavg[0] ?? 0).toFixed(2),
      `${(r.machine.freeMemoryBytes / 1024 ** 3).toFixed(1)} GiB`,
      // a nodee 0.1 node publishes none of the 0.2 fields
      r.resources ? reservedText(r.resources) : '-',
      r.containment ?? '-',
      labelsText(r.labels),
      r.console.url,
    ]);
  }
  return table(rows);
}
