import { accessSync, constants } from 'node:fs';
import { DEFAULT_NODES_PATH, nodesPathSchema, readSecret, readZookeeperConfig } from '../config/index.js';
import { silentLogger } from '../lib/log.js';
import { whenConnected, ZkClient } from '../registry/index.js';
import { cellPathOf, ClusterView, JobWriter } from '../scheduler/index.js';
import { UsageError, stringOption, type ParsedArgs } from './args.js';

/**
 * Which ZooKeeper `nodee cluster` talks to, for every verb: the connect string and nodes path
 * from --zookeeper / --nodes-path, else $NODEE_ZOOKEEPER / $NODEE_NODES_PATH, else the
 * daemon's config file (--config, default /etc/nodee/nodee.yaml when readable); the digest
 * from --digest-file, else the config's zookeeper.digestFile.
 */

export const DEFAULT_CONFIG = '/etc/nodee/nodee.yaml';
const DEFAULT_TIMEOUT_MS = 10_000;
/** The options every cluster verb takes. */
export const TARGET_OPTIONS = ['zookeeper', 'nodes-path', 'config', 'timeout', 'digest-file'];

export interface ClusterTarget {
  connect: string;
  nodesPath: string;
  /** --timeout: how long to wait for ZooKeeper to answer at all. */
  timeoutMs: number;
  /** Where the digest ("user:password") is, if anywhere: only the verbs that write read it. */
  digestFile: string | undefined;
}

export function clusterTarget(a: ParsedArgs): ClusterTarget {
  const timeoutText = stringOption(a, 'timeout');
  const timeoutMs = timeoutText === undefined ? DEFAULT_TIMEOUT_MS : Number(timeoutText);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout must be a positive number of milliseconds');
  let connect = stringOption(a, 'zookeeper') ?? (process.env.NODEE_ZOOKEEPER || undefined);
  let nodesPath = stringOption(a, 'nodes-path') ?? (process.env.NODEE_NODES_PATH || undefined);
  let digestFile = stringOption(a, 'digest-file');
  const configFile = stringOption(a, 'config');
  if (connect === undefined || nodesPath === undefined || digestFile === undefined) {
    const file = configFile ?? (readable(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined);
    // the config is needed only for what the flags left open: an explicit target reads no file
    const needed = connect === undefined || nodesPath === undefined || configFile !== undefined;
    const zk = file && needed ? readZookeeperConfig(file) : undefined;
    if (connect === undefined && file && !zk) throw new UsageError(`${file} configures no zookeeper (standalone); pass --zookeeper CONNECT`);
    connect ??= zk?.connect;
    nodesPath ??= zk?.nodesPath;
    digestFile ??= zk?.digestFile;
  }
  if (connect === undefined) throw new UsageError(`no ZooKeeper to read: pass --zookeeper CONNECT, set NODEE_ZOOKEEPER, or --config FILE (default ${DEFAULT_CONFIG})`);
  nodesPath ??= DEFAULT_NODES_PATH;
  if (!nodesPathSchema.safeParse(nodesPath).success) throw new UsageError(`--nodes-path must be an absolute znode path like ${DEFAULT_NODES_PATH}`);
  return { connect, nodesPath, timeoutMs, digestFile };
}

/** A connected session on the cell, closed by `close()`; with `write`, authenticated by the digest. */
export interface Cell {
  view: ClusterView;
  writer: JobWriter;
  close(): Promise<void>;
}

export async function openCell(t: ClusterTarget, o: { write: boolean }): Promise<Cell> {
  const digest = o.write && t.digestFile !== undefined ? readDigest(t.digestFile) : undefined;
  const client = new ZkClient({ connect: t.connect, sessionTimeoutMs: 10_000, ...(digest ? { digest } : {}), log: silentLogger() });
  client.start();
  try {
    await whenConnected(client, t.connect, t.timeoutMs);
  } catch (err) {
    await client.close();
    throw err;
  }
  const view = new ClusterView({ client, cellPath: cellPathOf(t.nodesPath), nodesPath: t.nodesPath });
  return { view, writer: new JobWriter({ view, protect: digest !== undefined }), close: () => client.close() };
}

/** The digest file's "user:password", checked as the daemon checks zookeeper.digestFile. */
function readDigest(file: string): string {
  // read as the daemon reads it (config's readSecret); the CLI also checks the user:password shape
  const value = readSecret(file, 'zookeeper.digestFile');
  if (!/^[^:\s]+:\S+$/.test(value)) throw new Error(`the digest file ${file} must hold "user:password"`);
  return value;
}

function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
