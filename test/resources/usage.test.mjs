import test from 'ava';
import {
  create, getService, metric, procsIn, readNumber, resourcesDaemon, serviceCgroup, svc, waitFor, waitForLog,
} from './_helpers.mjs';

// cpu is a CFS quota in cores; usage (memory, CPU seconds, pids) comes from the service's
// cgroup, in the API and as per-service gauges in /metrics.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// serial: the busy loop's share is measured while no other test of this file loads the 2 cores
test.serial('cpu: a busy loop at cpu 0.2 uses about a fifth of a core', async (t) => {
  const d = await resourcesDaemon(t);
  const c = '0.spin.alice.cell';
  await create(d, svc(c, 'spin', { resources: { cpu: 0.2 } }));
  const { dirs } = serviceCgroup(d, c);
  t.is(readNumber(`${dirs.cpu}/cpu.cfs_quota_us`) / readNumber(`${dirs.cpu}/cpu.cfs_period_us`), 0.2);
  await waitFor(async () => (await getService(d, c)).usage.cpuSeconds > 0.05, { what: 'the loop to spin' });

  // a measuring window of ~3 s of wall time: CPU seconds from the API and from cpuacct.usage
  const wall0 = process.hrtime.bigint();
  const api0 = (await getService(d, c)).usage.cpuSeconds;
  const acct0 = readNumber(`${dirs.cpuacct}/cpuacct.usage`);
  await sleep(3000);
  const api1 = (await getService(d, c)).usage.cpuSeconds;
  const acct1 = readNumber(`${dirs.cpuacct}/cpuacct.usage`);
  const wall = Number(process.hrtime.bigint() - wall0) / 1e9;
  const apiShare = (api1 - api0) / wall;
  const acctShare = (acct1 - acct0) / 1e9 / wall;
  t.true(apiShare > 0.1 && apiShare < 0.3, `usage.cpuSeconds: ${apiShare.toFixed(3)} of a core`);
  t.true(acctShare > 0.1 && acctShare < 0.3, `cpuacct.usage: ${acctShare.toFixed(3)} of a core`);
});

test('usage: a running service shows memory, CPU seconds and pids from its cgroup, in the API and /metrics; a stopped one nulls', async (t) => {
  const d = await resourcesDaemon(t);
  const c = '0.trio.alice.cell';
  await create(d, svc(c, 'trio'));
  await waitForLog(d, c, /ready/);
  const { dirs } = serviceCgroup(d, c);
  // the shell and its two sleeps
  await waitFor(() => procsIn(dirs.pids).length === 3, { what: 'three processes' });

  const u = await waitFor(async () => {
    const usage = (await getService(d, c)).usage;
    return usage.pids === 3 && usage;
  }, { what: 'usage.pids to read 3' });
  t.true(u.memoryBytes > 0, `memoryBytes ${u.memoryBytes}`);
  t.true(u.cpuSeconds > 0, `cpuSeconds ${u.cpuSeconds}`);
  t.true(u.cpuSeconds <= readNumber(`${dirs.cpuacct}/cpuacct.usage`) / 1e9, 'no more than the cgroup has used so far');

  const metrics = (await d.api('GET', '/metrics')).text;
  const show = metrics.split('\n').filter((l) => l.includes(c)).join('\n');
  t.true(metric(metrics, 'nodee_service_memory_bytes', c) > 0, show);
  t.true(metric(metrics, 'nodee_service_cpu_seconds_total', c) > 0, show);
  t.is(metric(metrics, 'nodee_service_pids', c), 3, show);

  const stopped = await d.api('POST', `/v1/services/${c}/stop`);
  t.is(stopped.body.state, 'stopped');
  t.deepEqual(stopped.body.usage, { memoryBytes: null, cpuSeconds: null, pids: null });
  t.deepEqual((await getService(d, c)).usage, { memoryBytes: null, cpuSeconds: null, pids: null });
  t.deepEqual((await d.api('GET', '/v1/services')).body.services.find((x) => x.coordinate === c).usage, { memoryBytes: null, cpuSeconds: null, pids: null });
});
