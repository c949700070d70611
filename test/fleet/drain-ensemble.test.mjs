import test from 'ava';
import { startEnsemble } from '../helpers/zk-ensemble.mjs';
import { startZookeeper } from '../helpers/zookeeper.mjs';
import { cell, node, repository, waitFor, webSpec } from './_fleet.mjs';

// A node drained by its operator gives its instances up to the others; on a 3-server ensemble
// the cell keeps scheduling when the ZooKeeper server its leader talks to is killed.

const JOB = 'web.alice.cell';

test('node drain moves its instances off; the drained node keeps none', async (t) => {
  const zk = await startZookeeper(t);
  const repo = await repository(t);
  const [a, b] = await Promise.all(['node-a', 'node-b'].map((n) => node(t, zk, n, { config: { repositories: [repo] } })));
  const c = await cell(t, zk);
  await c.live(['node-a', 'node-b']);
  await c.job({ name: JOB, count: 4, maxPerNode: 4, spec: webSpec() });
  const spread = await c.until(JOB, (s) => s.counts.running === 4, 'four running');
  t.is(spread.instances.filter((i) => i.node === 'node-b').length, 2, 'spread two and two');
  t.is((await b.api('POST', '/v1/drain')).status, 202);
  const moved = await c.until(JOB, (s) => s.counts.running === 4 && s.instances.every((i) => i.node === 'node-a'), 'all on node-a', 40_000);
  t.is(moved.instances.length, 4);
  await waitFor(async () => (await b.api('GET', '/v1/services')).body.services.length === 0, { what: 'node-b to hold none', timeoutMs: 20_000 });
  t.is((await a.api('GET', '/v1/services')).body.services.filter((s) => s.state === 'running').length, 4);
});

test('on a 3-server ensemble, killing a ZooKeeper server does not stop the cell from scheduling', async (t) => {
  const ens = await startEnsemble(t);
  const repo = await repository(t);
  const ds = await Promise.all(['node-a', 'node-b', 'node-c'].map((n) => node(t, { connect: ens.connect }, n, { config: { repositories: [repo] } })));
  t.is((await Promise.all(ds.map(async (d) => (await d.api('GET', '/v1/status')).body.scheduler.enabled))).filter(Boolean).length, 3);
  const c = await cell(t, { connect: ens.connect });
  await c.live(['node-a', 'node-b', 'node-c']);
  await c.job({ name: JOB, count: 3, maxPerNode: 1, spec: webSpec() });
  await c.until(JOB, (s) => s.counts.running === 3, 'three running', 40_000);
  // a server of the ensemble dies: the sessions on it move to the others within their timeout
  await ens.servers[0].kill9();
  await c.job({ name: JOB, count: 2, maxPerNode: 1, spec: webSpec(), version: 2 });
  const two = await c.until(JOB, (s) => s.version === 2 && s.instances.length === 2 && s.counts.running === 2, 'scaled to two with a server down', 60_000);
  t.is(two.counts.running, 2);
  await waitFor(async () => {
    const all = await Promise.all(ds.map(async (d) => (await d.api('GET', '/v1/services')).body.services.length));
    return all.reduce((x, y) => x + y, 0) === 2;
  }, { what: 'the third instance removed', timeoutMs: 30_000 });
  t.pass();
});
