import test from 'ava';
import { ApiServer } from '../../dist/api/server.js';
import { silentLogger } from '../../dist/lib/log.js';
import { createMetricsRegistry } from '../../dist/lib/metrics.js';
import { ZkClient } from '../../dist/registry/index.js';
import { ClusterView, clusterRoutes } from '../../dist/scheduler/index.js';
import { sharedZookeeper } from '../helpers/zookeeper.mjs';
import { freePort } from '../helpers/tmp.mjs';
import { rawRequest } from '../security/api-http.mjs';
import { cell, direct } from './_fleet.mjs';

// The scheduler's operator side as code: JobWriter's compare-and-set against concurrent
// writers and a leader, and GET /v1/cluster/* served by the real API server over a real
// ZooKeeper session.

const zk = sharedZookeeper(test);
const job = (over = {}) => ({ name: 'web.borud.fbu', count: 1, spec: { artifact: 'com.example:web:1.0.0', user: 'borud', ports: ['http'], env: { DB_PASSWORD: 'hunter2' } }, ...over });

/** The API server exactly as the daemon builds it, serving only the fleet routes. */
async function api(t, view) {
  const server = new ApiServer({ listen: '127.0.0.1:0', log: silentLogger(), metrics: createMetricsRegistry(false), node: {}, routers: [clusterRoutes(view)], bodyLimitBytes: 1024 });
  const { url } = await server.start();
  t.teardown(() => server.close(0));
  return (path) => rawRequest(url, { path });
}

test('concurrent writers each land: no change is lost, every one is one more version', async (t) => {
  const c = await cell(t, zk().connect);
  const a = await direct(t, zk().connect, c);
  const b = await direct(t, zk().connect, c);
  t.is((await a.writer.runJob(job())).change, 'created');
  t.is((await b.writer.runJob(job())).change, 'unchanged');
  const counts = [2, 3, 4, 5, 6, 7, 8, 9];
  const results = await Promise.all(counts.map((n, i) => (i % 2 ? a : b).writer.scaleJob('web.borud.fbu', n)));
  t.deepEqual(results.map((r) => r.job.version).sort((x, y) => x - y), [2, 3, 4, 5, 6, 7, 8, 9]);
  const last = results.find((r) => r.job.version === 9);
  const stored = await a.view.job('web.borud.fbu');
  t.is(stored.job.version, 9);
  t.is(stored.job.count, last.job.count);
  // each saw the count its predecessor wrote
  const byVersion = new Map(results.map((r) => [r.job.version, r]));
  for (let v = 3; v <= 9; v++) t.is(byVersion.get(v).from, byVersion.get(v - 1).job.count, `version ${v}`);
});

test('stopJob outlasts a leader that keeps writing the status, and a job removed meanwhile is done', async (t) => {
  const c = await cell(t, zk().connect);
  const { writer, client } = await direct(t, zk().connect, c);
  await writer.runJob(job({ count: 2 }));
  // a leader that (re)writes the status as fast as it can, as a pass racing the stop would
  let leading = true;
  const leader = (async () => {
    let writes = 0;
    while (leading) {
      const data = Buffer.from(JSON.stringify({ job: 'web.borud.fbu', version: 2, instances: [], counts: {}, pending: [], updatedAt: new Date().toISOString() }));
      await client.create(`${c.jobs}/web.borud.fbu/status`, data, { ephemeral: false, protect: false }).then(() => writes++, () => {});
      await new Promise((r) => setImmediate(r));
    }
    return writes;
  })();
  const r = await writer.stopJob('web.borud.fbu', { waitMs: 2000, pollMs: 50 });
  leading = false;
  t.true((await leader) > 0);
  t.deepEqual(r, { name: 'web.borud.fbu', version: 2, drained: true });
  t.is(await c.obs.stat(`${c.jobs}/web.borud.fbu`), null);
  await t.throwsAsync(writer.stopJob('web.borud.fbu', { waitMs: 0 }), { code: 'JOB_NOT_FOUND' });
});

test('GET /v1/cluster/nodes, /jobs, /jobs/{name}: the cell as ZooKeeper holds it, env masked, garbage marked', async (t) => {
  const c = await cell(t, zk().connect);
  const { view, writer } = await direct(t, zk().connect, c);
  await writer.runJob(job());
  await c.status('web.borud.fbu', 1, [{ coordinate: '0.web.borud.fbu', node: 'node-a', state: 'running', ready: true }]);
  await c.raw('junk', '{"not": "a job"');
  await c.node('node-a', { services: [['0.web.borud.fbu', 'running', true, { http: 20001 }]] });
  await c.obs.create(`${c.nodesPath}/scribble`, 'hello', 0);
  const get = await api(t, () => view);

  const nodes = await get('/v1/cluster/nodes');
  t.is(nodes.status, 200, nodes.text);
  t.deepEqual(nodes.body.nodes.map((n) => n.instance), ['node-a', 'scribble']);
  t.is(nodes.body.nodes[0].console.url, 'http://node-a.example.com:7070/');
  t.deepEqual(nodes.body.nodes[1], { instance: 'scribble', error: 'not JSON' });

  const jobs = await get('/v1/cluster/jobs');
  t.is(jobs.status, 200, jobs.text);
  t.deepEqual(jobs.body.jobs.map((j) => [j.name, j.error ?? null]), [['junk', 'job: not JSON'], ['web.borud.fbu', null]]);
  const one = await get('/v1/cluster/jobs/web.borud.fbu');
  t.is(one.status, 200);
  t.deepEqual(one.body.job.spec.env, { DB_PASSWORD: '***' });
  t.false(jobs.text.includes('hunter2') || one.text.includes('hunter2'));
  t.like(one.body, { name: 'web.borud.fbu', job: { count: 1, version: 1 }, status: { version: 1, counts: { running: 1 } } });

  const missing = await get('/v1/cluster/jobs/none.borud.fbu');
  t.is(missing.status, 404);
  t.is(missing.body.error.code, 'JOB_NOT_FOUND');
  const bad = await get('/v1/cluster/jobs/Not-A-Job');
  t.is(bad.status, 400);
  t.regex(bad.body.error.message, /is not a job name/);
  t.is((await get('/v1/cluster/jobs/..%2Fnodes')).status, 400);
  t.is((await get('/v1/cluster/JOBS')).status, 404);
});

test('without ZooKeeper, or with it down, /v1/cluster/* is 503 ZOOKEEPER_UNAVAILABLE at once', async (t) => {
  const standalone = await api(t, () => undefined);
  for (const p of ['/v1/cluster/nodes', '/v1/cluster/jobs', '/v1/cluster/jobs/web.borud.fbu']) {
    const r = await standalone(p);
    t.is(r.status, 503, p);
    t.is(r.body.error.code, 'ZOOKEEPER_UNAVAILABLE');
    t.regex(r.body.error.message, /standalone/);
  }
  const client = new ZkClient({ connect: `127.0.0.1:${await freePort()}`, sessionTimeoutMs: 10_000, log: silentLogger() });
  client.start();
  t.teardown(() => client.close());
  const down = await api(t, () => new ClusterView({ client, cellPath: '/meta/cell', nodesPath: '/meta/cell/nodes' }));
  const started = Date.now();
  const r = await down('/v1/cluster/jobs');
  t.is(r.status, 503);
  t.is(r.body.error.code, 'ZOOKEEPER_UNAVAILABLE');
  t.regex(r.body.error.message, /zookeeper is (connecting|disconnected)/);
  t.true(Date.now() - started < 1000, 'no wait for an operation deadline');
});
