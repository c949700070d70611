import test from 'ava';
import { sharedZookeeper } from '../helpers/zookeeper.mjs';
import { freePort } from '../helpers/tmp.mjs';
import { makePresence, observer, record, nodeOf, zookeeper } from './_zk.mjs';

const sharedZk = sharedZookeeper(test);

const code = (err) => err?.getCode?.();

test('a chroot that does not exist yet, behind a connect string with a dead server first', async (t) => {
  const dead = await freePort();
  const connect = `127.0.0.1:${dead},${sharedZk().connect}/nodee/tenant-a`;
  const obs = await observer(t, sharedZk().connect);
  const { presence } = makePresence(t, { connect, path: '/meta/cell/nodes/rooted' });
  presence.start();
  presence.setData(record('rooted'));
  const node = await nodeOf(obs, '/nodee/tenant-a/meta/cell/nodes/rooted');
  t.is(node.json.instance, 'rooted');
  t.is(await obs.stat('/meta/cell/nodes/rooted'), null, 'nothing outside the chroot');
  t.deepEqual(presence.status(), { state: 'connected', path: '/meta/cell/nodes/rooted' });
  await presence.close();
  t.is(await obs.stat('/nodee/tenant-a/meta/cell/nodes/rooted'), null);
});

test('digest ACL: the world reads, only the digest holder writes or deletes; the secret is never logged', async (t) => {
  const secret = 'nodee:s3cret-Pa55';
  const base = '/acl-test/nodes';
  const p = `${base}/guarded`;
  const { presence, logs } = makePresence(t, { connect: sharedZk().connect, path: p, digest: secret });
  presence.start();
  presence.setData(record('guarded'));
  const world = await observer(t, sharedZk().connect);
  const node = await nodeOf(world, p);
  t.is(node.json.instance, 'guarded', 'world may read');

  const noAuth = zookeeper.Exception.NO_AUTH;
  t.is(code(await world.setData(p, '{}').catch((e) => e)), noAuth, 'world cannot write the node');
  t.is(code(await world.remove(p).catch((e) => e)), noAuth, 'world cannot delete it (the parent is protected too)');
  t.is(code(await world.create(`${base}/intruder`, '{}').catch((e) => e)), noAuth, 'world cannot add a sibling');
  t.is((await world.read(p)).json.instance, 'guarded');

  const wrong = await observer(t, sharedZk().connect, { auth: 'nodee:wrong' });
  t.is(code(await wrong.setData(p, '{}').catch((e) => e)), noAuth, 'a wrong password cannot write');

  const holder = await observer(t, sharedZk().connect, { auth: secret });
  await holder.setData(`${base}`, 'ok'); // the digest holder may
  t.false(logs().includes('s3cret'), 'secret not in the log');
});
