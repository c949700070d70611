import Router from '@koa/router';
import type { Job } from '../contract/index.js';
import { NodeeError } from '../lib/errors.js';
import { ZkError } from '../registry/index.js';
import { nodeJson, type ClusterView, type JobEntry } from './cluster-view.js';

/**
 * GET /v1/cluster/nodes, /v1/cluster/jobs, /v1/cluster/jobs/{name} (contract: "Fleet
 * scheduling over ZooKeeper"): the fleet as this daemon's ZooKeeper session reads it,
 * read-only, so any daemon answers for the whole cell. `view` is undefined on a standalone
 * daemon; then, and while ZooKeeper cannot be read, the answer is 503 ZOOKEEPER_UNAVAILABLE
 * (the node's own API works on).
 */
export function clusterRoutes(view: () => ClusterView | undefined): Router {
  // case-sensitive and strict, like the node routes: one spelling per route
  const router = new Router({ sensitive: true, strict: true });
  router.get('/v1/cluster/nodes', async (ctx) => {
    const nodes = await read(view, (v) => v.nodes());
    ctx.body = { nodes: nodes.map(nodeJson) };
  });
  router.get('/v1/cluster/jobs', async (ctx) => {
    const jobs = await read(view, (v) => v.jobs());
    ctx.body = { jobs: jobs.map(masked) };
  });
  router.get('/v1/cluster/jobs/:name', async (ctx) => {
    const name = ctx.params.name!;
    const entry = await read(view, (v) => v.job(name));
    if (!entry) throw new NodeeError('JOB_NOT_FOUND', `no job ${name}`);
    ctx.body = masked(entry);
  });
  return router;
}

async function read<T>(view: () => ClusterView | undefined, fn: (v: ClusterView) => Promise<T>): Promise<T> {
  const v = view();
  if (!v) throw new NodeeError('ZOOKEEPER_UNAVAILABLE', 'this node runs standalone (no zookeeper configured): it knows no fleet');
  // fail at once rather than after the operation deadline: the console asks every 2 s
  if (v.client.state !== 'connected') throw new NodeeError('ZOOKEEPER_UNAVAILABLE', `zookeeper is ${v.client.state}: the fleet cannot be read now`);
  try {
    return await fn(v);
  } catch (err) {
    if (err instanceof ZkError) throw new NodeeError('ZOOKEEPER_UNAVAILABLE', `reading the fleet from zookeeper failed: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Env values are masked in API answers (contract: "Hardening promises"), a job's spec's as a service's. */
function masked(e: JobEntry): JobEntry {
  const env = (e.job?.spec as { env?: Record<string, string> } | undefined)?.env;
  if (!e.job || !env) return e;
  const job: Job = { ...e.job, spec: { ...e.job.spec, env: Object.fromEntries(Object.keys(env).map((k) => [k, '***'])) } };
  return { ...e, job };
}
