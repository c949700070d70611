import { stripChroot, underChroot } from './chroot.js';
import { ZkError, ZkMultiError } from './zk-error.js';
import { toStat, type Callback, type LibClient, type LibJuteMulti, type LibOpResult, type LibTransaction, type ZkStat } from './zk-lib.js';

/**
 * ZooKeeper's multi-op transaction for ZkClient.multi(): all the operations are applied, or
 * none. What node-zookeeper-client 1.1.3 gets wrong here, and this file does instead:
 * - its builder turns a version of 0 into -1 (`version || -1`), so "check that the node is
 *   still at version 0" would check nothing: we set each version after the builder;
 * - its commit() turns the first failing result into an exception with a table of codes that
 *   throws on a code it does not know (newer servers have more), inside the socket handler:
 *   we queue the request ourselves and read the results here, where nothing a server sends
 *   can throw, and we keep the failing operation's index, which the library drops.
 * The builder is still used: it validates paths and data as for single operations.
 */

/** One operation of a transaction; a version of -1 (the default) means any version. */
export type ZkOp =
  | { op: 'create'; path: string; data?: Buffer | null; ephemeral?: boolean; sequential?: boolean; protect?: boolean }
  | { op: 'setData'; path: string; data: Buffer; version?: number }
  | { op: 'remove'; path: string; version?: number }
  | { op: 'check'; path: string; version?: number };

/** What each operation did, in order: `path` is the created node's (its name, when sequential). */
export type ZkOpResult = { op: 'create'; path: string } | { op: 'setData'; stat: ZkStat } | { op: 'remove' } | { op: 'check' };

/** What ZkClient supplies: its chroot, its ACLs and modes, and the library's names of error codes. */
export interface MultiContext {
  chroot: string;
  jute: LibJuteMulti;
  acl(protect: boolean): unknown[];
  mode(o: { ephemeral: boolean; sequential: boolean }): number;
  codeName(code: number): string;
}

/** "multi [check /a, setData /b]": how errors and logs name a transaction (paths below the chroot). */
export function describeMulti(ops: readonly ZkOp[]): string {
  return `multi [${ops.map((o) => `${o.op} ${o.path}`).join(', ')}]`;
}

/**
 * Sends `ops` as one MULTI request on `lib`; `cb` gets the library's error (the request
 * failed as a whole: CONNECTION_LOSS...) or the per-operation results, read by readMulti().
 */
export function sendMulti(lib: LibClient, ctx: MultiContext, ops: readonly ZkOp[], cb: Callback<[LibOpResult[]]>): void {
  const tx: LibTransaction = lib.transaction();
  for (const o of ops) {
    const full = underChroot(ctx.chroot, o.path);
    if (o.op === 'create') {
      tx.create(full, o.data ?? undefined, ctx.acl(o.protect ?? false), ctx.mode({ ephemeral: o.ephemeral ?? false, sequential: o.sequential ?? false }));
      continue;
    }
    if (o.op === 'setData') tx.setData(full, o.data, -1);
    else if (o.op === 'remove') tx.remove(full, -1);
    else tx.check(full, -1);
    // the builder's `version || -1` loses a version of 0
    const recorded = tx.ops[tx.ops.length - 1];
    if (recorded) recorded.version = o.version ?? -1;
  }
  const { jute } = ctx;
  const header = new jute.protocol.RequestHeader();
  header.type = jute.OP_CODES.MULTI;
  lib.connectionManager.queue(new jute.Request(header, new jute.TransactionRequest(tx.ops)), (error, response) => {
    if (error) cb(error, []);
    else cb(null, response?.payload?.results ?? []);
  });
}

/** The results of a committed transaction, or the ZkMultiError of its first failing operation. */
export function readMulti(ctx: MultiContext, ops: readonly ZkOp[], raw: readonly LibOpResult[]): ZkOpResult[] {
  const what = describeMulti(ops);
  const { OP_CODES } = ctx.jute;
  const failed = raw.findIndex((r) => r.type === OP_CODES.ERROR && r.err !== 0);
  if (failed >= 0 || raw.some((r) => r.type === OP_CODES.ERROR)) {
    // the server marks the operations before the failing one OK and those after it
    // RUNTIME_INCONSISTENCY; an error result with no code at all is still a failure
    const index = failed >= 0 ? failed : raw.findIndex((r) => r.type === OP_CODES.ERROR);
    const code = ctx.codeName(raw[index]?.err ?? -1);
    const op = ops[index];
    throw new ZkMultiError(code, `${what}: operation ${index} (${op ? `${op.op} ${op.path}` : 'beyond the request'}) failed: ${code}; nothing was applied`, index);
  }
  if (raw.length !== ops.length) throw new ZkError('BAD_REPLY', `${what}: the server answered ${raw.length} results for ${ops.length} operations`);
  const expected = { create: OP_CODES.CREATE, setData: OP_CODES.SET_DATA, remove: OP_CODES.DELETE, check: OP_CODES.CHECK };
  return ops.map((o, i): ZkOpResult => {
    const r = raw[i] as LibOpResult;
    if (r.type !== expected[o.op]) throw new ZkError('BAD_REPLY', `${what}: result ${i} is of type ${r.type}, not a ${o.op}`);
    if (o.op === 'create') {
      if (typeof r.path !== 'string') throw new ZkError('BAD_REPLY', `${what}: result ${i} has no created path`);
      return { op: 'create', path: stripChroot(ctx.chroot, r.path) };
    }
    if (o.op === 'setData') {
      if (!r.stat) throw new ZkError('BAD_REPLY', `${what}: result ${i} has no stat`);
      return { op: 'setData', stat: toStat(r.stat) };
    }
    return { op: o.op };
  });
}
