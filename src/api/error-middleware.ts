import type { Context, Next } from 'koa';
import { NodeeError, isNodeeError, type ErrorCode } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { hasBody } from './json-body.js';

/** koa's own HTTP errors (from ctx.throw or router.allowedMethods) carry a status. */
const statusCodes: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/**
 * The one place where failures become the contract's `{"error":{"code","message"}}`.
 * A client never sees a stack trace or HTML: unknown errors are logged with their stack
 * and answered as a generic 500.
 */
export function errorMiddleware(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new NodeeError('NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`);
      }
    } catch (err) {
      const e = toNodeeError(err, ctx, log);
      ctx.status = e.status;
      ctx.body = { error: { code: e.code, message: e.message } };
      if (e.code === 'UNAUTHORIZED') ctx.set('WWW-Authenticate', 'Bearer');
      // Refused before its body was read (401, 403, 415, 421...): rather than read and
      // discard a body we never wanted, end the exchange after the answer, so a keep-alive
      // client neither hangs nor has its leftover bytes parsed as a next request.
      if (hasBody(ctx) && !ctx.req.readableEnded) ctx.set('Connection', 'close');
    }
  };
}

function toNodeeError(err: unknown, ctx: Context, log: Logger): NodeeError {
  if (isNodeeError(err)) return err;
  const status = (err as { status?: unknown }).status;
  const expose = (err as { expose?: unknown }).expose;
  if (typeof status === 'number' && status < 500 && statusCodes[status]) {
    const message = expose && err instanceof Error ? err.message : `HTTP ${status}`;
    return new NodeeError(statusCodes[status] as ErrorCode, message);
  }
  log.error({ err, method: ctx.method, path: ctx.path }, 'request failed');
  return new NodeeError('INTERNAL', 'internal error; see the daemon log');
}
