import test from 'ava';
import path from 'node:path';
import { sharedZookeeper, startZookeeper } from '../helpers/zookeeper.mjs';
import { tempDir, freePort } from '../helpers/tmp.mjs';
import { makePresence, observer, record, nodeOf, uniquePath, waitFor } from './_zk.mjs';

// One server for the tests that do not hurt it; each test works under its own path.
const sharedZk = sharedZookeeper(test);

test('the node appears with the record, ephemeral, parents created; close removes it at once', async (t) => {
  const obs = await observer(t, sharedZk().connect);
  const p = uniquePath(t) + '/web-17';
  const { presence, metric } = makePresence(t, { connect: sharedZk().connect, path: p });
  t.is(presence.start(), undefined);
  t.deepEqual(presence.status(), { state: 'connecting', path: p });
  t.false(await presence.waitForNode(100), 'no record yet, no node');
  presence.setData(record('web-17', 2));
  t.true(await presence.waitForNode(10_000));
  const node = await nodeOf(obs, p);
  t.is(node.json.instance, 'web-17');
  t.is(node.json.services.length, 2);
  t.deepEqual(Object.keys(node.json).sort(), ['artifacts', 'console', 'containment', 'hostname', 'instance', 'labels', 'machine', 'pid', 'resources', 'services', 'startedAt', 'state', 'updatedAt', 'version'].sort());
  t.not(node.owner, '0000000000000000', 'ephemeral');
  t.not(node.owner, obs.sessionId());
  t.is((await obs.stat(path.posix.dirname(p))).owner, '0000000000000000', 'parent is persistent');
  t.deepEqual(presence.status(), { state: 'connected', path: p });
  // the observer can see the node before the presence has the answer: wait for the count
  await waitFor(async () => (await metric('nodee_zk_writes_total', { op: 'create' })) === 1, { what: 'one create counted' });
  t.is(await metric('nodee_zk_state', { state: 'connected' }), 1);

  await presence.close();
  t.is(await obs.stat(p), null, 'gone as soon as close() resolves');
  t.is(presence.status().state, 'disconnected');
  await presence.close(); // twice is fine
});

/**
 * A started Presence whose node exists, an observer, and its write count so far: a session
 * lost under load re-creates the node instead of setting it, so creates count too.
 */
async function presenceForBursts(t, name) {
  const obs = await observer(t, sharedZk().connect);
  const p = uniquePath(t) + '/' + name;
  const { presence, metric } = makePresence(t, { connect: sharedZk().connect, path: p });
  presence.start();
  presence.setData(record(name, 0));
  await nodeOf(obs, p);
  const writes = async () => (await metric('nodee_zk_writes_total', { op: 'set' })) + (await metric('nodee_zk_writes_total', { op: 'create' }));
  // the observer may see a write before the presence has its answer: wait for the counters
  await waitFor(async () => (await writes()) >= 1, { what: 'create counted' });
  return { obs, p, presence, writes, before: await writes() };
}

test('a burst of changes is a few writes, ending with the last record', async (t) => {
  const { obs, p, presence, writes, before } = await presenceForBursts(t, 'burst');
  for (let i = 1; i <= 200; i++) presence.setData(record('burst', i));
  await nodeOf(obs, p, (n) => n.json.services.length === 200);
  const n = await waitFor(async () => (await writes()) - before, { what: 'writes counted' });
  t.true(n >= 1 && n <= 4, `${n} writes for 200 changes`);
});

test('a burst of changes that lasts seconds (services starting one by one) is about one write a second', async (t) => {
  const { obs, p, presence, writes, before } = await presenceForBursts(t, 'long');
  // 300 changes over 3 s, like 1,000 API starts in a row
  for (let i = 1; i <= 300; i++) {
    presence.setData(record('long', i % 100));
    await new Promise((r) => setTimeout(r, 10));
  }
  presence.setData(record('long', 150));
  await nodeOf(obs, p, (n) => n.json.services.length === 150);
  const n = (await writes()) - before;
  // 3 at once, then about one a second (one per change would be 301); a late timer only
  // merges more, so the bound holds however loaded the machine is
  t.true(n >= 1 && n <= 8, `${n} writes for 301 changes over 3 s`);
});

test('start() and setData() return at once with ZooKeeper down; the node appears when it comes up', async (t) => {
  const zk = await startZookeeper(t);
  await zk.stop();
  const p = '/meta/cell/nodes/late';
  const { presence } = makePresence(t, { connect: zk.connect, path: p });
  presence.start();
  presence.setData(record('late'));
  await new Promise((r) => setTimeout(r, 300));
  t.not(presence.status().state, 'connected');
  await zk.start();
  const obs = await observer(t, zk.connect);
  const node = await nodeOf(obs, p);
  t.is(node.json.instance, 'late');
  t.is(presence.status().state, 'connected');
});

test('nothing is created before the first record', async (t) => {
  const obs = await observer(t, sharedZk().connect);
  const p = uniquePath(t) + '/nodata';
  const { presence } = makePresence(t, { connect: sharedZk().connect, path: p });
  presence.start();
  await waitFor(() => presence.status().state === 'connected', { what: 'connected' });
  t.is(await obs.stat(p), null);
  presence.setData(record('nodata'));
  await nodeOf(obs, p);
  t.pass();
});

test('a deleted node is re-created, and a foreign write to it is overwritten', async (t) => {
  const obs = await observer(t, sharedZk().connect);
  const p = uniquePath(t) + '/heal';
  const { presence } = makePresence(t, { connect: sharedZk().connect, path: p });
  presence.start();
  presence.setData(record('heal'));
  const first = await nodeOf(obs, p);
  await obs.setData(p, '{"bogus":true}');
  await nodeOf(obs, p, (n) => n.json.instance === 'heal' && n.version > first.version, 'overwritten');
  await obs.remove(p);
  const again = await nodeOf(obs, p);
  t.is(again.owner, first.owner, 'same session');
  t.is(again.json.instance, 'heal');
});

test('another live session holding the name is a conflict: not stolen, shown, then taken when it goes', async (t) => {
  const holder = await observer(t, sharedZk().connect);
  const obs = await observer(t, sharedZk().connect);
  const parent = uniquePath(t);
  const p = parent + '/taken';
  await holder.mkdirp(parent);
  await holder.create(p, JSON.stringify(record('taken', 0, { hostname: 'other-host', pid: 4242 })));
  const { presence, metric, events } = makePresence(t, { connect: sharedZk().connect, path: p });
  presence.start();
  presence.setData(record('taken', 3));
  await waitFor(() => presence.status().conflict, { what: 'conflict' });
  const { conflict } = presence.status();
  t.regex(conflict, new RegExp(`session 0x${holder.sessionId()} holds ${p}`));
  t.regex(conflict, /other-host, pid 4242/);
  t.is(await metric('nodee_zk_conflict'), 1);
  t.true(events().some((e) => e.level === 'warn' && /held by another live session/.test(e.msg)));
  // the holder's node is untouched
  const held = await obs.read(p);
  t.is(held.owner, holder.sessionId());
  t.is(held.json.hostname, 'other-host');

  holder.close(); // its session ends: the node goes, ours follows at once (exists watch)
  const ours = await nodeOf(obs, p, (n) => n.owner !== held.owner);
  t.is(ours.json.services.length, 3);
  await waitFor(() => presence.status().conflict === undefined, { what: 'conflict cleared' });
  t.is(await metric('nodee_zk_conflict'), 0);
});

test('a record over the ZooKeeper limit is refused and the previous one kept', async (t) => {
  const obs = await observer(t, sharedZk().connect);
  const p = uniquePath(t) + '/huge';
  const { presence, events } = makePresence(t, { connect: sharedZk().connect, path: p });
  presence.start();
  presence.setData(record('huge', 1));
  await nodeOf(obs, p);
  const big = record('huge', 1);
  big.artifacts = Array.from({ length: 40000 }, (_, i) => `com.example.group${i}:artifact-with-a-long-name:1.2.3-${i}`);
  t.notThrows(() => presence.setData(big));
  await waitFor(() => events().some((e) => e.level === 'error' && /too large/.test(e.msg)), { what: 'error logged' });
  t.is((await obs.read(p)).json.artifacts.length, 1);
  presence.setData(record('huge', 5));
  await nodeOf(obs, p, (n) => n.json.services.length === 5);
});

test('a server stopped and restarted: the node is back with the latest record', async (t) => {
  const zk = await startZookeeper(t);
  const p = '/meta/cell/nodes/restart';
  const { presence, metric } = makePresence(t, { connect: zk.connect, path: p, sessionTimeoutMs: 4000 });
  presence.start();
  presence.setData(record('restart', 1));
  {
    const obs = await observer(t, zk.connect);
    await nodeOf(obs, p);
    obs.close();
  }
  await zk.stop();
  await waitFor(() => presence.status().state !== 'connected', { what: 'disconnected' });
  presence.setData(record('restart', 7)); // a change while down is not lost
  await zk.start();
  const obs = await observer(t, zk.connect);
  const node = await nodeOf(obs, p, (n) => n.json.services.length === 7);
  t.is(node.json.instance, 'restart');
  await waitFor(() => presence.status().state === 'connected', { what: 'connected' });
  t.true((await metric('nodee_zk_reconnects_total')) >= 1);
});

test('an unreachable server: close() still returns promptly', async (t) => {
  const port = await freePort();
  const { presence } = makePresence(t, { connect: `127.0.0.1:${port}`, path: '/a/b', sessionTimeoutMs: 10000 });
  presence.start();
  presence.setData(record('x'));
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  await presence.close();
  t.true(Date.now() - started < 5000);
  t.is(presence.status().state, 'disconnected');
});

test('close() racing the first create leaves no node behind', async (t) => {
  const obs = await observer(t, sharedZk().connect);
  for (let i = 0; i < 5; i++) {
    const p = uniquePath(t) + '/race';
    const { presence } = makePresence(t, { connect: sharedZk().connect, path: p });
    presence.start();
    presence.setData(record('race'));
    // close as soon as the connection is up, while the create is being sent
    await new Promise((resolve) => presence.on('state', (s) => s.state === 'connected' && setTimeout(resolve, i * 5)));
    await presence.close();
    t.is(await obs.stat(p), null, `round ${i}`);
  }
});

test('a torn session-id file is ignored with a warning, and rewritten', async (t) => {
  const { writeFile, readFile } = await import('node:fs/promises');
  const dir = await tempDir(t);
  const sessionFile = path.join(dir, 'zookeeper-sessions.json');
  await writeFile(sessionFile, '{"version":1,"data":{"sess');
  const obs = await observer(t, sharedZk().connect);
  const p = uniquePath(t) + '/torn';
  const { presence, events } = makePresence(t, { connect: sharedZk().connect, path: p, sessionFile });
  presence.start();
  presence.setData(record('torn'));
  const node = await nodeOf(obs, p);
  t.true(events().some((e) => e.level === 'warn' && /cannot read the previous zookeeper session ids/.test(e.msg)));
  const saved = JSON.parse(await readFile(sessionFile, 'utf8'));
  t.deepEqual(saved, { version: 1, data: { sessions: [node.owner] } });
});
