import test from 'ava';
import { HealthChecks } from '../../dist/health/index.js';
import { freePort, waitFor } from '../helpers/tmp.mjs';
import { check, httpServer, tcpServer } from './_servers.mjs';

const target = (ports = {}) => ({ ports, cwd: '/', env: { PATH: process.env.PATH } });

/** Watches one service and records what the handlers were told. */
function watch(t, checks, ports, { startedAt = Date.now() } = {}) {
  const hc = new HealthChecks();
  t.teardown(() => hc.close());
  const changes = [];
  const dead = [];
  hc.watch('0.web.u.c', checks, target(ports), startedAt, { onChange: (s) => changes.push(s), onDead: (n) => dead.push(n) });
  return { hc, changes, dead };
}

/** Waits for `n` more results of the service's first check (its `at` moving on). */
async function moreResults(hc, n) {
  const seen = new Set();
  await waitFor(() => {
    const at = hc.statuses('0.web.u.c')[0]?.at;
    if (at) seen.add(at);
    return seen.size >= n;
  }, { what: `${n} results` });
}

test('a web server that becomes ready after a delay: pending, failing, then passing', async (t) => {
  let readyAt = Infinity;
  const { port } = await httpServer(t, (req, res) => res.writeHead(Date.now() >= readyAt ? 200 : 503).end());
  const { hc, changes, dead } = watch(t, [check({ name: 'web', http: { port: 'http', path: '/healthz' }, intervalMs: 100 })], { http: port });
  t.like(hc.statuses('0.web.u.c'), [{ name: 'web', type: 'readiness', status: 'pending', output: '', at: null }]);
  await waitFor(() => hc.statuses('0.web.u.c')[0].status === 'failing', { what: 'failing' });
  await moreResults(hc, 3);
  readyAt = Date.now();
  await waitFor(() => hc.statuses('0.web.u.c')[0].status === 'passing', { what: 'passing' });
  await moreResults(hc, 2);
  // one change per status change, not one per result
  t.deepEqual(changes.map((s) => `${s[0].status} ${s[0].output}`), ['failing HTTP 503', 'passing HTTP 200']);
  t.true(!Number.isNaN(Date.parse(changes[1][0].at)));
  t.deepEqual(dead, [], 'readiness never asks for a restart');
});

test('liveness against a hung server: dead after failureThreshold timeouts, once per streak', async (t) => {
  const { port } = await httpServer(t, () => {});
  const srv = await tcpServer(t);
  const { hc, dead } = watch(t, [
    check({ name: 'hung', type: 'liveness', http: { port, path: '/' }, intervalMs: 100, timeoutMs: 150, failureThreshold: 2 }),
    check({ name: 'alive', type: 'liveness', tcp: { port: srv.port }, intervalMs: 100 }),
  ]);
  await waitFor(() => dead.length === 1, { what: 'onDead' });
  t.deepEqual(dead, ['hung']);
  await moreResults(hc, 3);
  t.deepEqual(dead, ['hung'], 'no second onDead while the same streak goes on');
  t.like(hc.statuses('0.web.u.c'), [
    { name: 'hung', type: 'liveness', status: 'failing', output: 'timed out after 150 ms' },
    { name: 'alive', type: 'liveness', status: 'passing' },
  ]);
});

test('liveness within its grace: failing is shown but never kills', async (t) => {
  const port = await freePort();
  const { hc, dead } = watch(t, [check({ name: 'alive', type: 'liveness', tcp: { port }, intervalMs: 100, failureThreshold: 1, graceMs: 600_000 })]);
  await moreResults(hc, 4);
  t.is(hc.statuses('0.web.u.c')[0].status, 'failing');
  t.deepEqual(dead, []);
});

test('liveness after its grace (a service started long ago) kills at the threshold', async (t) => {
  const port = await freePort();
  const { dead } = watch(t, [check({ name: 'alive', type: 'liveness', tcp: { port }, intervalMs: 100, failureThreshold: 1, graceMs: 600_000 })], {}, { startedAt: Date.now() - 700_000 });
  await waitFor(() => dead.length === 1, { what: 'onDead' });
  t.deepEqual(dead, ['alive']);
});

test('watch again starts over from pending; unwatch stops and forgets; close leaves no timer', async (t) => {
  const srv = await tcpServer(t);
  const { hc, changes } = watch(t, [check({ name: 'alive', tcp: { port: srv.port }, intervalMs: 100 })]);
  await waitFor(() => hc.statuses('0.web.u.c')[0].status === 'passing', { what: 'passing' });
  const onChange = [];
  hc.watch('0.web.u.c', [check({ name: 'alive', tcp: { port: srv.port }, intervalMs: 100 })], target(), Date.now(), { onChange: (s) => onChange.push(s), onDead() {} });
  t.is(hc.statuses('0.web.u.c')[0].status, 'pending');
  await waitFor(() => onChange.length === 1, { what: 'the new watch\'s first change' });
  t.is(changes.length, 1, 'the replaced watch hears nothing more');
  t.is(hc.schedulerStats.size, 1);
  hc.unwatch('0.web.u.c');
  hc.unwatch('0.web.u.c');
  t.deepEqual(hc.statuses('0.web.u.c'), []);
  t.is(hc.schedulerStats.size, 0);
  hc.close();
  t.is(hc.schedulerStats.pendingTimers, 0);
});
