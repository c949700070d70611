import test from 'ava';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startDaemon } from '../helpers/daemon.mjs';
import { startZookeeper } from '../helpers/zookeeper.mjs';
import { tempDir } from '../helpers/tmp.mjs';
import { observer, nodeOf, waitFor, zookeeper } from './_zk.mjs';

const NODES = '/meta/cell/nodes';

function zkConfig(zk, over = {}) {
  return { instance: 'e2e-node', zookeeper: { connect: zk.connect, sessionTimeoutMs: 1000, nodesPath: NODES, ...over } };
}

test('the daemon registers its record, shows the state in /v1/status and /metrics, and SIGTERM removes the node', async (t) => {
  const zk = await startZookeeper(t);
  const obs = await observer(t, zk.connect);
  const d = await startDaemon(t, { config: { ...zkConfig(zk), labels: { zone: 'eu-1a' }, capacity: { memoryMB: 3000 } } });
  const p = `${NODES}/e2e-node`;
  const node = await nodeOf(obs, p);
  const status = (await d.api('GET', '/v1/status')).body;
  t.deepEqual(status.zookeeper, { state: 'connected', path: p });
  // the 0.2 fields, as the daemon's status has them
  t.deepEqual(node.json.labels, { zone: 'eu-1a' });
  t.deepEqual(node.json.resources, status.resources);
  t.is(node.json.resources.capacity.memoryMB, 3000);
  t.is(node.json.containment, status.containment);
  t.is(node.json.instance, 'e2e-node');
  t.is(node.json.pid, d.pid);
  t.is(node.json.hostname, status.hostname);
  t.deepEqual(node.json.console, status.console);
  t.is(node.json.state, 'active');
  t.deepEqual(node.json.services, []);
  t.not(node.owner, '0000000000000000', 'ephemeral');

  const metrics = await waitFor(async () => {
    const text = (await d.api('GET', '/metrics')).text;
    return /nodee_zk_writes_total\{op="create"\} 1/.test(text) && text;
  }, { what: 'create counted in /metrics' });
  t.regex(metrics, /nodee_zk_state\{state="connected"\} 1/);

  t.is((await d.api('POST', '/v1/drain')).status, 202);
  await nodeOf(obs, p, (n) => n.json.state === 'draining', 'drain reaches the record');

  t.is(await d.stop('SIGTERM'), 0);
  t.is(await obs.stat(p), null, 'removed by the time the daemon has exited');
});

test('ZooKeeper down: the daemon starts and serves, says disconnected, registers once ZooKeeper is up', async (t) => {
  const zk = await startZookeeper(t);
  await zk.stop();
  const d = await startDaemon(t, { config: zkConfig(zk) });
  t.is((await d.api('GET', '/healthz')).status, 200);
  const { zookeeper: z } = (await d.api('GET', '/v1/status')).body;
  t.not(z.state, 'connected');
  t.is(z.path, `${NODES}/e2e-node`);
  await zk.start();
  const obs = await observer(t, zk.connect);
  await nodeOf(obs, `${NODES}/e2e-node`);
  await waitFor(async () => (await d.api('GET', '/v1/status')).body.zookeeper.state === 'connected', { what: 'status connected' });
  t.is(await d.stop(), 0);
});

test('kill -9 of the daemon: the node stays until its session expires', async (t) => {
  const zk = await startZookeeper(t);
  const obs = await observer(t, zk.connect);
  const d = await startDaemon(t, { config: zkConfig(zk) });
  await nodeOf(obs, `${NODES}/e2e-node`);
  await d.kill9();
  t.truthy(await obs.stat(`${NODES}/e2e-node`));
  await waitFor(async () => (await obs.stat(`${NODES}/e2e-node`)) === null, { timeoutMs: 15_000, what: 'node expired' });
});

test('kill -9 and a quick restart on the same prefix: the previous session\'s node is replaced at once', async (t) => {
  const zk = await startZookeeper(t);
  const obs = await observer(t, zk.connect);
  const config = zkConfig(zk, { sessionTimeoutMs: 30000 });
  const first = await startDaemon(t, { config });
  const old = await nodeOf(obs, `${NODES}/e2e-node`);
  await first.kill9();
  const second = await startDaemon(t, { config, prefix: first.prefix });
  const now = await nodeOf(obs, `${NODES}/e2e-node`, (n) => n.owner !== old.owner && n.json.pid === second.pid, 'replaced by the new daemon (the daemon must pass Presence its sessionFile under <prefix>/state/)');
  t.is(now.json.instance, 'e2e-node');
  t.is((await second.api('GET', '/v1/status')).body.zookeeper.conflict, undefined);
});

test('another live holder of the name: /v1/status shows the conflict, the daemon takes the name when it goes', async (t) => {
  const zk = await startZookeeper(t);
  const holder = await observer(t, zk.connect);
  const obs = await observer(t, zk.connect);
  await holder.mkdirp(NODES);
  await holder.create(`${NODES}/e2e-node`, '{"instance":"e2e-node","hostname":"elsewhere","pid":1}');
  const d = await startDaemon(t, { config: zkConfig(zk) });
  const conflict = await waitFor(async () => (await d.api('GET', '/v1/status')).body.zookeeper.conflict, { what: 'conflict in status' });
  t.regex(conflict, new RegExp(`session 0x${holder.sessionId()} holds ${NODES}/e2e-node`));
  t.is((await obs.read(`${NODES}/e2e-node`)).owner, holder.sessionId(), 'not stolen');
  t.true(d.events().some((e) => /held by another live session/.test(e.msg)), 'logged');
  holder.close();
  const mine = await nodeOf(obs, `${NODES}/e2e-node`, (n) => n.json.pid === d.pid);
  t.is(mine.json.instance, 'e2e-node');
  await waitFor(async () => (await d.api('GET', '/v1/status')).body.zookeeper.conflict === undefined, { what: 'conflict cleared' });
});

test('zookeeper.digestFile: the node gets a digest ACL, the world may only read, the secret is not logged', async (t) => {
  const zk = await startZookeeper(t);
  const dir = await tempDir(t);
  const digestFile = path.join(dir, 'zk-digest');
  await writeFile(digestFile, 'nodee:0p3n-S3same\n');
  const d = await startDaemon(t, { config: zkConfig(zk, { digestFile }) });
  const world = await observer(t, zk.connect);
  const p = `${NODES}/e2e-node`;
  await nodeOf(world, p);
  const err = await world.setData(p, '{}').catch((e) => e);
  t.is(err?.getCode?.(), zookeeper.Exception.NO_AUTH);
  const del = await world.remove(p).catch((e) => e);
  t.is(del?.getCode?.(), zookeeper.Exception.NO_AUTH);
  t.false(d.logs().includes('0p3n-S3same'));
  t.is(await d.stop(), 0);
  t.is(await world.stat(p), null, 'the daemon itself may delete it');
});
