import test from 'ava';
import { create, healthDaemon, serviceUser, spec, until, waitFor } from './_service.mjs';

// sd_notify under a real daemon: services written for systemd's Type=notify (a Python one
// using only its socket module, and systemd's own systemd-notify) work unchanged.

test('notify.ready: a Python service that sends READY=1 late is ready only then; STATUS= is its statusText', async (t) => {
  const d = await healthDaemon(t);
  const c = '0.late.alice.cell';
  const s = await create(d, spec(c, 'bin/notifier', { env: { READY_AFTER_MS: '1500' }, notify: { ready: true } }));
  t.is(s.state, 'running');
  t.false(s.ready);
  const warming = await until(d, c, (x) => x.statusText === 'warming up', 'STATUS=warming up');
  t.false(warming.ready);
  const ready = await until(d, c, (x) => x.ready, 'ready after READY=1');
  t.is(ready.statusText, 'serving');
  t.is(ready.pid, s.pid);
});

test('notify.ready with systemd-notify itself', async (t) => {
  const d = await healthDaemon(t);
  const c = '0.sdnotify.alice.cell';
  const s = await create(d, spec(c, 'bin/sd-ready', { notify: { ready: true } }));
  t.false(s.ready);
  const ready = await until(d, c, (x) => x.ready, 'ready after systemd-notify --ready');
  t.is(ready.statusText, 'ready by systemd-notify');
});

test('watchdog: a service that stops sending WATCHDOG=1 is restarted with reason watchdog; one that keeps sending is not', async (t) => {
  const d = await healthDaemon(t);
  const stops = '0.dog.alice.cell';
  const keeps = '0.good.alice.cell';
  const s = await create(d, spec(stops, 'bin/notifier', { env: { WATCHDOG_EVERY_MS: '200', WATCHDOG_PINGS: '5' }, notify: { ready: true, watchdogMs: 800 } }));
  const k = await create(d, spec(keeps, 'bin/notifier', { env: { WATCHDOG_EVERY_MS: '200' }, notify: { ready: true, watchdogMs: 800 } }));
  const again = await until(d, stops, (x) => x.restarts >= 1 && x.pid !== s.pid && x.state === 'running', 'restarted by the watchdog', 20_000);
  t.is(again.lastExit.reason, 'watchdog');
  // the service saw its interval the way systemd gives it
  const { readFileSync } = await import('node:fs');
  t.regex(readFileSync(`${again.runtimeDir}/logs/stdout.log`, 'utf8'), /watchdog usec 800000/);
  const good = await until(d, keeps, (x) => x.ready, 'the other one ready');
  t.is(good.restarts, 0);
  t.is(good.pid, k.pid);
});

test('the notify socket is root\'s: outside the runtime dir, only the service user can send, and NOTIFY_SOCKET names it', async (t) => {
  const d = await healthDaemon(t);
  const c = '0.sock.alice.cell';
  const user = serviceUser();
  const s = await create(d, spec(c, 'bin/notifier', { user: user.name, env: { READY_AFTER_MS: '1000' }, notify: { ready: true } }));
  const { statSync, readFileSync } = await import('node:fs');
  // read once the service's own program runs (a 201 is the spawn: the wrapper may still be exec'ing)
  const sock = await waitFor(() => {
    const env = readFileSync(`/proc/${s.pid}/environ`, 'utf8').split('\0');
    return env.find((e) => e.startsWith('NOTIFY_SOCKET='))?.slice('NOTIFY_SOCKET='.length);
  }, { what: 'NOTIFY_SOCKET in the service environment' });
  t.false(sock.startsWith(s.runtimeDir), `${sock} is outside ${s.runtimeDir}`);
  t.true(statSync(sock).isSocket());
  t.is(statSync(sock).uid, user.uid);
  t.is(statSync(sock).mode & 0o077, 0, 'only the service user (and root) may send');
  const dir = statSync(sock.replace(/\/notify\.sock$/, ''));
  t.is(dir.uid, 0);
  t.is(dir.gid, user.gid);
  t.is(dir.mode & 0o7777, 0o750);
  // and the user's READY=1 arrives
  t.true((await until(d, c, (x) => x.ready, 'ready')).ready);
});
