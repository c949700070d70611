import type { Context, Next } from 'koa';
import { NodeeError } from '../lib/errors.js';

/**
 * Parses a JSON request body into ctx.request.body, bounded by `limit` bytes. No body (or
 * an empty one) is `undefined`: several routes take an optional one.
 *
 * Any request that carries a body must say `application/json`, whatever its method. An
 * untyped or text/plain body is exactly what a cross-site form or `fetch(..., {mode:
 * 'no-cors'})` can send without a CORS preflight, so it is refused (415) before a byte of it
 * is read, never "parsed anyway". Reading stops as soon as the limit is passed, so an
 * oversized upload costs no memory.
 */
export function jsonBody(limit: number) {
  return async (ctx: Context, next: Next): Promise<void> => {
    ctx.request.body = undefined;
    if (!hasBody(ctx)) return next();
    if (!ctx.is('application/json', '+json')) {
      throw new NodeeError('UNSUPPORTED_MEDIA_TYPE', 'request body must be application/json');
    }
    const declared = Number(ctx.get('content-length') || '0');
    if (declared > limit) throw new NodeeError('PAYLOAD_TOO_LARGE', `request body is larger than ${limit} bytes`);
    const text = await readLimited(ctx, limit);
    if (text.trim() === '') return next();
    try {
      ctx.request.body = JSON.parse(text);
    } catch (err) {
      throw new NodeeError('BAD_REQUEST', `request body is not valid JSON: ${(err as Error).message}`);
    }
    await next();
  };
}

/** HTTP/1.1: a request has a body when it says so with Transfer-Encoding or a non-zero Content-Length. */
export function hasBody(ctx: Context): boolean {
  return ctx.get('transfer-encoding') !== '' || Number(ctx.get('content-length') || '0') > 0;
}

function readLimited(ctx: Context, limit: number): Promise<string> {
  // Event-based rather than `for await`: leaving an async iterator early destroys the
  // socket, and the client would never read the 413 we answer.
  return new Promise((resolve, reject) => {
    const req = ctx.req;
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData);
      req.off('end', onEnd);
      req.resume(); // discard the rest; Connection: close ends the exchange after our answer
      ctx.set('Connection', 'close');
      reject(new NodeeError('PAYLOAD_TOO_LARGE', `request body is larger than ${limit} bytes`));
    };
    const onEnd = () => resolve(Buffer.concat(chunks).toString('utf8'));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', reject);
  });
}

declare module 'koa' {
  interface Request {
    body?: unknown;
  }
}
