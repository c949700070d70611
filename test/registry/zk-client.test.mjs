import test from 'ava';
import { startZookeeper } from '../helpers/zookeeper.mjs';
import { startProxy } from '../helpers/tcp-proxy.mjs';
import registry from '../../dist/registry/index.js';
import logMod from '../../dist/lib/log.js';
import { waitFor } from './_zk.mjs';

const { ZkClient } = registry;

function client(t, o) {
  const c = new ZkClient({ sessionTimeoutMs: 1000, log: logMod.silentLogger(), ...o });
  t.teardown(() => c.close());
  c.start();
  return c;
}

test('the gaps of node-zookeeper-client: deadline, dead socket, expiry while cut off, a new session after', async (t) => {
  const zk = await startZookeeper(t);
  const proxy = await startProxy(t, { targetPort: zk.port });
  const c = client(t, { connect: proxy.connect, opTimeoutMs: 1000 });
  const states = [];
  const sessions = [];
  const expiries = [];
  c.on('state', (s) => states.push(s));
  c.on('session', (id) => sessions.push(id));
  c.on('expired', (why) => expiries.push(why));
  await waitFor(() => c.state === 'connected', { what: 'connected' });
  const first = c.sessionId;
  t.regex(first, /^[0-9a-f]{16}$/);
  t.is(await c.exists('/nope'), null);

  proxy.cut('blackhole');
  // the library would wait forever: the operation has a deadline
  const err = await c.getData('/zookeeper').catch((e) => e);
  t.is(err.code, 'TIMEOUT');
  t.regex(err.message, /getData \/zookeeper: no answer in 1000 ms/);
  // the socket still looks open: the probe finds it dead, then the session is declared expired
  await waitFor(() => states.includes('disconnected'), { what: 'dead socket noticed' });
  await waitFor(() => expiries.length === 1, { timeoutMs: 10_000, what: 'expiry detected while cut off' });
  t.is(proxy.mode, 'blackhole');
  t.regex(expiries[0], /no server answered for \d+ ms \(session timeout 1000 ms\)/);
  t.is(c.sessionId, undefined);

  proxy.restore();
  await waitFor(() => c.state === 'connected', { timeoutMs: 10_000, what: 'reconnected' });
  t.not(c.sessionId, first, 'a new session');
  t.deepEqual(sessions, [first, c.sessionId]);
  t.is(await c.exists('/nope'), null);
});

test('an operation while no server is reachable fails at its deadline; close() is safe twice', async (t) => {
  const zk = await startZookeeper(t);
  await zk.stop();
  const c = client(t, { connect: zk.connect, opTimeoutMs: 500 });
  const err = await c.exists('/x').catch((e) => e);
  t.is(err.code, 'TIMEOUT');
  await c.close();
  await c.close();
  const closed = await c.exists('/x').catch((e) => e);
  t.is(closed.code, 'CLOSED');
});

test('mkdirs creates the chroot and every parent; server errors keep their ZooKeeper names', async (t) => {
  const zk = await startZookeeper(t);
  const c = client(t, { connect: `${zk.connect}/deep/root`, sessionTimeoutMs: 4000 });
  await c.mkdirs('/a/b/c', false);
  const plain = client(t, { connect: zk.connect, sessionTimeoutMs: 4000 });
  t.truthy(await plain.exists('/deep/root/a/b/c'));
  await c.mkdirs('/a/b/c', false); // again: nothing to do
  const exists = await c.create('/a', null, { ephemeral: false, protect: false }).catch((e) => e);
  t.is(exists.code, 'NODE_EXISTS');
  const noNode = await c.getData('/a/missing').catch((e) => e);
  t.is(noNode.code, 'NO_NODE');
  t.deepEqual(await c.getChildren('/a'), ['b']);
});
