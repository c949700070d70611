import { accessSync, constants } from 'node:fs';
import { DEFAULT_NODES_PATH, nodesPathSchema, readZookeeperConfig } from '../config/index.js';
import { silentLogger } from '../lib/log.js';
import { labelsText, reservedText } from '../lib/resources.js';
import { ClusterReader, type ClusterNode } from '../registry/index.js';
import { UsageError, parseArgs, stringOption } from './args.js';
import type { CliContext } from './context.js';
import { table } from './table.js';

export const USAGE = `usage: nodee cluster ls|watch [--json] [--zookeeper CONNECT] [--nodes-path PATH] [--config FILE] [--timeout MS]

Reads ZooKeeper directly (no daemon needed). The connect string and nodes path come from
--zookeeper / --nodes-path, else $NODEE_ZOOKEEPER / $NODEE_NODES_PATH, else the daemon's
config (--config, default /etc/nodee/nodee.yaml).
`;
const DEFAULT_CONFIG = '/etc/nodee/nodee.yaml';
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * `nodee cluster ls|watch`: the fleet as ZooKeeper shows it, one row a node. Reads
 * ZooKeeper directly (no daemon needed): the connect string and nodes path come from
 * --zookeeper/--nodes-path, else $NODEE_ZOOKEEPER/$NODEE_NODES_PATH, else the daemon's
 * config file (--config, default /etc/nodee/nodee.yaml when readable).
 */
export async function run(args: string[], ctx: CliContext): Promise<number> {
  const [verb, ...rest] = args;
  if (verb !== 'ls' && verb !== 'watch') throw new UsageError(verb ? `unknown cluster command "${verb}"` : 'missing cluster command');
  const a = parseArgs(rest, { values: ['zookeeper', 'nodes-path', 'config', 'timeout'] });
  if (a.positional.length > 0) throw new UsageError(`unexpected argument ${a.positional[0]}`);
  const timeoutMs = Number(stringOption(a, 'timeout') ?? DEFAULT_TIMEOUT_MS);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout must be a positive number of milliseconds');
  const json = ctx.json;
  const { connect, nodesPath } = target(stringOption(a, 'zookeeper'), stringOption(a, 'nodes-path'), stringOption(a, 'config'));

  const reader = new ClusterReader({ connect, nodesPath, log: silentLogger() });
  try {
    await reader.connected(timeoutMs);
    if (verb === 'ls') {
      const nodes = await reader.read();
      ctx.out.write(json ? JSON.stringify(nodes.map(asJson), null, 2) + '\n' : nodeTable(nodes));
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
      if (json) ctx.out.write(JSON.stringify({ at, nodes: nodes.map(asJson) }) + '\n');
      else ctx.out.write(`--- ${at}  ${nodesPath}  ${nodes.length} node${nodes.length === 1 ? '' : 's'}\n${nodeTable(nodes)}`);
    });
    reader.on('state', (state: string) => {
      if (state !== 'connected') ctx.err.write(`nodee cluster: zookeeper ${state}; still watching\n`);
    });
    reader.on('warning', (err: Error) => ctx.err.write(`nodee cluster: ${err.message}; retrying\n`));
    reader.watch();
  });
}

function asJson(n: ClusterNode): object {
  return n.record ?? { instance: n.instance, error: n.error };
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

function target(flagConnect: string | undefined, flagPath: string | undefined, configFile: string | undefined): { connect: string; nodesPath: string } {
  let connect = flagConnect ?? (process.env.NODEE_ZOOKEEPER || undefined);
  let nodesPath = flagPath ?? (process.env.NODEE_NODES_PATH || undefined);
  if (connect === undefined || nodesPath === undefined) {
    const file = configFile ?? (readable(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined);
    const zk = file ? readZookeeperConfig(file) : undefined;
    if (connect === undefined && file && !zk) throw new UsageError(`${file} configures no zookeeper (standalone); pass --zookeeper CONNECT`);
    connect ??= zk?.connect;
    nodesPath ??= zk?.nodesPath;
  }
  if (connect === undefined) throw new UsageError(`no ZooKeeper to read: pass --zookeeper CONNECT, set NODEE_ZOOKEEPER, or --config FILE (default ${DEFAULT_CONFIG})`);
  nodesPath ??= DEFAULT_NODES_PATH;
  if (!nodesPathSchema.safeParse(nodesPath).success) throw new UsageError(`--nodes-path must be an absolute znode path like ${DEFAULT_NODES_PATH}`);
  return { connect, nodesPath };
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
