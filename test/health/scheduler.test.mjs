import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HealthScheduler } from '../../dist/health/index.js';
import { tempDir, waitFor } from '../helpers/tmp.mjs';
import { livePidsWhere } from '../services/helpers.mjs';
import { check, httpServer, tcpServer } from './_servers.mjs';

const target = (ports = {}, env = {}) => ({ ports, cwd: '/', env: { PATH: process.env.PATH, ...env } });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('1,000 tcp checks every second share one timer, and each runs 2-4 times in ~3 s', async (t) => {
  const srv = await tcpServer(t);
  const s = new HealthScheduler();
  t.teardown(() => s.close());
  const runs = new Map();
  let failed = 0;
  for (let i = 0; i < 1000; i++) {
    runs.set(`${i}.svc.u.c`, 0);
    s.add(`${i}.svc.u.c`, check({ name: 'alive', tcp: { port: 'p' } }), target({ p: srv.port }), (r) => {
      if (!r.ok) failed++;
      runs.set(`${i}.svc.u.c`, runs.get(`${i}.svc.u.c`) + 1);
    });
  }
  t.is(s.size, 1000);
  let maxTimers = 0;
  let armedSeen = 0;
  const sampler = setInterval(() => {
    maxTimers = Math.max(maxTimers, s.pendingTimers);
    if (s.pendingTimers === 1) armedSeen++;
  }, 5);
  await sleep(3000);
  clearInterval(sampler);
  s.close();
  const counts = [...runs.values()];
  t.is(failed, 0);
  t.deepEqual(counts.filter((n) => n < 2 || n > 4), [], `runs per check: min ${Math.min(...counts)}, max ${Math.max(...counts)}`);
  t.is(maxTimers, 1, 'never more than one timer armed');
  // sampled every 5 ms: on a loaded machine few samples land, so one seen armed is the proof
  t.true(armedSeen >= 1, 'the one timer is really armed between runs');
  t.is(s.pendingTimers, 0, 'closed: no timer left');
});

test('a check never overlaps itself: the next run starts after the previous one ended', async (t) => {
  const dir = await tempDir(t);
  const log = path.join(dir, 'log');
  const s = new HealthScheduler();
  t.teardown(() => s.close());
  let results = 0;
  // interval 100 ms, each run 300 ms: an interval timer would start three at once
  s.add('1.a.b.c', check({ exec: ['sh', '-c', `echo start >> ${log}; sleep 0.3; echo end >> ${log}`], intervalMs: 100 }), target(), () => results++);
  await waitFor(() => results >= 4, { what: 'four runs' });
  s.close();
  const lines = readFileSync(log, 'utf8').trim().split('\n').slice(0, 8);
  t.deepEqual(lines, ['start', 'end', 'start', 'end', 'start', 'end', 'start', 'end']);
});

test('a hung server times out and the scheduler goes on, with the other checks too', async (t) => {
  const { port: hung } = await httpServer(t, () => {});
  const srv = await tcpServer(t);
  const s = new HealthScheduler();
  t.teardown(() => s.close());
  const hungResults = [];
  let tcpOk = 0;
  s.add('1.hung.u.c', check({ http: { port: hung, path: '/' }, intervalMs: 100, timeoutMs: 200 }), target(), (r) => hungResults.push(r));
  s.add('1.fine.u.c', check({ tcp: { port: srv.port }, intervalMs: 100 }), target(), (r) => r.ok && tcpOk++);
  await waitFor(() => hungResults.length >= 3 && tcpOk >= 6, { what: 'three time-outs and six passes' });
  t.true(hungResults.every((r) => !r.ok && r.output === 'timed out after 200 ms'));
});

test('exec probes are bounded in concurrency: real processes, at most N at once', async (t) => {
  const marker = `NODEE_HEALTH_TEST=${process.pid}-${Date.now()}`;
  const s = new HealthScheduler({ execConcurrency: 2 });
  t.teardown(() => s.close());
  const done = new Set();
  for (let i = 0; i < 8; i++) {
    s.add(`${i}.x.u.c`, check({ exec: ['sleep', '0.3'] }), target({}, { NODEE_HEALTH_TEST: marker.split('=')[1] }), () => done.add(i));
  }
  const marked = () => livePidsWhere((pid) => readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker)).length;
  let maxProcs = 0;
  let maxExec = 0;
  // 8 checks of 300 ms, all due within 100 ms: unbounded, all 8 would run at once
  while (done.size < 8) {
    maxProcs = Math.max(maxProcs, marked());
    maxExec = Math.max(maxExec, s.running.exec);
    await sleep(20);
  }
  t.is(maxExec, 2);
  t.true(maxProcs <= 2, `${maxProcs} check processes at once`);
  t.true(maxProcs >= 1);
});

test('remove stops every check of a key, aborts the probe in flight, and is safe twice', async (t) => {
  const dir = await tempDir(t);
  const pidFile = path.join(dir, 'pid');
  const srv = await tcpServer(t);
  const s = new HealthScheduler();
  t.teardown(() => s.close());
  let gone = 0;
  let kept = 0;
  s.add('1.gone.u.c', check({ name: 'a', tcp: { port: srv.port }, intervalMs: 100 }), target(), () => gone++);
  s.add('1.gone.u.c', check({ name: 'b', exec: ['sh', '-c', `echo $$ > ${pidFile}; exec sleep 300`], timeoutMs: 600_000 }), target(), () => gone++);
  s.add('1.kept.u.c', check({ tcp: { port: srv.port }, intervalMs: 100 }), target(), () => kept++);
  await waitFor(() => gone >= 1 && readFileSync(pidFile, 'utf8').trim() !== '', { what: 'the exec running' });
  const pid = Number(readFileSync(pidFile, 'utf8'));
  s.remove('1.gone.u.c');
  s.remove('1.gone.u.c');
  t.is(s.size, 1);
  await waitFor(() => livePidsWhere((p) => p === pid).length === 0, { what: 'the in-flight exec killed', timeoutMs: 3000 });
  const goneAt = gone;
  const keptAt = kept;
  await waitFor(() => kept >= keptAt + 3, { what: 'three more runs of the kept check' });
  t.is(gone, goneAt, 'no result of a removed key');
  s.remove('1.kept.u.c');
  await waitFor(() => s.pendingTimers === 0, { what: 'no timer once nothing is scheduled' });
  s.close();
  t.is(t.throws(() => s.add('1.x.u.c', check({ tcp: { port: srv.port } }), target(), () => {})).code, 'SHUTTING_DOWN');
});

test('a throwing onResult is reported and the check goes on', async (t) => {
  const srv = await tcpServer(t);
  const errors = [];
  const s = new HealthScheduler({ onError: (e) => errors.push(e) });
  t.teardown(() => s.close());
  s.add('1.a.b.c', check({ tcp: { port: srv.port }, intervalMs: 100 }), target(), () => {
    throw new Error('boom');
  });
  await waitFor(() => errors.length >= 3, { what: 'three runs despite the throw' });
  t.is(errors[0].message, 'boom');
});
