import test from 'ava';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sharedZookeeper, startZookeeper } from '../helpers/zookeeper.mjs';
import { cli, CLI } from '../helpers/daemon.mjs';
import { tempDir, freePort } from '../helpers/tmp.mjs';
import { makePresence, observer, record, nodeOf, waitFor } from './_zk.mjs';

const sharedZk = sharedZookeeper(test);

let seq = 0;
async function fleet(t) {
  const nodesPath = `/cells/c${++seq}/nodes`;
  const obs = await observer(t, sharedZk().connect);
  const a = makePresence(t, { connect: sharedZk().connect, path: `${nodesPath}/alpha` }).presence;
  const b = makePresence(t, { connect: sharedZk().connect, path: `${nodesPath}/beta` }).presence;
  a.start();
  b.start();
  const ra = record('alpha', 3);
  ra.services[2].state = 'failed';
  a.setData(ra);
  b.setData(record('beta', 0, { state: 'draining' }));
  await nodeOf(obs, `${nodesPath}/alpha`);
  await nodeOf(obs, `${nodesPath}/beta`);
  return { nodesPath, obs, a, b };
}

test('cluster ls --json: one entry per node, read from ZooKeeper as a real process', async (t) => {
  const { nodesPath, obs } = await fleet(t);
  await obs.create(`${nodesPath}/junk`, 'not json', 0); // someone else's persistent junk
  const r = await cli(['cluster', 'ls', '--json', '--zookeeper', sharedZk().connect, '--nodes-path', nodesPath]);
  t.is(r.code, 0, r.stderr);
  const nodes = JSON.parse(r.stdout);
  t.deepEqual(nodes.map((n) => n.instance), ['alpha', 'beta', 'junk']);
  t.is(nodes[0].services.length, 3);
  t.is(nodes[1].state, 'draining');
  t.deepEqual(nodes[2], { instance: 'junk', error: 'not JSON' });
});

test('cluster ls: a table with instance, state, running/total, load, free memory, reserved/capacity, containment, labels, console', async (t) => {
  const { nodesPath, obs } = await fleet(t);
  // a nodee 0.1 node among them: no labels, resources or containment in its record
  const { labels: _labels, resources, containment: _containment, ...v01 } = record('gamma', 1);
  v01.services = v01.services.map(({ resources: _, ...s }) => s);
  await obs.create(`${nodesPath}/gamma`, JSON.stringify(v01));
  // someone's label with a line break and an escape sequence must not forge a row or reach the terminal
  const { presence: d } = makePresence(t, { connect: sharedZk().connect, path: `${nodesPath}/delta` });
  d.start();
  d.setData(record('delta', 0, { labels: { note: 'a\nepsilon  active\u001b[2J' }, containment: 'none' }));
  await nodeOf(obs, `${nodesPath}/delta`);

  const r = await cli(['cluster', 'ls', '--nodes-path', nodesPath], { env: { NODEE_ZOOKEEPER: sharedZk().connect } });
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.regex(lines[0], /^INSTANCE\s+STATE\s+SERVICES\s+LOAD\s+FREE MEM\s+RESERVED\/CAPACITY\s+CONTAINMENT\s+LABELS\s+CONSOLE$/);
  t.regex(lines[1], /^alpha\s+active\s+2\/3\s+0\.50\s+3\.7 GiB\s+mem 512\/7000 MB cpu 0\.5\/2 disk 1024\/50000 MB\s+cgroup2\s+zone=eu-1a,ssd=true\s+http:\/\/127\.0\.0\.1:7070\/$/);
  t.regex(lines[2], /^beta\s+draining\s+0\/0\s/);
  t.regex(lines[3], /^delta\s+active\s+0\/0\s+0\.50\s+3\.7 GiB\s+mem 512\/7000 MB cpu 0\.5\/2 disk 1024\/50000 MB\s+none\s+note=a\?epsilon  active\?\[2J\s+http:/);
  t.regex(lines[4], /^gamma\s+active\s+1\/1\s+0\.50\s+3\.7 GiB\s+-\s+-\s+-\s+http:\/\/127\.0\.0\.1:7070\/$/);
  t.is(lines.length, 5);
  t.false(r.stdout.includes('\u001b'));
  // --json is the records as they are, the 0.1 one without the 0.2 fields
  const json = JSON.parse((await cli(['cluster', 'ls', '--json', '--nodes-path', nodesPath], { env: { NODEE_ZOOKEEPER: sharedZk().connect } })).stdout);
  t.deepEqual(json.find((n) => n.instance === 'gamma'), v01);
  t.deepEqual(json.find((n) => n.instance === 'alpha').resources, resources);
  t.is(json.find((n) => n.instance === 'delta').labels.note, 'a\nepsilon  active\u001b[2J');
});

test('cluster ls reads connect string and nodesPath from the daemon config file (chroot too)', async (t) => {
  const obs = await observer(t, sharedZk().connect);
  const { presence } = makePresence(t, { connect: `${sharedZk().connect}/chrooted`, path: '/fleet/nodes/gamma' });
  presence.start();
  presence.setData(record('gamma', 1));
  await nodeOf(obs, '/chrooted/fleet/nodes/gamma');
  const dir = await tempDir(t);
  const file = path.join(dir, 'nodee.yaml');
  await writeFile(file, `prefix: /tmp/x\nzookeeper:\n  connect: "${sharedZk().connect}/chrooted"\n  nodesPath: /fleet/nodes\n`);
  const r = await cli(['--json', 'cluster', 'ls', '--config', file], { env: { NODEE_ZOOKEEPER: '' } });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout).map((n) => n.instance), ['gamma']);
});

test('cluster ls: an empty or absent nodes path is an empty fleet', async (t) => {
  const r = await cli(['cluster', 'ls', '--json', '--zookeeper', sharedZk().connect, '--nodes-path', '/no/such/path']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), []);
});

test('cluster ls: unreachable ZooKeeper, a standalone config, no target, a bad verb', async (t) => {
  const port = await freePort();
  const down = await cli(['cluster', 'ls', '--zookeeper', `127.0.0.1:${port}`, '--timeout', '500']);
  t.is(down.code, 1);
  t.regex(down.stderr, new RegExp(`cannot reach zookeeper at 127.0.0.1:${port} within 500 ms`));
  t.is(down.stdout, '');

  const dir = await tempDir(t);
  const file = path.join(dir, 'nodee.yaml');
  await writeFile(file, 'prefix: /tmp/x\n');
  const standalone = await cli(['cluster', 'ls', '--config', file], { env: { NODEE_ZOOKEEPER: '' } });
  t.is(standalone.code, 2);
  t.regex(standalone.stderr, /configures no zookeeper/);

  const badConnect = await cli(['cluster', 'ls', '--zookeeper', 'zk1:99999']);
  t.is(badConnect.code, 1);
  t.regex(badConnect.stderr, /zookeeper.connect: bad port/);

  const verb = await cli(['cluster', 'frob']);
  t.is(verb.code, 2);
  t.regex(verb.stderr, /unknown cluster command "frob"/);
});

test('cluster watch follows nodes coming, changing and going, until Ctrl-C', async (t) => {
  const { nodesPath, a } = await fleet(t);
  const proc = spawn(process.execPath, [CLI, 'cluster', 'watch', '--json', '--zookeeper', sharedZk().connect, '--nodes-path', nodesPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  t.teardown(() => proc.kill('SIGKILL'));
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  const views = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l).nodes);
  const names = (v) => v.map((n) => n.instance).join(',');
  await waitFor(() => views().some((v) => names(v) === 'alpha,beta'), { what: 'first view' });

  const { presence: c } = makePresence(t, { connect: sharedZk().connect, path: `${nodesPath}/delta` });
  c.start();
  c.setData(record('delta', 1));
  await waitFor(() => views().some((v) => names(v) === 'alpha,beta,delta'), { what: 'delta appears' });

  c.setData(record('delta', 5));
  await waitFor(() => views().some((v) => v.find((n) => n.instance === 'delta')?.services.length === 5), { what: 'delta changes' });

  await a.close();
  await waitFor(() => views().at(-1) && names(views().at(-1)) === 'beta,delta', { what: 'alpha goes' });

  proc.kill('SIGINT');
  t.is(await exited, 0);
});

test('cluster watch keeps following across a ZooKeeper restart', async (t) => {
  const zk = await startZookeeper(t);
  const nodesPath = '/meta/cell/nodes';
  const { presence: a } = makePresence(t, { connect: zk.connect, path: `${nodesPath}/one`, sessionTimeoutMs: 8000 });
  a.start();
  a.setData(record('one', 1));
  const proc = spawn(process.execPath, [CLI, 'cluster', 'watch', '--json', '--zookeeper', zk.connect, '--nodes-path', nodesPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  t.teardown(() => proc.kill('SIGKILL'));
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  proc.stderr.setEncoding('utf8').on('data', (d) => (err += d));
  const views = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l).nodes);
  await waitFor(() => views().some((v) => v.length === 1 && v[0].services.length === 1), { what: 'first view' });

  await zk.stop();
  await waitFor(() => /zookeeper disconnected; still watching/.test(err), { what: 'says disconnected' });
  await zk.start();
  a.setData(record('one', 6));
  await waitFor(() => views().some((v) => v.length === 1 && v[0].services.length === 6), { timeoutMs: 20_000, what: 'change after the restart' });
  proc.kill('SIGTERM');
  t.is(await exited, 0);
});

test('watch reads only what changed: 20 nodes updating once each cost about 20 reads, not 20 × 20', async (t) => {
  const { ClusterReader } = await import('./_zk.mjs');
  const { silentLogger } = await import('../../dist/lib/log.js');
  const { fourLetter } = await import('../helpers/zookeeper.mjs');
  const zk = await startZookeeper(t); // its own: the packet count is this test's alone
  const obs = await observer(t, zk.connect);
  await obs.mkdirp('/w/nodes');
  for (let i = 0; i < 20; i++) await obs.create(`/w/nodes/n${i}`, JSON.stringify(record(`n${i}`, 1)));
  const reader = new ClusterReader({ connect: zk.connect, nodesPath: '/w/nodes', log: silentLogger() });
  t.teardown(() => reader.close());
  let view = [];
  reader.on('change', (nodes) => (view = nodes));
  reader.watch();
  await waitFor(() => view.length === 20, { what: 'the first view' });
  const received = async () => Number(/Received: (\d+)/.exec(await fourLetter(zk.port, 'srvr'))[1]);
  const before = await received();
  for (let i = 0; i < 20; i++) {
    await obs.setData(`/w/nodes/n${i}`, JSON.stringify(record(`n${i}`, 2)));
    // each change its own event, as nodes update their records independently
    await waitFor(() => view.find((n) => n.instance === `n${i}`)?.record.services.length === 2, { what: `n${i} updated` });
  }
  const packets = (await received()) - before;
  // 20 setData of ours + 20 getData of the reader + a few pings and srvr; a re-read of the
  // whole fleet per change would be 20 × 21
  t.true(packets <= 60, `${packets} packets for 20 updates`);
  t.is(view.length, 20);
  // a node that goes and comes is seen going and coming
  await obs.remove('/w/nodes/n3');
  await waitFor(() => view.length === 19, { what: 'n3 gone' });
  await obs.create('/w/nodes/n3', JSON.stringify(record('n3', 5)));
  await waitFor(() => view.find((n) => n.instance === 'n3')?.record.services.length === 5, { what: 'n3 back' });
});
