import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { sharedZookeeper, startZookeeper } from '../helpers/zookeeper.mjs';
import { startProxy } from '../helpers/tcp-proxy.mjs';
import { observer, zookeeper } from '../registry/_zk.mjs';
import scheduler from '../../dist/scheduler/index.js';
import { candidate, NotLeaderError, oneLeader, reader, readLog, uniqueCell, waitFor, watchesBySession, writeLoop } from './_election.mjs';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'election-child.mjs');
const sharedZk = sharedZookeeper(test);
const { sortCandidates, standingOf } = scheduler;

/** A candidate in a child process, to be killed -9; `lines` collects what it prints. */
async function childCandidate(t, options) {
  const proc = spawn(process.execPath, [CHILD, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  const lines = [];
  readline.createInterface({ input: proc.stdout }).on('line', (l) => lines.push(JSON.parse(l)));
  const { node, session } = await waitFor(() => lines.find((l) => l.node), { what: 'the child in the election' });
  return {
    node,
    session,
    lines,
    async kill9() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

test('the order of candidates: by sequence number; names that are not a candidate are ignored', (t) => {
  t.deepEqual(sortCandidates(['n_0000000010', 'junk', 'n_0000000002', 'n_12', 'x_0000000001', 'n_-000000001', 'n_0000000009']), ['n_0000000002', 'n_0000000009', 'n_0000000010']);
  t.deepEqual(standingOf(['n_0000000003', 'n_0000000001', 'n_0000000002'], 'n_0000000003'), {
    leader: 'n_0000000001',
    predecessor: 'n_0000000002',
    ahead: ['n_0000000001', 'n_0000000002'],
  });
  t.deepEqual(standingOf(['n_0000000001'], 'n_0000000001'), { leader: 'n_0000000001', predecessor: undefined, ahead: [] });
  t.is(standingOf(['n_0000000001'], 'n_0000000002'), undefined, 'our node is gone');
});

test('three candidates: one leader, the lowest; each other watches only its predecessor (no herd)', async (t) => {
  const zk = sharedZk();
  const cell = uniqueCell();
  const obs = await observer(t, zk.connect);
  const cands = [];
  // one after the other, so the sequence order is known
  for (const instance of ['a', 'b', 'c']) cands.push(await candidate(t, { connect: zk.connect, cell, instance }));
  const leader = await oneLeader(cands);
  t.is(leader.instance, 'a', 'the lowest sequence leads');
  const nodes = cands.map((c) => c.election.nodePath());
  t.deepEqual([...nodes].sort(), nodes, 'a < b < c');
  for (const [i, c] of cands.entries()) {
    const n = await obs.stat(nodes[i]);
    t.is(n.owner, c.client.sessionId, 'ephemeral, held by the candidate');
    t.is(String(await obs.data(nodes[i])), c.instance, 'its data is the instance');
  }
  t.deepEqual(cands.map((c) => c.events.map((e) => `${e.event}:${e.who}`)), [['leader:a'], ['follower:a'], ['follower:a']]);

  const watches = await watchesBySession(zk.port);
  t.deepEqual(watches.get(cands[0].client.sessionId), [nodes[0]], 'the leader watches its own node');
  t.deepEqual(watches.get(cands[1].client.sessionId), [nodes[0]], 'b watches a');
  t.deepEqual(watches.get(cands[2].client.sessionId), [nodes[1]], 'c watches b, not the leader');

  // close() removes the node at once: b leads without waiting for a session timeout
  const closedAt = Date.now();
  await cands[0].election.close();
  t.is(await obs.stat(nodes[0]), null);
  t.false(cands[0].election.isLeader());
  await waitFor(() => cands[1].election.isLeader(), { what: 'b leads' });
  t.log(`handover after close(): ${Date.now() - closedAt} ms`);
  const next = await oneLeader(cands.slice(1), 'c learns it at its next re-check');
  t.is(next.instance, 'b');
  t.deepEqual((await watchesBySession(zk.port)).get(cands[2].client.sessionId), [nodes[1]], 'c still watches only b');
});

test('kill -9 of the leader: the next takes over within the session timeout; the others keep watching only their predecessor', async (t) => {
  const zk = sharedZk();
  const cell = uniqueCell();
  const child = await childCandidate(t, { connect: zk.connect, cell, instance: 'crashy', sessionTimeoutMs: 1500 });
  await waitFor(() => child.lines.some((l) => l.event === 'leader'), { what: 'the child leads' });
  const b = await candidate(t, { connect: zk.connect, cell, instance: 'b' });
  const c = await candidate(t, { connect: zk.connect, cell, instance: 'c' });
  await waitFor(() => b.election.leaderInstance() === 'crashy' && c.election.leaderInstance() === 'crashy', { what: 'both follow the child' });

  const killedAt = Date.now();
  await child.kill9();
  await waitFor(() => b.election.isLeader(), { what: 'b takes over' });
  const took = Date.now() - killedAt;
  const leader = await oneLeader([b, c], 'c learns it');
  t.is(leader.instance, 'b');
  t.log(`takeover after kill -9: ${took} ms (session timeout 1500 ms)`);
  t.true(took < 1500 + 1500, `took ${took} ms`);
  t.false(c.election.isLeader());
  const watches = await watchesBySession(zk.port);
  t.deepEqual(watches.get(b.client.sessionId), [b.election.nodePath()], 'the new leader watches its own node');
  t.deepEqual(watches.get(c.client.sessionId), [b.election.nodePath()], 'c watches b, its predecessor all along');
  t.is(watches.get(child.session), undefined, 'the dead session holds nothing');
});

test('a fenced write of a leader whose node an operator deleted is refused by ZooKeeper and writes nothing', async (t) => {
  const zk = sharedZk();
  const cell = uniqueCell();
  const obs = await observer(t, zk.connect);
  const a = await candidate(t, { connect: zk.connect, cell, instance: 'a' });
  await oneLeader([a]);
  await a.client.mkdirs(`${cell}/assignments`, false);
  const first = a.election.nodePath();
  await a.election.fencedWrite([{ op: 'create', path: `${cell}/assignments/one`, data: Buffer.from('{}') }]);

  await obs.remove(first);
  // at once, before our watch has been acted on: the check inside the transaction refuses it
  const err = await a.election.fencedWrite([{ op: 'create', path: `${cell}/assignments/two`, data: Buffer.from('{}') }]).catch((e) => e);
  t.true(err instanceof NotLeaderError, String(err));
  t.is(err.code, 'NOT_LEADER');
  // either ZooKeeper refused it (the check inside the transaction), or, on a loaded machine, the
  // deletion's watch was acted on first and the election refused it before sending: both write nothing
  if (/is gone/.test(err.message)) {
    t.regex(err.message, /our election node .* is gone \(NO_NODE\); nothing was written/);
    t.is(err.cause?.index, 0, 'refused by the check, the first operation');
  } else t.regex(err.message, /^not the leader: .*nothing was written$/);
  t.is(await obs.stat(`${cell}/assignments/two`), null, 'nothing written');

  // it joins again with a new node, leads again (the listeners heard the interruption), and may write
  await waitFor(() => a.election.isLeader() && a.election.nodePath() !== first, { what: 'leads again with a new node' });
  t.true(a.election.nodePath() > first);
  t.deepEqual(a.events.map((e) => e.event), ['leader', 'follower', 'leader']);
  const [created] = await a.election.fencedWrite([{ op: 'create', path: `${cell}/assignments/two`, data: Buffer.from('{}') }]);
  t.is(created.path, `${cell}/assignments/two`);
  // an operation of the caller that fails keeps its own index (the check is not counted)
  const bad = await a.election.fencedWrite([{ op: 'check', path: `${cell}/assignments/one` }, { op: 'create', path: `${cell}/assignments/one` }]).catch((e) => e);
  t.is(bad.code, 'NODE_EXISTS');
  t.is(bad.index, 1);
});

test('a leader cut off from ZooKeeper stops leading once its client notices, is deposed by expiry, and its fenced writes write nothing', async (t) => {
  const zk = sharedZk();
  const cell = uniqueCell();
  const proxy = await startProxy(t, { targetPort: zk.port });
  const look = await reader(t, zk.connect);
  await look.mkdirs(`${cell}/log`, false);
  const a = await candidate(t, { connect: proxy.connect, cell, instance: 'a', sessionTimeoutMs: 1500 });
  await oneLeader([a]);
  const b = await candidate(t, { connect: zk.connect, cell, instance: 'b', sessionTimeoutMs: 1500 });
  await oneLeader([a, b]);
  const loops = [writeLoop(t, a, cell), writeLoop(t, b, cell)];
  await waitFor(() => loops[0].tally.ok >= 3, { what: 'a writes' });

  const cutAt = Date.now();
  proxy.cut('blackhole');
  await waitFor(() => !a.election.isLeader(), { timeoutMs: 5000, what: 'a stops leading' });
  const stoppedAfter = Date.now() - cutAt;
  await waitFor(() => b.election.isLeader(), { timeoutMs: 10_000, what: 'b leads' });
  const tookOverAfter = Date.now() - cutAt;
  await waitFor(() => loops[1].tally.ok >= 3, { what: 'b writes' });
  proxy.restore();
  await waitFor(() => a.election.leaderInstance() === 'b', { timeoutMs: 10_000, what: 'a follows b in a new session' });
  await waitFor(() => loops[1].tally.ok >= 6, { what: 'b still writes' });
  await Promise.all(loops.map((l) => l.stop()));
  t.log(`a stopped leading ${stoppedAfter} ms after the cut; b led ${tookOverAfter} ms after it (session timeout 1500 ms)`);

  const log = await readLog(look, cell);
  const firstOfB = log.findIndex((e) => e.writer === 'b');
  t.true(firstOfB > 0);
  t.deepEqual(log.slice(firstOfB).filter((e) => e.writer === 'a'), [], 'nothing from a once b led');
  t.true(log.every((e, i) => i === 0 || e.seq >= log[i - 1].seq), 'the fencing nodes never go back');
  t.true(a.logs().some((l) => /no longer the scheduler leader/.test(l.msg)));
});

test('ZooKeeper stopped then started: a leader again, and never two leaders as seen by the writes', async (t) => {
  const zk = await startZookeeper(t);
  const cell = uniqueCell();
  const look = await reader(t, zk.connect);
  await look.mkdirs(`${cell}/log`, false);
  const cands = [];
  for (const instance of ['a', 'b', 'c']) cands.push(await candidate(t, { connect: zk.connect, cell, instance }));
  const before = await oneLeader(cands);
  // every candidate tries to write all the time, leader or not
  const loops = cands.map((c) => writeLoop(t, c, cell));
  await waitFor(() => loops.reduce((n, l) => n + l.tally.ok, 0) >= 5, { what: 'writes before the stop' });

  await zk.stop();
  await waitFor(() => cands.every((c) => !c.election.isLeader() && c.election.leaderInstance() === null), { what: 'all suspended' });
  const suspendedOk = loops.map((l) => l.tally.ok);
  await new Promise((r) => setTimeout(r, 2500)); // past the session timeout: every client gives its session up
  t.deepEqual(loops.map((l) => l.tally.ok), suspendedOk, 'no write succeeds while ZooKeeper is down');
  const startedAt = Date.now();
  await zk.start();
  const after = await oneLeader(cands, 'a leader after the restart');
  t.log(`a leader ${Date.now() - startedAt} ms after ZooKeeper was serving again (was ${before.instance}, now ${after.instance})`);
  await waitFor(async () => (await readLog(look, cell)).some((e) => e.writer === after.instance && e.node === after.election.nodePath()), { what: 'writes resume' });
  // a change of leader under the writers: the leader leaves
  await after.election.close();
  const third = await oneLeader(cands.filter((c) => c !== after), 'a leader after the leader left');
  await waitFor(() => loops[cands.indexOf(third)].tally.ok > suspendedOk[cands.indexOf(third)] + 3, { what: 'the new leader writes' });
  await Promise.all(loops.map((l) => l.stop()));

  const log = await readLog(look, cell);
  const runs = log.filter((e, i) => i === 0 || e.node !== log[i - 1].node).map((e) => `${e.writer}@${e.seq}`);
  t.log(`writers in order: ${runs.join(' → ')}`);
  t.true(log.every((e, i) => i === 0 || e.seq >= log[i - 1].seq), 'a write fenced by an older election node never follows a newer one');
  t.is(new Set(runs).size, runs.length, 'each leadership is one unbroken run of writes');
  t.true(runs.length >= 2);
  t.deepEqual(loops.flatMap((l) => l.tally.errors).filter((c) => !['TIMEOUT', 'CONNECTION_LOSS', 'SESSION_EXPIRED'].includes(c)), []);
});

test('digest ACL: scheduler/ and the election nodes are written by the digest holder only; the world reads them', async (t) => {
  const zk = sharedZk();
  // its own root: the ancestors the protected candidate creates are protected too
  const cell = `/guarded${process.pid}${uniqueCell()}`;
  const secret = 'sched:elect-Pa55';
  const a = await candidate(t, { connect: zk.connect, cell, instance: 'guarded', digest: secret });
  await oneLeader([a]);
  const world = await observer(t, zk.connect);
  const node = a.election.nodePath();
  t.deepEqual(await world.children(`${cell}/scheduler/election`), [node.split('/').pop()], 'world lists the candidates');
  t.is(String(await world.data(node)), 'guarded', 'world reads who they are');
  const noAuth = zookeeper.Exception.NO_AUTH;
  const code = (p) => p.then(() => 'OK', (e) => e.getCode?.());
  t.is(await code(world.create(`${cell}/scheduler/election/n_`, 'intruder', zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL)), noAuth, 'world cannot stand');
  t.is(await code(world.create(`${cell}/scheduler/other`, '{}')), noAuth, 'world cannot write under scheduler/');
  t.is(await code(world.remove(node)), noAuth, 'world cannot depose the leader');
  t.is(await code(world.setData(node, 'x')), noAuth);
  t.is(await code(world.setData(`${cell}/scheduler`, 'x')), noAuth);
  t.true(a.election.isLeader());
  t.false(a.logs().some((l) => JSON.stringify(l).includes('elect-Pa55')), 'the secret is never logged');

  // a daemon without the digest cannot stand: each round fails (an 'error' event, retried), nothing crashes
  const outsider = await candidate(t, { connect: zk.connect, cell, instance: 'outsider', join: false });
  await waitFor(() => outsider.errors.length >= 2, { what: 'rounds refused' });
  t.is(outsider.errors[0].code, 'NO_AUTH');
  t.false(outsider.election.isLeader());
  t.is(outsider.election.nodePath(), undefined);
  t.is(outsider.logs().filter((l) => /election round failed/.test(l.msg)).length, 1, 'one warning, not one per retry');
  t.true(a.election.isLeader());
});

test('a restarted daemon removes the election node its killed process left, instead of waiting for its session to expire', async (t) => {
  const zk = sharedZk();
  const cell = uniqueCell();
  const obs = await observer(t, zk.connect);
  // a long session: waiting for its expiry would take 30 s
  const child = await childCandidate(t, { connect: zk.connect, cell, instance: 'phoenix', sessionTimeoutMs: 30_000 });
  await waitFor(() => child.lines.some((l) => l.event === 'leader'), { what: 'the child leads' });
  const other = await candidate(t, { connect: zk.connect, cell, instance: 'other' });
  await child.kill9();
  t.truthy(await obs.stat(child.node), 'its node outlives it');

  const again = await candidate(t, { connect: zk.connect, cell, instance: 'phoenix' });
  await waitFor(async () => (await obs.stat(child.node)) === null, { timeoutMs: 5000, what: 'the old node removed' });
  const leader = await oneLeader([other, again], 'other leads, well before the old session expires');
  t.is(leader.instance, 'other');
  t.true(again.logs().some((l) => /removed our election node of an earlier session/.test(l.msg) && l.node === child.node));
});
