import test from 'ava';
import { create, get, healthDaemon, serviceUser, spec, until } from './_service.mjs';

// Readiness and liveness checks on real services under a real daemon (contract: "Health
// checks, readiness, dependencies, upgrades").

test('readiness: a web server that is ready after a delay is ready:false, then true; the check says why', async (t) => {
  const d = await healthDaemon(t);
  const c = '0.slow.alice.cell';
  const s = await create(d, spec(c, 'bin/web', {
    env: { READY_AFTER_MS: '1500' },
    checks: [{ name: 'web', type: 'readiness', http: { port: 'http', path: '/healthz' }, intervalMs: 200 }],
  }));
  t.is(s.state, 'running');
  t.false(s.ready);
  // (connection refused until Python has bound its port, then 503)
  const failing = await until(d, c, (x) => x.checks[0]?.status === 'failing' && /503/.test(x.checks[0].output), 'its readiness check failing with 503');
  t.false(failing.ready);
  t.regex(failing.checks[0].output, /503/);
  t.is(failing.checks[0].type, 'readiness');
  const ready = await until(d, c, (x) => x.ready, 'ready');
  t.is(ready.checks[0].status, 'passing');
  t.is(ready.pid, s.pid, 'a failing readiness check never restarts');
  t.is(ready.restarts, 0);
  t.false(Number.isNaN(Date.parse(ready.checks[0].at)));
});

test('a service without checks or notify is ready while running, not once stopped', async (t) => {
  const d = await healthDaemon(t);
  const c = '0.plain.alice.cell';
  const s = await create(d, spec(c, 'bin/web'));
  t.true(s.ready);
  t.deepEqual(s.checks, []);
  t.is(s.statusText, null);
  const stopped = (await d.api('POST', `/v1/services/${c}/stop`)).body;
  t.false(stopped.ready);
});

test('liveness: a server that hangs times out its http check and is restarted by policy with reason liveness:<name>', async (t) => {
  const d = await healthDaemon(t);
  const c = '0.hang.alice.cell';
  const s = await create(d, spec(c, 'bin/web', {
    env: { HANG_AFTER_MS: '1000' },
    checks: [{ name: 'alive', type: 'liveness', http: { port: 'http', path: '/' }, intervalMs: 200, timeoutMs: 300, failureThreshold: 2 }],
  }));
  const again = await until(d, c, (x) => x.restarts >= 1 && x.state === 'running' && x.pid !== s.pid, 'restarted', 20_000);
  t.is(again.lastExit.reason, 'liveness:alive');
  const log = d.events().find((e) => e.level === 'warn' && /unhealthy/.test(e.msg ?? '') && JSON.stringify(e).includes(c));
  t.truthy(log, 'a warn line names the service and the reason');
  t.is(log.reason, 'liveness:alive');
});

test('liveness: a failing check within graceMs does not count; policy never leaves it exited with the reason', async (t) => {
  const d = await healthDaemon(t);
  const c = '0.grace.alice.cell';
  // nothing listens on port 1: the tcp check always fails
  const s = await create(d, spec(c, 'bin/web', {
    restart: { policy: 'never' },
    checks: [{ name: 'nothing', type: 'liveness', tcp: { port: 1 }, intervalMs: 100, failureThreshold: 2, graceMs: 1500 }],
  }));
  await until(d, c, (x) => x.checks[0]?.status === 'failing', 'failing');
  const early = await get(d, c);
  t.is(early.state, 'running', 'inside the grace the failures do not count');
  t.is(early.pid, s.pid);
  const done = await until(d, c, (x) => x.state === 'exited', 'ended after the grace');
  t.is(done.lastExit.reason, 'liveness:nothing');
  t.false(done.ready);
});

test('exec checks run as the service user in its runtime dir; readiness follows a file the service writes', async (t) => {
  const d = await healthDaemon(t);
  const c = '0.execy.alice.cell';
  const user = serviceUser();
  const s = await create(d, spec(c, 'bin/web', {
    user: user.name,
    checks: [{ name: 'flag', type: 'readiness', exec: ['sh', '-c', 'test -e ready.flag && id -u'], intervalMs: 200 }],
  }));
  await until(d, c, (x) => x.checks[0]?.status === 'failing', 'failing without the file');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${s.runtimeDir}/ready.flag`, '');
  const ready = await until(d, c, (x) => x.ready, 'ready once the file exists');
  t.is(ready.checks[0].output, `exit 0: ${user.uid}`);
});

test('checks are validated at create: unknown keys, two probes, duplicate names are 400 naming the field', async (t) => {
  const d = await healthDaemon(t);
  const bad = [
    [{ name: 'x', type: 'readiness', http: { port: 'http' }, tcp: { port: 'http' } }, /exactly one/],
    [{ name: 'x', type: 'sometimes', tcp: { port: 'http' } }, /type/],
    [{ name: 'x', type: 'readiness', tcp: { port: 'http' }, every: 5 }, /every/],
  ];
  for (const [check, message] of bad) {
    const res = await d.api('POST', '/v1/services', spec('0.bad.alice.cell', 'bin/web', { checks: [check] }));
    t.is(res.status, 400, JSON.stringify(check));
    t.is(res.body.error.code, 'BAD_REQUEST');
    t.regex(res.body.error.message, message);
    t.regex(res.body.error.message, /checks/);
  }
  const dup = await d.api('POST', '/v1/services', spec('0.bad.alice.cell', 'bin/web', { checks: [{ name: 'a', type: 'readiness', tcp: { port: 'http' } }, { name: 'a', type: 'liveness', tcp: { port: 'http' } }] }));
  t.is(dup.status, 400);
  t.regex(dup.body.error.message, /unique/);
  t.is((await d.api('GET', '/v1/services/0.bad.alice.cell')).status, 404, 'nothing was made');
});
