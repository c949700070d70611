import test from 'ava';
import { startZookeeper } from '../helpers/zookeeper.mjs';
import { ART, cell, node, repository, waitFor, webSpec } from './_fleet.mjs';

// Three real daemons and one ZooKeeper: a job of 3 with maxPerNode 1 runs one instance on each
// node, installed from the repository by each node itself; exactly one daemon leads; scaling
// down removes the highest instances and their services.

test('a job of 3 with maxPerNode 1 over 4 nodes: one per node, each installs and runs its instance, one leader; scale 3 → 1 → 2', async (t) => {
  const zk = await startZookeeper(t);
  const repo = await repository(t);
  const names = ['node-a', 'node-b', 'node-c', 'node-d'];
  const ds = await Promise.all(names.map((n) => node(t, zk, n, { config: { repositories: [repo] } })));
  const c = await cell(t, zk);
  await c.live(names);
  await c.job({ name: 'web.alice.cell', count: 3, maxPerNode: 1, spec: webSpec() });

  const status = await c.until('web.alice.cell', (s) => s.counts.running === 3 && s.instances.every((i) => i.ready), 'three running and ready');
  t.deepEqual(status.instances.map((i) => i.coordinate), ['0.web.alice.cell', '1.web.alice.cell', '2.web.alice.cell']);
  t.is(new Set(status.instances.map((i) => i.node)).size, 3, 'one per node');
  t.deepEqual(status.pending, []);
  t.is(status.version, 1);
  for (const i of status.instances) {
    const d = ds[names.indexOf(i.node)];
    const svc = (await d.api('GET', `/v1/services/${i.coordinate}`)).body;
    t.is(svc.state, 'running');
    t.is(svc.artifact, ART);
    t.is(svc.spec.user, 'nodee-svc1');
    t.is((await d.api('GET', '/v1/artifacts')).body.artifacts.filter((a) => a.id === ART).length, 1, `${i.node} installed the artifact itself`);
  }
  const statuses = await Promise.all(ds.map(async (d) => (await d.api('GET', '/v1/status')).body.scheduler));
  t.is(statuses.filter((s) => s.leader).length, 1, JSON.stringify(statuses));
  const leader = statuses.find((s) => s.leader).leaderInstance;
  t.true(names.includes(leader));
  await waitFor(async () => {
    const all = await Promise.all(ds.map(async (d) => (await d.api('GET', '/v1/status')).body.scheduler.leaderInstance));
    return all.every((l) => l === leader);
  }, { what: 'every node to name the same leader' });

  await c.job({ name: 'web.alice.cell', count: 1, maxPerNode: 1, spec: webSpec(), version: 2 });
  const one = await c.until('web.alice.cell', (s) => s.instances.length === 1 && s.counts.running === 1, 'scaled to one');
  t.is(one.instances[0].coordinate, '0.web.alice.cell');
  await waitFor(async () => {
    const held = await Promise.all(ds.map(async (d) => (await d.api('GET', '/v1/services')).body.services.map((s) => s.coordinate)));
    return held.flat().sort().join() === '0.web.alice.cell';
  }, { what: 'the nodes to remove instances 1 and 2' });
  t.deepEqual(await c.assigned().then((a) => Object.values(a).flat()), ['0.web.alice.cell']);

  await c.job({ name: 'web.alice.cell', count: 2, maxPerNode: 1, spec: webSpec(), version: 3 });
  const two = await c.until('web.alice.cell', (s) => s.counts.running === 2, 'scaled to two');
  t.is(new Set(two.instances.map((i) => i.node)).size, 2);
});

test('what cannot be placed is pending with the rule that excluded the nodes; a root spec is refused by a node without allowRoot', async (t) => {
  const zk = await startZookeeper(t);
  const repo = await repository(t);
  await Promise.all(['node-a', 'node-b'].map((n) => node(t, zk, n, { config: { repositories: [repo] } })));
  const c = await cell(t, zk);
  await c.live(['node-a', 'node-b']);
  await c.job({ name: 'big.alice.cell', count: 1, spec: webSpec({ resources: { memoryMB: 4000 } }) });
  const big = await c.until('big.alice.cell', (s) => s.pending.length === 1, 'pending');
  t.regex(big.pending[0].reason, /memoryMB: needs 4000, most free 1000 on node-/);
  t.is(big.instances[0].node, null);
  t.is(big.instances[0].state, 'pending');

  await c.job({ name: 'zone.alice.cell', count: 1, constraints: { labels: { zone: 'mars' } }, spec: webSpec() });
  const zone = await c.until('zone.alice.cell', (s) => s.pending.length === 1, 'pending on its label');
  t.regex(zone.pending[0].reason, /zone=mars/);

  const { user: _u, ...rootSpec } = webSpec();
  await c.job({ name: 'root.alice.cell', count: 1, spec: rootSpec });
  const root = await c.until('root.alice.cell', (s) => s.pending.some((p) => /allowRoot/.test(p.reason)), 'refused as root');
  t.regex(root.pending[0].reason, /node-[ab]: refused: the spec has no user/);
});
