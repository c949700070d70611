import Router from '@koa/router';
import { z } from 'zod';
import { NodeeError } from '../lib/errors.js';
import { describeIssues } from '../lib/issues.js';
import { readLog } from './log-reader.js';
import { logFile, type LogStream } from './steps/logs.js';
import type { Supervisor } from './supervisor.js';

/** /v1/services… (node drain is the node routes' job: they call drainNode()/undrainNode()). */
export function serviceRoutes(sup: Supervisor): Router {
  const router = new Router({ prefix: '/v1/services', sensitive: true });

  router.get('/', async (ctx) => {
    await sup.measure();
    if (reveal(ctx.query.reveal)) {
      ctx.body = { services: sup.list({ reveal: true }) };
      return;
    }
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = sup.listJson();
  });

  router.post('/', async (ctx) => {
    const body = (ctx.request as unknown as { body?: unknown }).body;
    if (body === undefined) throw new NodeeError('BAD_REQUEST', 'a ServiceSpec JSON body is required');
    if (isBatch(body)) {
      const { services, failure } = await sup.createMany(body.services);
      // what was created exists and runs: it is named next to the error, never lost
      ctx.status = failure ? failure.status : 201;
      ctx.body = failure ? { error: { code: failure.code, message: failure.message }, services } : { services };
      return;
    }
    ctx.status = 201;
    ctx.body = await sup.create(body);
  });

  router.get('/:coordinate', async (ctx) => {
    await sup.measure(ctx.params.coordinate!);
    ctx.body = sup.get(ctx.params.coordinate!, { reveal: reveal(ctx.query.reveal) });
  });

  router.post('/:coordinate/start', async (ctx) => {
    ctx.body = await sup.start(ctx.params.coordinate!);
  });

  router.post('/:coordinate/stop', async (ctx) => {
    ctx.body = await sup.stop(ctx.params.coordinate!);
  });

  router.post('/:coordinate/restart', async (ctx) => {
    ctx.body = await sup.restart(ctx.params.coordinate!);
  });

  router.post('/:coordinate/upgrade', async (ctx) => {
    const body = (ctx.request as unknown as { body?: unknown }).body;
    ctx.body = await sup.upgrade(ctx.params.coordinate!, parseUpgrade(body));
  });

  router.post('/:coordinate/drain', async (ctx) => {
    const service = await sup.drain(ctx.params.coordinate!);
    ctx.status = 202;
    ctx.body = service;
  });

  router.delete('/:coordinate', async (ctx) => {
    const purge = flag(ctx.query.purge, 'purge');
    await sup.remove(ctx.params.coordinate!, { purge });
    ctx.status = 204;
  });

  router.get('/:coordinate/logs', (ctx) => {
    const coordinate = ctx.params.coordinate!;
    const stream = (single(ctx.query.stream, 'stream') ?? 'stdout') as LogStream;
    if (stream !== 'stdout' && stream !== 'stderr') throw new NodeeError('BAD_REQUEST', 'stream: must be stdout or stderr');
    const tailText = single(ctx.query.tail, 'tail');
    if (tailText !== undefined && !/^\d{1,9}$/.test(tailText)) throw new NodeeError('BAD_REQUEST', 'tail: must be a number of lines');
    const follow = flag(ctx.query.follow, 'follow');
    const body = readLog(logFile(sup.logDir(coordinate), stream), { tail: tailText === undefined ? undefined : Number(tailText), follow });
    // a followed log ends only when the client goes away
    ctx.res.once('close', () => body.destroy());
    ctx.type = 'text/plain; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    if (follow) ctx.set('X-Accel-Buffering', 'no');
    ctx.body = body;
  });

  return router;
}

/** The body of POST /upgrade: `{"artifact": "g:a:v2", "timeoutSeconds": 60}`. */
const upgradeSchema = z
  .object({
    artifact: z.string().min(1).max(1024),
    // an upgrade holds its request open while it waits for ready: an hour is the most that is still a request
    timeoutSeconds: z.number().positive().max(3600).default(60),
  })
  .strict();

function parseUpgrade(body: unknown): { artifact: string; timeoutSeconds: number } {
  const r = upgradeSchema.safeParse(body ?? {});
  if (!r.success) throw new NodeeError('BAD_REQUEST', describeIssues(r.error.issues, { top: 'body' }).join('; '));
  return r.data;
}

/** `{"services": [...]}` without a coordinate of its own: the batch form of POST /v1/services. */
function isBatch(body: unknown): body is { services: unknown } {
  return typeof body === 'object' && body !== null && 'services' in body && !('coordinate' in body);
}

function single(v: string | string[] | undefined, name: string): string | undefined {
  if (Array.isArray(v)) throw new NodeeError('BAD_REQUEST', `${name}: given more than once`);
  return v;
}

/**
 * `?reveal=env`: show env values, which are masked otherwise. The route sits behind the
 * token like every /v1 route, so asking is enough.
 */
function reveal(v: string | string[] | undefined): boolean {
  const s = single(v, 'reveal');
  if (s === undefined) return false;
  if (s === 'env') return true;
  throw new NodeeError('BAD_REQUEST', 'reveal: the only value is "env"');
}

function flag(v: string | string[] | undefined, name: string): boolean {
  const s = single(v, name);
  if (s === undefined || s === 'false' || s === '0') return false;
  if (s === 'true' || s === '1' || s === '') return true;
  throw new NodeeError('BAD_REQUEST', `${name}: must be true or false`);
}
