import Router from '@koa/router';
import { z } from 'zod';
import { describeIssues } from '../lib/issues.js';
import { NodeeError } from '../lib/errors.js';
import { coordinates } from './artifact-id.js';
import type { ArtifactStore } from './store.js';

const installBody = z
  .object({
    url: z
      .string()
      .max(4096)
      .regex(/^(https?|file):\/\/\S+$/, 'must be an http://, https:// or file:// URL')
      .optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex digits')
      .optional(),
  })
  .strict()
  .optional();

function parseBody(body: unknown): z.infer<typeof installBody> {
  const parsed = installBody.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new NodeeError('BAD_REQUEST', describeIssues(parsed.error.issues).join('; '));
}

function idOf(params: Record<string, string | undefined>): string {
  return coordinates(params.g ?? '', params.a ?? '', params.v ?? '').id;
}

/** `/v1/artifacts…`: thin over the store; errors are NodeeErrors for the API's middleware. */
export function artifactRoutes(store: ArtifactStore): Router {
  const router = new Router({ prefix: '/v1/artifacts', sensitive: true });

  router.get('/', (ctx) => {
    ctx.body = { artifacts: store.list() };
  });

  router.get('/:g/:a/:v', (ctx) => {
    const id = idOf(ctx.params);
    const artifact = store.get(id);
    if (!artifact) throw new NodeeError('ARTIFACT_NOT_FOUND', `${id} is not installed`);
    ctx.body = artifact;
  });

  router.put('/:g/:a/:v', async (ctx) => {
    const id = idOf(ctx.params);
    const body = parseBody((ctx.request as { body?: unknown }).body) ?? {};
    const { artifact, created } = await store.install(id, body);
    ctx.status = created ? 201 : 200;
    ctx.body = artifact;
  });

  router.delete('/:g/:a/:v', async (ctx) => {
    await store.remove(idOf(ctx.params));
    ctx.status = 204;
  });

  return router;
}
