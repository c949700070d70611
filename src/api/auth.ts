import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { NodeeError } from '../lib/errors.js';
import { CONSOLE_ASSETS } from './console-assets.js';

/**
 * The only requests that need no token, compared with the raw request path exactly as it
 * arrived. Everything else needs it, whatever the router would make of the path: the
 * router is lenient (case, trailing slash) and capabilities may add routes anywhere, so
 * authentication is an allow-list of what is open, never a guess at what is protected.
 * /openapi.json describes the routes and holds no secret: tools may read it without a token.
 * The console's static assets (console-assets.ts) are open too, each by its exact path.)
 */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/metrics', '/', '/openapi.json']);

/**
 * Bearer-token check for every request but GET/HEAD of OPEN_PATHS, 404s included (an
 * unknown path does not reveal the API's shape). Both sides are hashed first so the
 * comparison is constant-time whatever the lengths; the token never appears in a log or an
 * error.
 */
export function bearerAuth(token: string) {
  const expected = digest(token);
  return async (ctx: Context, next: Next): Promise<void> => {
    if ((ctx.method === 'GET' || ctx.method === 'HEAD') && (OPEN_PATHS.has(ctx.path) || CONSOLE_ASSETS.has(ctx.path))) return next();
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
