import test from 'ava';
import { killServicesUnder } from '../helpers/daemon.mjs';
import { startZookeeper } from '../helpers/zookeeper.mjs';
import { cell, node, repository, waitFor, webSpec } from './_fleet.mjs';

// Real faults in a real cell: a node killed (daemon and services, as a host that dies), the
// leader killed, and a lost node that comes back to find its assignments gone.

const JOB = 'web.alice.cell';

async function servicesOf(d) {
  const res = await d.api('GET', '/v1/services').catch(() => undefined);
  return res?.body?.services?.map((s) => s.coordinate) ?? [];
}

test('a node that dies is lost after lostAfterMs: its instance runs elsewhere; when it comes back it stops what is no longer its own', async (t) => {
  const zk = await startZookeeper(t);
  const repo = await repository(t);
  const [a, b] = await Promise.all(['node-a', 'node-b'].map((n) => node(t, zk, n, { config: { repositories: [repo] } })));
  const c = await cell(t, zk);
  await c.live(['node-a', 'node-b']);
  await c.job({ name: JOB, count: 2, maxPerNode: 2, spec: webSpec() });
  const first = await c.until(JOB, (s) => s.counts.running === 2, 'two running');
  t.deepEqual(new Set(first.instances.map((i) => i.node)), new Set(['node-a', 'node-b']), 'spread first');

  // node-b's daemon dies; its service lives on (the host is cut off, not dead)
  const onB = first.instances.find((i) => i.node === 'node-b').coordinate;
  const lostAt = Date.now();
  await b.kill9();
  const moved = await c.until(JOB, (s) => s.instances.every((i) => i.node === 'node-a' && i.state === 'running'), 'both on node-a', 40_000);
  t.true(Date.now() - lostAt >= 3000 - 200, 'not before lostAfterMs (3 s) and the session timeout');
  t.is(moved.counts.running, 2);
  t.deepEqual((await servicesOf(a)).sort(), moved.instances.map((i) => i.coordinate).sort());

  // node-b comes back on its prefix: its assignment is gone, so it drains and removes the service
  const b2 = await node(t, zk, 'node-b', { config: { repositories: [repo] }, prefix: b.prefix });
  await waitFor(async () => !(await servicesOf(b2)).includes(onB), { what: `node-b to remove ${onB}`, timeoutMs: 20_000 });
  t.deepEqual(await servicesOf(b2), []);
  const status = await c.status(JOB);
  t.is(status.counts.running, 2);
});

test('the leader killed: another daemon leads within the session timeout and goes on placing', async (t) => {
  const zk = await startZookeeper(t);
  const repo = await repository(t);
  const ds = await Promise.all(['node-a', 'node-b', 'node-c'].map((n) => node(t, zk, n, { config: { repositories: [repo] } })));
  const leaderOf = async (d) => (await d.api('GET', '/v1/status')).body.scheduler;
  const first = await waitFor(async () => {
    const all = await Promise.all(ds.map(leaderOf));
    return all.filter((s) => s.leader).length === 1 && all.find((s) => s.leader).leaderInstance;
  }, { what: 'one leader' });
  const old = ds.find((d) => d.name === first);
  await old.kill9();
  killServicesUnder(old.prefix);
  const rest = ds.filter((d) => d !== old);
  const next = await waitFor(async () => {
    const all = await Promise.all(rest.map(leaderOf));
    const leaders = all.filter((s) => s.leader);
    return leaders.length === 1 && leaders[0].leaderInstance;
  }, { what: 'a new leader', timeoutMs: 15_000 });
  t.not(next, first);
  const c = await cell(t, zk);
  await c.live(rest.map((d) => d.name));
  await c.job({ name: JOB, count: 2, maxPerNode: 1, spec: webSpec() });
  const s = await c.until(JOB, (x) => x.counts.running === 2, 'placed by the new leader', 40_000);
  t.false(s.instances.some((i) => i.node === first), 'nothing on the dead node');
});
