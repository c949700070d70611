/**
 * Every failure nodee reports to a client is a NodeeError with a stable code.
 * The API turns it into `{"error":{"code","message"}}` with `status`; the CLI prints the
 * message and exits non-zero. Codes are part of the external contract: never rename one,
 * and document every new one in docs/ERRORS.md (a test checks that).
 */
export const ERROR_CODES = {
  // generic request problems
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  MISDIRECTED_REQUEST: 421,
  INTERNAL: 500,
  STATE_WRITE_FAILED: 507,
  SHUTTING_DOWN: 503,
  // node
  NODE_DRAINING: 409,
  // artifacts
  ARTIFACT_NOT_FOUND: 404,
  ARTIFACT_IN_USE: 409,
  CHECKSUM_MISMATCH: 422,
  BAD_ARCHIVE: 422,
  UNSAFE_ARCHIVE: 422,
  TOO_LARGE: 422,
  REPOSITORY_ERROR: 502,
  // services
  SERVICE_NOT_FOUND: 404,
  SERVICE_EXISTS: 409,
  SERVICE_RUNNING: 409,
  ARTIFACT_NOT_INSTALLED: 404,
  PORTS_EXHAUSTED: 409,
  INSUFFICIENT_RESOURCES: 409,
  CGROUP_FAILED: 500,
  NOTIFY_FAILED: 500,
  UPGRADE_ROLLED_BACK: 409,
  PURGE_FAILED: 500,
  PREPARE_FAILED: 409,
  SPAWN_FAILED: 500,
  // fleet scheduling
  JOB_NOT_FOUND: 404,
  ZOOKEEPER_UNAVAILABLE: 503,
  // start-up (not HTTP: the daemon exits non-zero)
  CONFIG_INVALID: 1,
  PREFIX_IN_USE: 1,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class NodeeError extends Error {
  readonly code: ErrorCode;
  /** HTTP status the API answers with. */
  readonly status: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NodeeError';
    this.code = code;
    this.status = ERROR_CODES[code];
  }
}

export function isNodeeError(err: unknown): err is NodeeError {
  return err instanceof NodeeError;
}

/** Narrow an unknown throwable to a message without leaking a stack to the client. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Node's system errors carry a string `code` (ENOENT, EEXIST...). */
export function errnoOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
