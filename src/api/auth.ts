import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { NodeeError } from '../lib/errors.js';

/**
 * Bearer-token check for /v1. Both sides are hashed first so the comparison is
 * constant-time whatever the lengths; the token never appears in a log or an error.
 */
export function bearerAuth(token: string) {
  const expected = digest(token);
  return async (ctx: Context, next: Next): Promise<void> => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match || !timingSafeEqual(digest(match[1] as string), expected)) {
      throw new NodeeError('UNAUTHORIZED', header ? 'invalid bearer token' : 'this API needs "Authorization: Bearer <token>"');
    }
    await next();
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}
