import test from 'ava';
import { killServicesUnder, startDaemon } from '../helpers/daemon.mjs';
import { create, get, healthDaemon, spec, until } from './_service.mjs';

// `requires`: start order by readiness. A ← B ← C: B requires A, C requires B. Each is a web
// server ready 600 ms after it starts, so a service started before what it requires is ready
// would show in the start times.

const A = '0.a.alice.cell';
const B = '0.b.alice.cell';
const C = '0.c.alice.cell';
const web = (c, requires) =>
  spec(c, 'bin/web', {
    env: { READY_AFTER_MS: '600' },
    requires,
    checks: [{ name: 'web', type: 'readiness', http: { port: 'http', path: '/healthz' }, intervalMs: 100 }],
  });

/** Asserts each of the chain started after the one it requires was ready. */
async function assertOrder(t, d) {
  const [a, b, c] = await Promise.all([A, B, C].map((x) => until(d, x, (s) => s.ready, 'ready', 20_000)));
  const readyAt = (s) => Date.parse(s.checks.find((k) => k.status === 'passing').at);
  t.true(Date.parse(b.startedAt) >= readyAt(a) - 150, `B started ${b.startedAt}, A ready by ${a.checks[0].at}`);
  t.true(Date.parse(c.startedAt) >= readyAt(b) - 150, `C started ${c.startedAt}, B ready by ${b.checks[0].at}`);
  t.true(Date.parse(b.startedAt) > Date.parse(a.startedAt) + 400, `A ${a.startedAt} B ${b.startedAt} C ${c.startedAt}`);
  t.true(Date.parse(c.startedAt) > Date.parse(b.startedAt) + 400);
}

test('a chain posted in one batch as C, B, A starts A, then B, then C, each when the one before is ready', async (t) => {
  const d = await healthDaemon(t);
  const res = await d.api('POST', '/v1/services', { services: [web(C, [B]), web(B, [A]), web(A, [])] });
  t.is(res.status, 201, JSON.stringify(res.body));
  t.deepEqual(res.body.services.map((s) => s.coordinate), [C, B, A], 'answered in the order posted');
  const c0 = res.body.services[0];
  t.is(c0.state, 'waiting');
  t.is(c0.pid, null);
  await assertOrder(t, d);
});

test('started one by one in the wrong order (C, B, A), they wait and start in the right one', async (t) => {
  const d = await healthDaemon(t);
  for (const s of [web(A, []), web(B, [A]), web(C, [B])]) await create(d, s);
  await Promise.all([A, B, C].map((x) => until(d, x, (s) => s.ready, 'ready')));
  for (const x of [C, B, A]) t.is((await d.api('POST', `/v1/services/${x}/stop`)).status, 200);
  const c = (await d.api('POST', `/v1/services/${C}/start`)).body;
  t.is(c.state, 'waiting');
  const b = (await d.api('POST', `/v1/services/${B}/start`)).body;
  t.is(b.state, 'waiting');
  t.is((await get(d, C)).state, 'waiting');
  await d.api('POST', `/v1/services/${A}/start`);
  await assertOrder(t, d);
  // stopping what is required does not stop its dependents
  await d.api('POST', `/v1/services/${A}/stop`);
  t.is((await get(d, B)).state, 'running');
});

test('unknown coordinates and cycles are 400 at create, and nothing is made', async (t) => {
  const d = await healthDaemon(t);
  const unknown = await d.api('POST', '/v1/services', web(B, ['0.nowhere.alice.cell']));
  t.is(unknown.status, 400);
  t.regex(unknown.body.error.message, /requires: no service 0\.nowhere\.alice\.cell/);
  const self = await d.api('POST', '/v1/services', web(B, [B]));
  t.is(self.status, 400);
  t.regex(self.body.error.message, /itself/);
  const cycle = await d.api('POST', '/v1/services', { services: [web(A, [C]), web(B, [A]), web(C, [B])] });
  t.is(cycle.status, 400, JSON.stringify(cycle.body));
  t.regex(cycle.body.error.message, /cycle/);
  for (const x of [A, B, C]) t.is((await d.api('GET', `/v1/services/${x}`)).status, 404);
  const bad = await d.api('POST', '/v1/services', web(B, ['not a coordinate']));
  t.is(bad.status, 400);
  t.regex(bad.body.error.message, /requires/);
});

test('after a daemon restart the order holds again for services that have to be started', async (t) => {
  const d = await healthDaemon(t);
  await d.api('POST', '/v1/services', { services: [web(A, []), web(B, [A]), web(C, [B])] });
  await Promise.all([A, B, C].map((x) => until(d, x, (s) => s.ready, 'ready', 20_000)));
  // the daemon dies, and so does every service (as after a reboot): all three must be started again
  await d.kill9();
  killServicesUnder(d.prefix);
  const d2 = await startDaemon(t, { prefix: d.prefix });
  await assertOrder(t, d2);
});
