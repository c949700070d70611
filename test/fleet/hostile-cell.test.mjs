import test from 'ava';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startZookeeper } from '../helpers/zookeeper.mjs';
import { tempDir } from '../helpers/tmp.mjs';
import { CELL, cell, node, repository, waitFor, webSpec, zookeeper } from './_fleet.mjs';
import { observer } from '../registry/_zk.mjs';

// What a ZooKeeper writer can send a node: garbage assignments, an assignment for a job that
// does not exist, a root spec. None is acted on, each is said (the record's `refused`), and
// the daemon stays up. With a digest file the world cannot write the scheduler's znodes.

test('garbage, a job that does not exist, a spec for another coordinate: never run, each refused and said; the daemon lives', async (t) => {
  const zk = await startZookeeper(t);
  const repo = await repository(t);
  const c = await cell(t, zk);
  // another candidate leads (first in line, and silent), so node-a's own leader loop does not
  // clean the rogue assignments away before its reconciler has looked at them
  await new Promise((res, rej) => c.obs.client.mkdirp(`${CELL}/scheduler/election`, (e) => (e ? rej(e) : res())));
  await c.obs.create(`${CELL}/scheduler/election/n_`, 'elsewhere', zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL);
  // the test writes as a rogue client would (no digest file here: the world may write)
  const a = await node(t, zk, 'node-a', { config: { repositories: [repo] } });
  t.is((await a.api('GET', '/v1/status')).body.scheduler.leader, false);
  const put = (p, data) => new Promise((res, rej) => c.obs.client.mkdirp(p, Buffer.from(data), zookeeper.ACL.OPEN_ACL_UNSAFE, zookeeper.CreateMode.PERSISTENT, (e) => (e ? rej(e) : res())));
  const base = `${CELL}/assignments/node-a`;
  await put(`${base}/0.junk.alice.cell`, '{not json');
  await put(`${base}/0.ghost.alice.cell`, JSON.stringify({ job: 'ghost.alice.cell', jobVersion: 1, spec: { ...webSpec(), coordinate: '0.ghost.alice.cell' }, assignedAt: new Date().toISOString() }));
  await put(`${base}/0.other.alice.cell`, JSON.stringify({ job: 'other.alice.cell', jobVersion: 1, spec: { ...webSpec(), coordinate: '1.other.alice.cell' }, assignedAt: new Date().toISOString() }));
  const record = await waitFor(async () => {
    const r = await c.obs.read(`${CELL}/nodes/node-a`);
    return r?.json.refused && Object.keys(r.json.refused).length === 3 && r.json;
  }, { what: 'the refusals in the record', timeoutMs: 20_000 });
  t.deepEqual((await a.api('GET', '/v1/services')).body.services, []);
  t.regex(record.refused['0.junk.alice.cell'], /not an assignment/);
  t.regex(record.refused['0.ghost.alice.cell'], /its job ghost\.alice\.cell does not exist/);
  t.regex(record.refused['0.other.alice.cell'], /spec is for 1\.other\.alice\.cell/);
  const metrics = (await a.api('GET', '/metrics')).text;
  t.regex(metrics, /nodee_scheduler_refused 3/);
  t.is((await a.api('GET', '/healthz')).status, 200);
});

test('with a digest file, the world reads the scheduler znodes and cannot write a job or an assignment', async (t) => {
  const zk = await startZookeeper(t);
  const dir = await tempDir(t, 'nodee-digest-');
  const digestFile = path.join(dir, 'digest');
  await writeFile(digestFile, 'nodee:s3cret\n', { mode: 0o600 });
  const repo = await repository(t);
  await node(t, zk, 'node-a', { config: { repositories: [repo], zookeeper: { connect: zk.connect, sessionTimeoutMs: 2000, nodesPath: `${CELL}/nodes`, digestFile } } });
  // the nodee identity writes the job, as `nodee cluster run --digest-file` does
  const owner = await observer(t, zk.connect, { auth: 'nodee:s3cret' });
  await waitFor(async () => (await owner.stat(`${CELL}/jobs`)) !== null && (await owner.stat(`${CELL}/assignments`)) !== null, { what: 'the leader to make jobs/ and assignments/' });
  const world = await observer(t, zk.connect);
  const create = (client, p) => new Promise((res) => client.create(p, Buffer.from('{}'), zookeeper.CreateMode.PERSISTENT, (e) => res(e ? e.getCode() : 0)));
  t.is(await create(world.client, `${CELL}/jobs/evil.alice.cell`), zookeeper.Exception.NO_AUTH);
  t.is(await create(world.client, `${CELL}/assignments/node-a`), zookeeper.Exception.NO_AUTH);
  t.true((await world.stat(`${CELL}/jobs`)) !== null, 'the world reads');
  t.is(await create(owner.client, `${CELL}/jobs/fine.alice.cell`), 0, 'the digest identity writes');
});
