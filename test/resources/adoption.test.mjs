import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { startDaemon } from '../helpers/daemon.mjs';
import {
  alive, cgroupsOf, create, getService, ignores, procsIn, reapAtTeardown, resourcesDaemon, serviceCgroup, sessionOf, svc, waitFor, waitForLog, waitForPidFile,
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
