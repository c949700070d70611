import test from 'ava';
import { sharedZookeeper } from '../helpers/zookeeper.mjs';
import { startGarbageZk } from '../helpers/garbage-zk.mjs';
import registry from '../../dist/registry/index.js';
import logMod from '../../dist/lib/log.js';
import { observer, waitFor, zookeeper } from './_zk.mjs';

const { ZkClient, ZkMultiError } = registry;
const sharedZk = sharedZookeeper(test);

let seq = 0;
async function client(t, o = {}) {
  const c = new ZkClient({ connect: sharedZk().connect, sessionTimeoutMs: 4000, log: logMod.silentLogger(), ...o });
  t.teardown(() => c.close());
  c.start();
  await waitFor(() => c.state === 'connected', { what: 'connected' });
  return c;
}
/** A fresh directory per test, so tests can share the server. */
async function dir(c, protect = false) {
  // a protected test gets a root of its own: a protected /multi would lock the others out of it
  const d = protect ? `/multi-acl/t${++seq}` : `/multi/t${++seq}`;
  await c.mkdirs(d, protect);
  return d;
}
const json = (v) => Buffer.from(JSON.stringify(v));

test('a multi applies every operation and answers one result per operation', async (t) => {
  const c = await client(t);
  const d = await dir(c);
  await c.create(`${d}/old`, null, { ephemeral: false, protect: false });
  const results = await c.multi([
    { op: 'create', path: `${d}/a`, data: json({ a: 1 }) },
    { op: 'create', path: `${d}/seq-`, sequential: true, ephemeral: true },
    { op: 'setData', path: `${d}/a`, data: json({ a: 2 }), version: 0 },
    { op: 'check', path: `${d}/a`, version: 1 },
    { op: 'remove', path: `${d}/old`, version: 0 },
  ]);
  t.deepEqual(results.map((r) => r.op), ['create', 'create', 'setData', 'check', 'remove']);
  t.is(results[0].path, `${d}/a`);
  t.regex(results[1].path, new RegExp(`^${d}/seq-\\d{10}$`));
  t.is(results[2].stat.version, 1);
  t.deepEqual(JSON.parse((await c.getData(`${d}/a`)).data), { a: 2 });
  t.not((await c.exists(results[1].path)).ephemeralOwner, '0000000000000000', 'ephemeral');
  t.is(await c.exists(`${d}/old`), null);
  t.deepEqual(await c.multi([]), [], 'an empty transaction is fine');
});

test('all or nothing: a check of a missing node fails the whole transaction, named by code and index', async (t) => {
  const c = await client(t);
  const d = await dir(c);
  await c.create(`${d}/kept`, Buffer.from('v0'), { ephemeral: false, protect: false });
  const err = await c
    .multi([
      { op: 'create', path: `${d}/a` },
      { op: 'setData', path: `${d}/kept`, data: Buffer.from('v1') },
      { op: 'check', path: `${d}/missing` },
      { op: 'remove', path: `${d}/kept` },
    ])
    .catch((e) => e);
  t.true(err instanceof ZkMultiError);
  t.is(err.code, 'NO_NODE');
  t.is(err.index, 2);
  t.regex(err.message, new RegExp(`operation 2 \\(check ${d}/missing\\) failed: NO_NODE; nothing was applied`));
  t.is(await c.exists(`${d}/a`), null, 'the create before it was not applied');
  t.is(String((await c.getData(`${d}/kept`)).data), 'v0', 'nor the setData');
});

test('versions are honoured, 0 included (the library alone would turn 0 into "any")', async (t) => {
  const c = await client(t);
  const d = await dir(c);
  await c.create(`${d}/v`, null, { ephemeral: false, protect: false });
  await c.setData(`${d}/v`, Buffer.from('once')); // now at version 1
  for (const op of [
    { op: 'check', path: `${d}/v`, version: 0 },
    { op: 'setData', path: `${d}/v`, data: Buffer.from('x'), version: 0 },
    { op: 'remove', path: `${d}/v`, version: 0 },
  ]) {
    const err = await c.multi([op]).catch((e) => e);
    t.is(err.code, 'BAD_VERSION', op.op);
    t.is(err.index, 0);
  }
  t.is(String((await c.getData(`${d}/v`)).data), 'once');
  await c.multi([{ op: 'remove', path: `${d}/v`, version: 1 }]);
  t.is(await c.exists(`${d}/v`), null);
});

test('sequential creates (single and in a multi) answer their path below the chroot', async (t) => {
  const root = `/chrooted${++seq}`;
  const c = await client(t, { connect: `${sharedZk().connect}${root}` });
  await c.mkdirs('/e', false);
  const one = await c.create('/e/n_', Buffer.from('me'), { ephemeral: true, protect: false, sequential: true });
  const [two] = await c.multi([{ op: 'create', path: '/e/n_', data: Buffer.from('me'), ephemeral: true, sequential: true }]);
  t.regex(one, /^\/e\/n_\d{10}$/);
  t.regex(two.path, /^\/e\/n_\d{10}$/);
  t.true(two.path > one, 'sequence numbers grow');
  t.deepEqual((await c.getChildren('/e')).sort(), [one, two.path].map((p) => p.slice(3)).sort());
  const plain = await observer(t, sharedZk().connect);
  t.truthy(await plain.stat(`${root}${two.path}`), 'really under the chroot');
});

test('a protected create in a multi: the digest holder writes, the world only reads', async (t) => {
  const secret = 'sched:multi-Pa55';
  const c = await client(t, { digest: secret });
  const d = await dir(c, true);
  await c.multi([{ op: 'create', path: `${d}/job`, data: json({ n: 1 }), protect: true }]);
  const world = await observer(t, sharedZk().connect);
  t.deepEqual((await world.read(`${d}/job`)).json, { n: 1 }, 'world reads');
  const noAuth = zookeeper.Exception.NO_AUTH;
  t.is((await world.setData(`${d}/job`, '{}').catch((e) => e)).getCode?.(), noAuth, 'world cannot write it');
  const other = await client(t); // our client without the digest
  const err = await other
    .multi([
      { op: 'check', path: `${d}/job` },
      { op: 'create', path: `${d}/intruder` },
    ])
    .catch((e) => e);
  t.is(err.code, 'NO_AUTH');
  t.is(err.index, 1);
  t.is(await c.exists(`${d}/intruder`), null);
});

test('a multi refused before sending, or on a closed client, rejects with a code', async (t) => {
  const c = await client(t);
  const bad = await c.multi([{ op: 'check', path: 'no-slash' }]).catch((e) => e);
  t.is(bad.code, 'BAD_ARGUMENTS');
  await c.close();
  const closed = await c.multi([{ op: 'check', path: '/' }]).catch((e) => e);
  t.is(closed.code, 'CLOSED');
  t.regex(closed.message, /^multi \[check \/\]: the client is closed$/);
});

test('a multi failing with an error code ZooKeeper does not have: a ZkMultiError, no crash, the connection kept', async (t) => {
  const g = await startGarbageZk(t, { mode: 'multi-unknown-error' });
  const c = new ZkClient({ connect: g.connect, sessionTimeoutMs: 4000, log: logMod.silentLogger() });
  t.teardown(() => c.close());
  c.start();
  await waitFor(() => c.state === 'connected', { what: 'connected' });
  const ops = [
    { op: 'check', path: '/a' },
    { op: 'create', path: '/b' },
    { op: 'remove', path: '/c' },
  ];
  const err = await c.multi(ops).catch((e) => e);
  t.true(err instanceof ZkMultiError, String(err));
  t.is(err.code, 'ERROR_-9999');
  t.is(err.index, 1);
  t.is(g.connections, 1, 'the connection was not dropped');
});
