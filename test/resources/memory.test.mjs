import test from 'ava';
import {
  alive, create, getService, logText, metric, readNumber, resourcesDaemon, serviceCgroup, svc, waitFor, waitForLog,
} from './_helpers.mjs';

// memoryMB is a hard limit of the whole service, enforced by the kernel in the service's
// cgroup: going over it gets the service OOM-killed, which nodee recognises, shows, logs and
// counts, and the restart policy applies. Swap is off on this host.

test('OOM: past memoryMB the service is killed, lastExit says oom, it is logged and counted, and policy always restarts it', async (t) => {
  const d = await resourcesDaemon(t);
  const c = '0.hog.alice.cell';
  const s = await create(d, svc(c, 'hog', { resources: { memoryMB: 64 }, restart: { policy: 'always' } }));
  t.is(readNumber(`${serviceCgroup(d, c).dirs.memory}/memory.limit_in_bytes`), 64 * 1024 * 1024);

  const again = await waitFor(async () => {
    const now = await getService(d, c);
    return now.state === 'running' && now.restarts >= 1 && now.lastExit !== null && now.pid !== s.pid && now;
  }, { what: 'the OOM kill and the restart', timeoutMs: 20_000 });
  t.false(alive(s.pid));
  t.is(again.lastExit.code, null);
  t.is(again.lastExit.signal, 'SIGKILL');
  t.is(again.lastExit.oom, true);
  t.false(Number.isNaN(Date.parse(again.lastExit.at)), `at: ${again.lastExit.at}`);
  t.true(alive(again.pid));
  // the first run died allocating, not by finishing its gigabyte; the restart is the calm run
  await waitForLog(d, c, /calm/);
  t.notRegex(await logText(d, c), /survived/);

  const metrics = await d.api('GET', '/metrics');
  t.true(metric(metrics.text, 'nodee_service_oom_kills_total', c) >= 1, metrics.text.split('\n').filter((l) => l.includes('oom')).join('\n'));
  const warned = d.events().filter((e) => e.level === 'warn' && /\boom\b|out of memory/i.test(e.msg ?? ''));
  t.true(warned.length >= 1, 'a warn line says OOM');
  t.true(warned.some((e) => JSON.stringify(e).includes(c)), 'and names the service');

  // a clean exit later is not an OOM: stop replaces lastExit without the flag set
  const stopped = (await d.api('POST', `/v1/services/${c}/stop`)).body;
  t.is(stopped.state, 'stopped');
  t.not(stopped.lastExit.oom, true);
});

test('memoryMB bounds the whole service: two children that each fit alone do not fit together', async (t) => {
  const d = await resourcesDaemon(t);
  const c = '0.pair.alice.cell';
  // 40 MiB each, 64 MiB for all: one of them must be OOM-killed (a per-process limit would let both live)
  await create(d, svc(c, 'pair', { resources: { memoryMB: 64 }, restart: { policy: 'never' } }));
  const text = await waitForLog(d, c, /ended signal/, 'one of the two children to end');
  t.regex(text, /ended signal 9 code None/);
  t.notRegex(text, /ended signal None/);
});
