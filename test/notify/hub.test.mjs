import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, symlink, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { tempDir, waitFor } from '../helpers/tmp.mjs';
import { collectingHub, pySend, run } from './_hub.mjs';

// The hub with real clients: systemd's own systemd-notify and a Python sd_notify client,
// over real AF_UNIX datagram sockets held by the real Perl relay.

const SYSTEMD_NOTIFY = '/usr/bin/systemd-notify';

test('systemd-notify --ready --status reaches the hub and exits 0', async (t) => {
  const { hub, messages } = collectingHub(t);
  const dir = path.join(await tempDir(t, 'nodee-nfy-'), 'svc');
  const { socketPath } = await hub.open('svc', { dir });
  t.is(socketPath, path.join(dir, 'notify.sock'));
  // Outside systemd it still sends to $NOTIFY_SOCKET; its BARRIER=1 waits for the fd it
  // passes to be closed, which the kernel does when the relay reads the datagram without
  // taking ancillary data: so it returns, and with 0.
  const r = await run(SYSTEMD_NOTIFY, ['--ready', '--status=Listening on 8080'], { NOTIFY_SOCKET: socketPath });
  t.is(r.code, 0, r.out);
  await waitFor(() => messages.some((m) => m.ready), { what: 'READY=1' });
  t.like(messages.find((m) => m.ready), { key: 'svc', ready: true, status: 'Listening on 8080' });
  const r2 = await run(SYSTEMD_NOTIFY, ['WATCHDOG=1', 'STATUS=still here'], { NOTIFY_SOCKET: socketPath });
  t.is(r2.code, 0, r2.out);
  await waitFor(() => messages.some((m) => m.watchdog === 'ping' && m.status === 'still here'), { what: 'WATCHDOG=1' });
});

test('a Python client: STATUS first, READY=1 late, then WATCHDOG=1 again and again, in order', async (t) => {
  const { hub, messages } = collectingHub(t);
  const { socketPath } = await hub.open('py', { dir: path.join(await tempDir(t, 'nodee-nfy-'), 'py') });
  const sent = ['STATUS=warming up', 'STATUS=loading caches', 'READY=1\nSTATUS=ready', ...Array(10).fill('WATCHDOG=1')];
  const r = await pySend(socketPath, sent, { gapMs: 30 });
  t.is(r.code, 0, r.out);
  await waitFor(() => messages.length === sent.length, { what: 'all 13 messages' });
  t.deepEqual(messages.slice(0, 3), [
    { key: 'py', status: 'warming up' },
    { key: 'py', status: 'loading caches' },
    { key: 'py', ready: true, status: 'ready' },
  ]);
  t.true(messages.slice(3).every((m) => m.watchdog === 'ping'));
});

test('garbage (random bytes, 60 KiB, empty, NULs, newlines) never hurts the hub; good messages still arrive', async (t) => {
  const { hub, messages, refused } = collectingHub(t);
  const { socketPath } = await hub.open('junk', { dir: path.join(await tempDir(t, 'nodee-nfy-'), 'junk') });
  const relayPid = hub.relayPid;
  const garbage = [randomBytes(60 * 1024), Buffer.alloc(0), randomBytes(300), Buffer.from('\n\n\0\0READY\0=1\n'), randomBytes(4097), Buffer.alloc(65000, 0x0a)];
  const r = await pySend(socketPath, [...garbage, 'STATUS=line1\nSTATUS=x\0y', 'READY=1']);
  t.is(r.code, 0, r.out);
  await waitFor(() => messages.some((m) => m.ready), { what: 'READY=1 after the garbage' });
  t.is(hub.relayPid, relayPid, 'the relay did not die');
  t.deepEqual(
    refused.map((x) => x.bytes),
    [4097, 4097, 4097],
    'the over-long ones are cut by the relay and refused whole',
  );
  t.true(messages.some((m) => m.status === 'line1'));
});

test('two services, two sockets: each message is reported under its own key', async (t) => {
  const { hub, messages } = collectingHub(t);
  const base = await tempDir(t, 'nodee-nfy-');
  const a = await hub.open('a', { dir: path.join(base, 'a') });
  const b = await hub.open('b', { dir: path.join(base, 'b') });
  await pySend(a.socketPath, ['STATUS=from a']);
  await pySend(b.socketPath, ['STATUS=from b']);
  await waitFor(() => messages.length === 2);
  t.deepEqual(messages.map((m) => `${m.key}:${m.status}`).sort(), ['a:from a', 'b:from b']);
});

test('close(key) removes the socket, is safe twice, and later sends fail', async (t) => {
  const { hub, messages } = collectingHub(t);
  const dir = path.join(await tempDir(t, 'nodee-nfy-'), 'c');
  const { socketPath } = await hub.open('c', { dir });
  t.true((await lstat(socketPath)).isSocket());
  await hub.close('c');
  await hub.close('c');
  await hub.close('never-opened');
  t.deepEqual(await readdir(dir), []);
  const r = await pySend(socketPath, ['READY=1']);
  t.is(r.out, 'ENOENT');
  t.is(messages.length, 0);
  // the key can be opened again
  await hub.open('c', { dir });
  await pySend(socketPath, ['READY=1']);
  await waitFor(() => messages.some((m) => m.key === 'c' && m.ready));
});

test('the directory is made root:gid 0750, a root service gets root:root 0700', async (t) => {
  const { hub } = collectingHub(t);
  const base = await tempDir(t, 'nodee-nfy-');
  await hub.open('g', { dir: path.join(base, 'g'), gid: 4321 });
  const g = await stat(path.join(base, 'g'));
  t.is(g.mode & 0o7777, 0o750);
  t.is(g.gid, 4321);
  t.is(g.uid, 0);
  const s = await stat(path.join(base, 'g', 'notify.sock'));
  t.is(s.mode & 0o777, 0o660);
  t.deepEqual([s.uid, s.gid], [0, 4321]);
  await hub.open('u', { dir: path.join(base, 'u'), uid: 4322, gid: 4321 });
  const us = await stat(path.join(base, 'u', 'notify.sock'));
  t.is(us.mode & 0o777, 0o600);
  t.deepEqual([us.uid, us.gid], [4322, 4321]);
  await hub.open('r', { dir: path.join(base, 'r') });
  t.is((await stat(path.join(base, 'r'))).mode & 0o7777, 0o700);
});

test('unsafe directories are refused (NOTIFY_FAILED): a link, a parent others can write, another user\'s dir', async (t) => {
  const { hub } = collectingHub(t);
  const base = await tempDir(t, 'nodee-nfy-');
  await mkdir(path.join(base, 'real'));
  await symlink(path.join(base, 'real'), path.join(base, 'link'));
  await t.throwsAsync(hub.open('l', { dir: path.join(base, 'link') }), { code: 'NOTIFY_FAILED', message: /not a directory owned by root/ });
  await t.throwsAsync(hub.open('l2', { dir: path.join(base, 'link', 'inside') }), { code: 'NOTIFY_FAILED', message: /not a directory owned by root/ });
  await mkdir(path.join(base, 'open'));
  await chmod(path.join(base, 'open'), 0o777);
  await t.throwsAsync(hub.open('o', { dir: path.join(base, 'open', 'svc') }), { code: 'NOTIFY_FAILED', message: /writable by others/ });
  await mkdir(path.join(base, 'theirs'));
  await run('chown', ['65534', path.join(base, 'theirs')]);
  await t.throwsAsync(hub.open('t', { dir: path.join(base, 'theirs') }), { code: 'NOTIFY_FAILED', message: /not a directory owned by root/ });
  await t.throwsAsync(hub.open('long', { dir: path.join(base, 'x'.repeat(120)) }), { code: 'NOTIFY_FAILED', message: /too long/ });
  // nothing was made through the link
  t.deepEqual(await readdir(path.join(base, 'real')), []);
});

test('a file (not a socket) already at the socket path is refused, not removed', async (t) => {
  const { hub } = collectingHub(t);
  const dir = path.join(await tempDir(t, 'nodee-nfy-'), 'f');
  await mkdir(dir);
  await run('touch', [path.join(dir, 'notify.sock')]);
  await t.throwsAsync(hub.open('f', { dir }), { code: 'NOTIFY_FAILED', message: /not a socket/ });
  t.true((await lstat(path.join(dir, 'notify.sock'))).isFile());
});

test('kill -9 of the relay: the hub starts another, binds the sockets again, and messages arrive', async (t) => {
  const { hub, messages, log } = collectingHub(t);
  const base = await tempDir(t, 'nodee-nfy-');
  const a = await hub.open('a', { dir: path.join(base, 'a') });
  const b = await hub.open('b', { dir: path.join(base, 'b') });
  const first = hub.relayPid;
  t.truthy(first);
  process.kill(first, 'SIGKILL');
  await waitFor(() => hub.relayPid && hub.relayPid !== first, { what: 'a new relay' });
  // sends made before the rebind are lost (ECONNREFUSED); keep sending until one arrives
  await waitFor(async () => (await pySend(a.socketPath, ['STATUS=after a']), messages.some((m) => m.status === 'after a')), { what: 'a message on a after the restart' });
  await waitFor(async () => (await pySend(b.socketPath, ['STATUS=after b']), messages.some((m) => m.status === 'after b')), { what: 'a message on b after the restart' });
  t.true(log.lines.some((l) => l.level === 'warn' && l.pid === first && l.signal === 'SIGKILL'));
});

test('the relay dies with the daemon: kill -9 of the process that holds the hub leaves no relay', async (t) => {
  const dir = path.join(await tempDir(t, 'nodee-nfy-'), 'd');
  const script = `
    const { NotifyHub } = await import(${JSON.stringify(path.resolve('dist/notify/index.js'))});
    const hub = new NotifyHub({ log: { info() {}, warn() {}, error() {}, debug() {} } });
    await hub.open('d', { dir: ${JSON.stringify(dir)} });
    console.log(hub.relayPid);
    setInterval(() => {}, 1000);`;
  const holder = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => holder.kill('SIGKILL'));
  const relayPid = Number(await new Promise((resolve) => holder.stdout.once('data', (d) => resolve(String(d).trim()))));
  t.true(relayPid > 0);
  t.true(alive(relayPid));
  holder.kill('SIGKILL');
  await waitFor(() => !alive(relayPid), { what: `relay ${relayPid} to exit` });
  t.pass();
});

/** Running and not a zombie waiting for a parent that does not reap. */
function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
