import { ZkMultiError, zkCode, type ZkClient, type ZkOp, type ZkOpResult } from '../registry/index.js';

/**
 * A write the leader may not make: this candidate is not the leader, or no longer is (its
 * election node is gone, its session ended, ZooKeeper is out of reach). Nothing was written.
 */
export class NotLeaderError extends Error {
  readonly code = 'NOT_LEADER';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NotLeaderError';
  }
}

/**
 * Runs `ops` in one transaction that first checks `electionNode` still exists. The node is
 * ephemeral, so it exists only while the session that won the election lives and nobody
 * deleted it; a later leader is elected only once it is gone. So a deposed leader's write
 * fails here, atomically, however late it arrives: the check is ZooKeeper's, not ours.
 *
 * Resolves the results of `ops` (the check's left out). Rejects NotLeaderError when the
 * check fails or the session is gone; a ZkMultiError of one of `ops` keeps its code, with
 * the index into `ops`; a TIMEOUT or CONNECTION_LOSS leaves the outcome unknown, as for any
 * ZooKeeper write (the write is still fenced: applied only while the node existed).
 */
export async function fencedMulti(client: ZkClient, electionNode: string, ops: readonly ZkOp[]): Promise<ZkOpResult[]> {
  try {
    const [, ...results] = await client.multi([{ op: 'check', path: electionNode }, ...ops]);
    return results;
  } catch (err) {
    if (err instanceof ZkMultiError && err.index === 0) {
      throw new NotLeaderError(`not the leader: our election node ${electionNode} is gone (${err.code}); nothing was written`, { cause: err });
    }
    if (err instanceof ZkMultiError) {
      const op = ops[err.index - 1];
      const what = op ? `${op.op} ${op.path}` : 'an operation';
      throw new ZkMultiError(err.code, `fenced write: operation ${err.index - 1} (${what}) failed: ${err.code}; nothing was written`, err.index - 1);
    }
    if (zkCode(err) === 'SESSION_EXPIRED') throw new NotLeaderError(`not the leader: the session of ${electionNode} expired; nothing was written`, { cause: err });
    throw err;
  }
}
