import Router from '@koa/router';
import type { NodeStatus } from '../contract/index.js';

/** What the node-level routes need from the daemon. */
export interface NodeControl {
  status(): Promise<NodeStatus>;
  /** Resolve once the node's drain state is on disk (a 2xx means it is). */
  drain(): Promise<void>;
  undrain(): Promise<void>;
}

/** /v1/status, /v1/drain, /v1/undrain (contract: REST API). */
export function nodeRoutes(node: NodeControl): Router {
  // case-sensitive and strict: /V1/status or /v1/status/ are 404, one spelling per route
  const router = new Router({ sensitive: true, strict: true });
  router.get('/v1/status', async (ctx) => {
    ctx.body = await node.status();
  });
  router.post('/v1/drain', async (ctx) => {
    await node.drain();
    ctx.status = 202;
    ctx.body = await node.status();
  });
  router.post('/v1/undrain', async (ctx) => {
    await node.undrain();
    ctx.status = 202;
    ctx.body = await node.status();
  });
  return router;
}
