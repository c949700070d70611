import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  alive, cgroupsOf, cgroupsOfProcText, create, getService, ignores, procsIn, reapAtTeardown, readNumber,
  resourcesDaemon, serviceCgroup, serviceUser, sessionOf, svc, waitFor, waitForPidFile,
} from './_helpers.mjs';

// Each service in a cgroup of its own under the test daemon's parent, in every hierarchy of
// this v1/hybrid host; stop, drain and remove end everything in it. Real daemon, real cgroups.

const KEYS = ['memory', 'cpu', 'cpuacct', 'pids', 'freezer', 'unified'];

/** The escaper's grandchild once it is `sleep` (env -i has exec'd), checked to have escaped everything but the cgroup. */
async function escapedGrandchild(t, d, s) {
  const gc = await waitForPidFile(s.runtimeDir, 'grandchild.pid');
  reapAtTeardown(t, gc);
  await waitFor(() => readFileSync(`/proc/${gc}/cmdline`, 'utf8').startsWith('sleep\0'), { what: 'env -i to exec sleep' });
  // the premise: no environment marker and another session, so only the cgroup can find it
  t.is(readFileSync(`/proc/${gc}/environ`, 'utf8'), '', 'the grandchild cleared its environment');
  t.true(ignores(gc, 'SIGTERM'), 'the grandchild ignores the stop signal: only a kill ends it');
  t.not(sessionOf(gc), sessionOf(s.pid), 'the grandchild left the service session');
  t.not(sessionOf(gc), s.pid);
  const { path: cg } = serviceCgroup(d, s.coordinate);
  t.is(cgroupsOf(gc).memory, cg, 'but it is still in the service cgroup');
  return gc;
}

test('a service is in its own cgroup, in every hierarchy, from its first instruction; limits are the spec\'s', async (t) => {
  const d = await resourcesDaemon(t);
  const c = '0.where.alice.cell';
  const s = await create(d, svc(c, 'whereami', { resources: { memoryMB: 128, cpu: 0.5, pids: 100 } }));
  const { path: cg, dirs } = serviceCgroup(d, c);

  const file = path.join(s.runtimeDir, 'cgroup-at-start');
  const atStart = cgroupsOfProcText(await waitFor(() => existsSync(file) && readFileSync(file, 'utf8'), { what: 'cgroup-at-start' }));
  const now = cgroupsOf(s.pid);
  for (const k of KEYS) {
    t.is(atStart[k], cg, `${k}: where the service's own code began`);
    t.is(now[k], cg, `${k}: /proc/${s.pid}/cgroup`);
    t.true(procsIn(dirs[k]).includes(s.pid), `${k}: cgroup.procs`);
  }
  t.is(readNumber(`${dirs.memory}/memory.limit_in_bytes`), 128 * 1024 * 1024);
  t.is(readNumber(`${dirs.cpu}/cpu.cfs_quota_us`) / readNumber(`${dirs.cpu}/cpu.cfs_period_us`), 0.5);
  t.is(readFileSync(`${dirs.pids}/pids.max`, 'utf8').trim(), '100');
});

test('a service of another user is in its cgroup too (entered before it dropped to the user)', async (t) => {
  const user = serviceUser();
  const d = await resourcesDaemon(t);
  const c = '0.whereuser.alice.cell';
  const s = await create(d, svc(c, 'whereami', { user: user.name, resources: { memoryMB: 128 } }));
  const { path: cg } = serviceCgroup(d, c);
  const file = path.join(s.runtimeDir, 'cgroup-at-start');
  const atStart = cgroupsOfProcText(await waitFor(() => existsSync(file) && readFileSync(file, 'utf8'), { what: 'cgroup-at-start' }));
  const status = readFileSync(`/proc/${s.pid}/status`, 'utf8');
  t.regex(status, new RegExp(`^Uid:\\s+${user.uid}\\s`, 'm'), 'it runs as the user');
  for (const k of KEYS) {
    t.is(atStart[k], cg, k);
    t.is(cgroupsOf(s.pid)[k], cg, k);
  }
});

test('stop ends the whole cgroup: a double-forked setsid, env -i grandchild dies; DELETE removes the cgroup', async (t) => {
  const d = await resourcesDaemon(t);
  const c = '0.escape.alice.cell';
  const s = await create(d, svc(c, 'escaper', { resources: { memoryMB: 128 } }));
  const gc = await escapedGrandchild(t, d, s);
  const { dirs } = serviceCgroup(d, c);
  const both = [s.pid, gc].sort((x, y) => x - y);
  await waitFor(() => procsIn(dirs.pids).sort((x, y) => x - y).join() === both.join(), { what: 'the service and its grandchild, nothing else, in the cgroup' });

  const stopped = await d.api('POST', `/v1/services/${c}/stop`);
  t.is(stopped.status, 200, stopped.text);
  t.is(stopped.body.state, 'stopped');
  t.false(alive(s.pid));
  t.false(alive(gc), 'the grandchild that escaped the process group is dead once stop answers');
  for (const k of KEYS) if (existsSync(dirs[k])) t.deepEqual(procsIn(dirs[k]), [], `${k} is empty`);

  t.is((await d.api('DELETE', `/v1/services/${c}`)).status, 204);
  for (const k of KEYS) t.false(existsSync(dirs[k]), `${dirs[k]} is removed`);
  t.is((await d.api('GET', `/v1/services/${c}`)).status, 404);
});

test('drain timeout ends the whole cgroup', async (t) => {
  const d = await resourcesDaemon(t);
  const c = '0.drainesc.alice.cell';
  const s = await create(d, svc(c, 'escaper', { drain: { timeoutSeconds: 0.5 } }));
  const gc = await escapedGrandchild(t, d, s);
  const drained = await d.api('POST', `/v1/services/${c}/drain`);
  t.is(drained.status, 202, drained.text);
  t.is(drained.body.state, 'draining');
  await waitFor(async () => (await getService(d, c)).state === 'stopped', { what: 'the drain to time out and stop' });
  t.false(alive(s.pid));
  t.false(alive(gc), 'the escaped grandchild is dead once the drained service is stopped');
  const { dirs } = serviceCgroup(d, c);
  for (const k of KEYS) if (existsSync(dirs[k])) t.deepEqual(procsIn(dirs[k]), [], `${k} is empty`);
});

test('restart (a stop, then a start) ends the old grandchild: the new process starts in an empty cgroup', async (t) => {
  const d = await resourcesDaemon(t);
  const c = '0.restesc.alice.cell';
  const s = await create(d, svc(c, 'escaper'));
  const gc = await escapedGrandchild(t, d, s);
  const restarted = await d.api('POST', `/v1/services/${c}/restart`);
  t.is(restarted.status, 200, restarted.text);
  t.is(restarted.body.state, 'running');
  t.not(restarted.body.pid, s.pid);
  t.false(alive(s.pid));
  t.false(alive(gc), 'the old grandchild did not survive into the new run');
  const { path: cg, dirs } = serviceCgroup(d, c);
  // the answer can come before the new process's wrapper has entered (it runs nothing of the service till then)
  await waitFor(() => cgroupsOf(restarted.body.pid).memory === cg, { what: 'the new process to enter the service cgroup' });
  t.false(procsIn(dirs.memory).includes(gc));
});
