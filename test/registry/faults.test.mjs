import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startZookeeper } from '../helpers/zookeeper.mjs';
import { startProxy } from '../helpers/tcp-proxy.mjs';
import { tempDir } from '../helpers/tmp.mjs';
import { makePresence, observer, record, nodeOf, waitFor } from './_zk.mjs';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'presence-child.mjs');

for (const how of ['reset', 'blackhole']) {
  test(`proxy cut (${how}) longer than the session: expiry detected while cut off, new session, node re-created`, async (t) => {
    const zk = await startZookeeper(t);
    const proxy = await startProxy(t, { targetPort: zk.port });
    const obs = await observer(t, zk.connect);
    const p = '/meta/cell/nodes/cut';
    const { presence, metric, events } = makePresence(t, { connect: proxy.connect, path: p, sessionTimeoutMs: 1000 });
    presence.start();
    presence.setData(record('cut', 1));
    const before = await nodeOf(obs, p);

    proxy.cut(how);
    // the library would say nothing here: the expiry is ours, detected while still cut off
    await waitFor(async () => (await metric('nodee_zk_session_expiries_total')) >= 1, { timeoutMs: 15_000, what: 'expiry detected' });
    t.is(proxy.mode, how, 'still cut when the expiry was detected');
    t.not(presence.status().state, 'connected');
    if (how === 'blackhole') t.true(events().some((e) => /looks dead/.test(e.msg)), 'dead socket found by the probe');
    // the server expires it too: the old node goes
    await waitFor(async () => (await obs.stat(p)) === null, { timeoutMs: 15_000, what: 'old node gone' });
    presence.setData(record('cut', 4));

    proxy.restore();
    const after = await nodeOf(obs, p, (n) => n.owner !== before.owner && n.json.services.length === 4, 'node re-created by a new session');
    t.is(after.json.instance, 'cut');
    await waitFor(() => presence.status().state === 'connected', { what: 'connected' });
  });
}

test('a short cut within the session timeout keeps the session and the node', async (t) => {
  const zk = await startZookeeper(t);
  const proxy = await startProxy(t, { targetPort: zk.port });
  const obs = await observer(t, zk.connect);
  const p = '/meta/cell/nodes/short';
  const { presence, metric } = makePresence(t, { connect: proxy.connect, path: p, sessionTimeoutMs: 6000 });
  presence.start();
  presence.setData(record('short', 1));
  const before = await nodeOf(obs, p);
  proxy.cut('reset');
  await waitFor(() => presence.status().state !== 'connected', { what: 'disconnected' });
  presence.setData(record('short', 2));
  proxy.restore();
  const after = await nodeOf(obs, p, (n) => n.json.services.length === 2);
  t.is(after.owner, before.owner, 'same session');
  t.is(await metric('nodee_zk_session_expiries_total'), 0);
  t.true((await metric('nodee_zk_reconnects_total')) >= 1);
});

test('an IPv6 connect string ([::1]:port) works', async (t) => {
  const zk = await startZookeeper(t);
  const proxy = await startProxy(t, { targetPort: zk.port, listenHost: '::1' });
  t.regex(proxy.connect, /^\[::1\]:\d+$/);
  const obs = await observer(t, zk.connect);
  const p = '/meta/cell/nodes/v6';
  const { presence } = makePresence(t, { connect: proxy.connect, path: p });
  presence.start();
  presence.setData(record('v6'));
  const node = await nodeOf(obs, p);
  t.is(node.json.instance, 'v6');
  t.true(proxy.connections >= 1, 'went through the IPv6 listener');
});

function runChild(t, options) {
  const proc = spawn(process.execPath, [CHILD, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  return {
    proc,
    async kill9() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

test('kill -9 of a process holding a Presence: the node expires with its session', async (t) => {
  const zk = await startZookeeper(t);
  const obs = await observer(t, zk.connect);
  const p = '/meta/cell/nodes/crash';
  const child = runChild(t, { connect: zk.connect, path: p, sessionTimeoutMs: 1000, instance: 'crash' });
  const node = await nodeOf(obs, p);
  t.is(node.json.instance, 'crash');
  await child.kill9();
  t.truthy(await obs.stat(p), 'still there right after the crash');
  await waitFor(async () => (await obs.stat(p)) === null, { timeoutMs: 15_000, what: 'node expired' });
});

test('kill -9 then a quick restart: the node of our previous (still live) session is replaced, not waited for', async (t) => {
  const zk = await startZookeeper(t);
  const obs = await observer(t, zk.connect);
  const state = await tempDir(t);
  const sessionFile = path.join(state, 'zookeeper-sessions.json');
  const p = '/meta/cell/nodes/quick';
  // a long session: waiting for its expiry would take 30 s
  const child = runChild(t, { connect: zk.connect, path: p, sessionTimeoutMs: 30000, sessionFile, instance: 'quick' });
  const old = await nodeOf(obs, p);
  await child.kill9();

  const { presence, events } = makePresence(t, { connect: zk.connect, path: p, sessionTimeoutMs: 30000, sessionFile });
  presence.start();
  presence.setData(record('quick', 2));
  const now = await nodeOf(obs, p, (n) => n.owner !== old.owner, 'replaced by the new session');
  t.is(now.json.services.length, 2);
  t.true(events().some((e) => /replacing the node left by our previous session/.test(e.msg) && e.owner === '0x' + old.owner));
  t.is(presence.status().conflict, undefined);
});

test('a node of a previous session that is not ours is a conflict until it expires', async (t) => {
  const zk = await startZookeeper(t);
  const obs = await observer(t, zk.connect);
  const state = await tempDir(t);
  const p = '/meta/cell/nodes/other';
  const child = runChild(t, { connect: zk.connect, path: p, sessionTimeoutMs: 6000, sessionFile: path.join(state, 'theirs.json'), instance: 'other' });
  const old = await nodeOf(obs, p);
  await child.kill9();
  const { presence } = makePresence(t, { connect: zk.connect, path: p, sessionFile: path.join(state, 'ours.json') });
  presence.start();
  presence.setData(record('other', 2));
  await waitFor(() => presence.status().conflict, { what: 'conflict' });
  t.is((await obs.read(p)).owner, old.owner, 'not stolen');
  const now = await nodeOf(obs, p, (n) => n.owner !== old.owner, 'taken after the expiry');
  t.is(now.json.services.length, 2);
  await waitFor(() => presence.status().conflict === undefined, { what: 'conflict cleared' });
});
