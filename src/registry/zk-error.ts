/**
 * A ZooKeeper failure: `code` is the server's name for it (NODE_EXISTS, NO_AUTH...) or one of
 * ours: TIMEOUT (no answer by the deadline: the operation may still have been applied),
 * CLOSED (the client is closed), BAD_ARGUMENTS (refused before sending), BAD_REPLY (the
 * server's answer makes no sense for what was asked).
 */
export class ZkError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ZkError';
  }
}

/** A failed transaction: `code` is the first failing operation's, `index` its place in the list (from 0). */
export class ZkMultiError extends ZkError {
  constructor(
    code: string,
    message: string,
    readonly index: number,
  ) {
    super(code, message);
    this.name = 'ZkMultiError';
  }
}

export function zkCode(err: unknown): string | undefined {
  return err instanceof ZkError ? err.code : undefined;
}
