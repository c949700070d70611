import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startDaemon } from '../helpers/daemon.mjs';
import {
  alive, cgroupsOf, childrenOf, create, getService, ignores, procsIn, reapAtTeardown, resourcesDaemon, serviceCgroup, sessionOf, svc, waitFor, waitForLog, waitForPidFile,
} from './_helpers.mjs';

// Re-adoption by cgroup: a daemon killed with -9 leaves its services running in their
// cgroups; the next daemon on the prefix adopts them (same pid, no restart) and finds their
// processes by cgroup, so a stop still ends a grandchild that escaped everything else.

test('kill -9 and restart: the service is adopted in its cgroup, and stop still ends its setsid, env -i grandchild', async (t) => {
  const d1 = await resourcesDaemon(t);
  const c = '0.adopt.alice.cell';
  const s = await create(d1, svc(c, 'escaper', { resources: { memoryMB: 128, pids: 50 } }));
  const gc = await waitForPidFile(s.runtimeDir, 'grandchild.pid');
  reapAtTeardown(t, gc);
  await waitFor(() => readFileSync(`/proc/${gc}/cmdline`, 'utf8').startsWith('sleep\0'), { what: 'env -i to exec sleep' });
  await waitForLog(d1, c, /ready/); // the middle shell is reaped
  t.is(readFileSync(`/proc/${gc}/environ`, 'utf8'), '');
  t.true(ignores(gc, 'SIGTERM'), 'the grandchild ignores the stop signal: only a kill ends it');
  t.not(sessionOf(gc), sessionOf(s.pid));
  const { path: cg, dirs } = serviceCgroup(d1, c);
  t.is(cgroupsOf(gc).memory, cg);

  await d1.kill9();
  t.true(alive(s.pid) && alive(gc), 'the service outlives the daemon');

  const d2 = await startDaemon(t, { prefix: d1.prefix });
  const adopted = await getService(d2, c);
  t.is(adopted.state, 'running');
  t.is(adopted.pid, s.pid, 'the same process');
  t.is(adopted.restarts, 0, 'not restarted');
  t.is((await d2.api('GET', '/v1/status')).body.containment, 'cgroup1');
  t.is(cgroupsOf(s.pid).memory, cg, 'still in its cgroup');
  t.is(readFileSync(`${dirs.pids}/pids.max`, 'utf8').trim(), '50', 'its limits kept');
  // the adopted service's usage is read from the cgroup it was found in: the service and the grandchild
  const usage = await waitFor(async () => {
    const u = (await getService(d2, c)).usage;
    return u.pids !== null && u;
  }, { what: 'usage of the adopted service' });
  t.is(usage.pids, 2, 'the service and its grandchild');
  t.deepEqual(procsIn(dirs.pids).sort((x, y) => x - y), [s.pid, gc].sort((x, y) => x - y));
  t.true(usage.memoryBytes > 0);

  const stopped = await d2.api('POST', `/v1/services/${c}/stop`);
  t.is(stopped.status, 200, stopped.text);
  t.is(stopped.body.state, 'stopped');
  t.false(alive(s.pid));
  t.false(alive(gc), 'the grandchild, found by cgroup after the restart, is dead');
  t.is((await d2.api('DELETE', `/v1/services/${c}`)).status, 204);
  for (const dir of Object.values(dirs)) t.false(existsSync(dir), `${dir} is removed`);
});

test('a daemon that dies while a service it reported running is still entering its cgroup does not take the service with it', async (t) => {
  const d1 = await resourcesDaemon(t);
  const c = '0.late.alice.cell';
  // crashes at once, then is relaunched after the backoff: the window to freeze its cgroup in
  const s = await create(d1, svc(c, 'crashonce', { restart: { policy: 'always', backoffMs: 5000 } }));
  const { dirs } = serviceCgroup(d1, c);
  await waitFor(async () => (await getService(d1, c)).state === 'backoff', { what: 'the first run to crash' });
  const freezer = `${dirs.freezer}/freezer.state`;
  writeFileSync(freezer, 'FROZEN');
  t.teardown(() => { try { writeFileSync(freezer, 'THAWED'); } catch {} });
  // the relaunched process stops as it enters the (frozen) freezer hierarchy: a scheduler that
  // has not run it yet, made deterministic
  const pid = await waitFor(() => procsIn(dirs.freezer)[0], { what: 'the relaunched process to enter its cgroup', timeoutMs: 20_000 });
  await waitFor(() => readFileSync(freezer, 'utf8').trim() === 'FROZEN', { what: 'the freeze' });
  const reported = await waitFor(async () => {
    const now = await getService(d1, c);
    return now.state === 'running' && now;
  }, { what: 'the API to report it running' });
  t.is(reported.pid, pid, 'the API reports this process as the running service');
  // a policy restart answers no one, so the API may show it before its record is on disk: the
  // crash below must come after the record says running, as it would after an operator's 2xx
  const recordFile = path.join(d1.prefix, 'state', 'services', `${c}.json`);
  await waitFor(() => {
    try {
      const r = JSON.parse(readFileSync(recordFile, 'utf8')).data;
      return r.state === 'running' && r.pid === pid;
    } catch {
      return false;
    }
  }, { what: 'the record on disk to say running' });

  // the daemon crashes; what else it ran and that dies with it (the software namespace holder)
  // is gone before the service is scheduled again
  const others = childrenOf(d1.pid).filter((p) => p !== pid);
  await d1.kill9();
  await waitFor(() => others.every((p) => !alive(p)), { what: 'the daemon\'s other children to die with it' });
  writeFileSync(freezer, 'THAWED');
  await waitFor(() => !alive(pid) || readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0'), { what: 'the service to exec or die' });
  const stderr = readFileSync(path.join(s.runtimeDir, 'logs', 'stderr.log'), 'utf8');
  t.true(alive(pid), `the service reported running outlives the daemon (its stderr: ${JSON.stringify(stderr)})`);
  if (!alive(pid)) return;

  const d2 = await startDaemon(t, { prefix: d1.prefix });
  const adopted = await getService(d2, c);
  t.is(adopted.state, 'running');
  t.is(adopted.pid, pid, 'adopted, not restarted');
});
