import test from 'ava';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Cgroups } from '../../dist/cgroups/index.js';
import { processStartTime } from '../../dist/lib/proc.js';
import { waitFor } from '../helpers/tmp.mjs';
import { HIERARCHIES, removeCgroupTree as cleanUp } from '../helpers/cgroups.mjs';

// Real cgroups, real processes. This host is v1 with a hybrid (controller-less) cgroup2 mount
// at /sys/fs/cgroup/unified; every test makes its own parent so tests and daemons never meet.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A logger that keeps what it was told. */
function recorder() {
  const lines = [];
  const at = (level) => (obj, msg) => lines.push({ level, ...obj, msg });
  return { lines, info: at('info'), warn: at('warn'), debug: at('debug'), error: at('error') };
}

async function setUp(t) {
  const parent = `/nodee-test-${randomBytes(6).toString('hex')}`;
  t.teardown(() => cleanUp(parent));
  const log = recorder();
  const cgroups = await Cgroups.detect({ parent, instance: 'test', log });
  return { parent, cgroups, log };
}

/** Spawn `argv` the way the runner will: a tiny sh wrapper writes its own pid to each procs file, then execs. */
function spawnIn(cg, argv, opts = {}) {
  // the wrapper joins each hierarchy in turn; "entered" on stderr says it joined them all
  const child = spawn('/bin/sh', ['-c', 'for f in $NODEE_PROCS; do echo $$ > "$f" || exit 99; done; echo entered >&2; exec "$@"', 'sh', ...argv], {
    env: { ...process.env, NODEE_PROCS: cg.procsFiles.join(' ') },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...opts,
  });
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.out = '';
  child.stdout.on('data', (d) => (child.out += d));
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  child.entered = waitFor(() => err.startsWith('entered'), { what: 'the child to join every hierarchy' });
  child.entered.catch(() => {}); // awaited where it matters; never an unhandled rejection elsewhere
  return child;
}

test('detect: a v1/hybrid host with a usable parent is cgroup1', async (t) => {
  const { parent, cgroups, log } = await setUp(t);
  t.is(cgroups.containment, 'cgroup1');
  t.false(log.lines.some((l) => l.level === 'warn'));
  for (const h of HIERARCHIES) t.true(existsSync(`${h}${parent}`), h);
});

test('detect: a parent that is not an absolute cgroup path gives none, and says why', async (t) => {
  for (const parent of ['nodee-relative', '/a/../b', '/a b']) {
    const log = recorder();
    const cgroups = await Cgroups.detect({ parent, instance: 'test', log });
    t.is(cgroups.containment, 'none');
    const warns = log.lines.filter((l) => l.level === 'warn');
    t.is(warns.length, 1);
    t.regex(warns[0].reason, /absolute cgroup path/);
    t.throws(() => cgroups.handle('x'), { message: /no cgroups on this host/ });
  }
});

test('detect: a read-only parent gives none, says why and leaves nothing behind', async (t) => {
  const ro = `/nodee-test-ro-${randomBytes(6).toString('hex')}`;
  const dir = `/sys/fs/cgroup/memory${ro}`;
  mkdirSync(dir);
  t.teardown(async () => {
    try { execFileSync('umount', [dir]); } catch {}
    await cleanUp(ro);
  });
  execFileSync('mount', ['--bind', '-o', 'ro', dir, dir]);
  const log = recorder();
  const cgroups = await Cgroups.detect({ parent: `${ro}/inner`, instance: 'test', log });
  t.is(cgroups.containment, 'none');
  const warns = log.lines.filter((l) => l.level === 'warn');
  t.is(warns.length, 1);
  t.regex(warns[0].reason, /EROFS|read-only/);
  for (const h of HIERARCHIES) t.false(existsSync(`${h}${ro}/inner`), h);
});

test('names are validated', async (t) => {
  const { cgroups } = await setUp(t);
  for (const bad of ['../x', '..', '.', 'a/b', 'Upper', '', 'a..b']) {
    await t.throwsAsync(cgroups.create(bad, {}), { message: /unsafe cgroup name/ }, bad);
  }
  // a name that meets a v1 control file is refused, not taken for an existing cgroup
  await t.throwsAsync(cgroups.create('tasks', {}), { message: /control file/ });
});

test('a child entering before exec is in every hierarchy; usage reads; a handle after a restart sees it', async (t) => {
  const { parent, cgroups } = await setUp(t);
  const cg = await cgroups.create('svc-a', {});
  t.is(cg.procsFiles.length, 6); // memory, cpu, cpuacct, pids, freezer, unified
  t.is(await cgroups.create('svc-a', {}).then((c) => c.procsFiles.length), 6); // idempotent
  const child = spawnIn(cg, ['sleep', '1000']);
  await child.entered;
  t.deepEqual(await cg.pids(), [child.pid]);
  for (const f of cg.procsFiles) t.is(readFileSync(f, 'utf8').trim(), String(child.pid), f);
  const u = await cg.usage();
  t.true(u.memoryBytes > 0);
  t.true(u.cpuSeconds >= 0);
  t.is(u.pids, 1);
  t.is(await cg.oomKills(), 0);

  const again = await Cgroups.detect({ parent, instance: 'test', log: recorder() }); // "daemon restart"
  t.deepEqual(again.handle('svc-nope').pids(), [], 'a cgroup that is not there holds nothing');
  const reopened = again.handle('svc-a');
  t.deepEqual(await reopened.pids(), [child.pid]);
  await reopened.kill();
  t.deepEqual(await child.exited, { code: null, signal: 'SIGKILL' });
});

test('kill() ends a setsid, env -i grandchild too; remove() then succeeds', async (t) => {
  const { parent, cgroups } = await setUp(t);
  const cg = await cgroups.create('svc-b', {});
  const child = spawnIn(cg, ['sh', '-c', 'setsid sh -c "env -i sleep 1000 &"; exec sleep 1000']);
  const pids = await waitFor(async () => {
    const p = await cg.pids();
    return p.length === 2 && p.every((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep')) && p;
  }, { what: 'two sleeps' });
  const grandchild = pids.find((p) => p !== child.pid);
  t.is(readFileSync(`/proc/${grandchild}/environ`, 'utf8'), ''); // it cleared its env
  t.not(readFileSync(`/proc/${grandchild}/stat`, 'utf8').split(') ')[1].split(' ')[3], String(child.pid)); // another session
  await cg.kill();
  t.deepEqual(await cg.pids(), []);
  t.deepEqual(await child.exited, { code: null, signal: 'SIGKILL' });
  t.is(processStartTime(grandchild), undefined); // gone (or a zombie awaiting its reaper)
  await cg.remove();
  for (const h of HIERARCHIES) t.false(existsSync(`${h}${parent}/svc-b`), h);
  await cg.remove(); // again: nothing to do
});

test('kill() on v1 without the unified mirror: the freezer stops a forking loop while each pid gets SIGKILL', async (t) => {
  const { cgroups } = await setUp(t);
  const cg = await cgroups.create('svc-v1', {});
  // enter the v1 hierarchies only, so cgroup.kill (unified) cannot see it: the freezer path must
  const v1Only = { procsFiles: cg.procsFiles.filter((f) => !f.includes('/unified/')) };
  const child = spawnIn(v1Only, ['sh', '-c', 'while :; do sleep 1000 & sleep 0.01; done']);
  await waitFor(async () => (await cg.pids()).length >= 5, { what: 'a few children' });
  await cg.kill();
  t.deepEqual(await cg.pids(), []);
  t.deepEqual(await child.exited, { code: null, signal: 'SIGKILL' });
  await cg.remove();
});

test('memory limit: a process allocating past it is OOM-killed and counted', async (t) => {
  const { cgroups } = await setUp(t);
  const cg = await cgroups.create('svc-mem', { memoryMB: 50 });
  const child = spawnIn(cg, ['python3', '-c', 'b=bytearray(200*1024*1024); import time; time.sleep(100)']);
  t.deepEqual(await child.exited, { code: null, signal: 'SIGKILL' });
  t.true((await cg.oomKills()) >= 1);
});

test('pids limit: forks fail at the limit', async (t) => {
  const { cgroups } = await setUp(t);
  const cg = await cgroups.create('svc-pids', { pids: 10 });
  const script = [
    'import os, sys, time',
    'n = 0',
    'for i in range(40):',
    '    try: pid = os.fork()',
    '    except OSError: break',
    '    if pid == 0:',
    '        time.sleep(1000); os._exit(0)',
    '    n += 1',
    'print(n, flush=True)',
    'time.sleep(1000)',
  ].join('\n');
  const child = spawnIn(cg, ['python3', '-c', script]);
  const forked = Number(await waitFor(() => child.out.trim(), { what: 'the fork count' }));
  t.true(forked < 10, `forked ${forked}`);
  t.true((await cg.pids()).length <= 10);
  t.true((await cg.usage()).pids <= 10);
  await cg.kill();
  t.deepEqual(await cg.pids(), []);
});

test('cpu quota: a busy loop at cpu 0.2 gets well under a core', async (t) => {
  const { cgroups } = await setUp(t);
  const cg = await cgroups.create('svc-cpu', { cpu: 0.2 });
  spawnIn(cg, ['sh', '-c', 'while :; do :; done']);
  await sleep(300);
  const t0 = process.hrtime.bigint();
  const c0 = (await cg.usage()).cpuSeconds;
  await sleep(3000);
  const c1 = (await cg.usage()).cpuSeconds;
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const share = (c1 - c0) / wall;
  t.true(share > 0, `share ${share}`);
  t.true(share < 0.45, `share ${share}`);
  await cg.kill();
  // lifting the limit is setLimits({}): the quota file reads unlimited again
  await cg.setLimits({});
  t.is(readFileSync(cg.procsFiles.find((f) => f.includes('/cpu/')).replace('cgroup.procs', 'cpu.cfs_quota_us'), 'utf8').trim(), '-1');
});

test('mount parsing: this host, and a pure cgroup2 systemd host', async (t) => {
  const { parseMountinfo, parseProcCgroup } = await import('../../dist/cgroups/mounts.js');
  const here = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  for (const c of ['memory', 'cpu', 'pids', 'freezer']) t.truthy(here.find((h) => h.controllers.includes(c)), c);
  t.is(here.find((h) => h.v2).mountPoint, '/sys/fs/cgroup/unified');
  // a pure v2 host: one cgroup2 mount, the `0::` line names our unit
  const v2 = parseMountinfo('30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n');
  t.deepEqual(v2, [{ controllers: ['unified'], v2: true, mountPoint: '/sys/fs/cgroup', root: '/', superOptions: ['rw', 'nsdelegate', 'memory_recursiveprot'] }]);
  t.deepEqual([...parseProcCgroup('0::/system.slice/nodee.service\n')], [['unified', '/system.slice/nodee.service']]);
  t.deepEqual([...parseProcCgroup('4:memory:/a\n2:cpu,cpuacct:/b\n1:name=systemd:/c\n')], [['memory', '/a'], ['cpu,cpuacct', '/b']]);
});

test('favorDynmods: detect remounts the cgroup2 hierarchy with favordynmods and keeps its other options', async (t) => {
  const line = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.includes(' - cgroup2 '));
  const superOptions = () => line().split(' - ')[1].split(' ')[2].split(',');
  const before = superOptions().filter((o) => o !== 'favordynmods');
  // clear it first (util-linux would otherwise carry the current options into the remount)
  execFileSync('mount', ['--options-mode=ignore', '-o', `remount,${before.filter((o) => o !== 'rw').concat('rw').join(',')}`, line().split(' ')[4]]);
  const parent = `/nodee-test-${randomBytes(6).toString('hex')}`;
  t.teardown(() => cleanUp(parent));
  const log = recorder();
  const cgroups = await Cgroups.detect({ parent, instance: 'test', favorDynmods: true, log });
  t.is(cgroups.containment, 'cgroup1');
  const after = superOptions();
  t.true(after.includes('favordynmods'), after.join(','));
  for (const o of before) t.true(after.includes(o), `${o} was kept`);
});
