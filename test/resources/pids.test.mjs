import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import {
  alive, create, getService, procsIn, resourcesDaemon, serviceCgroup, svc, waitForLog,
} from './_helpers.mjs';

// pids: the most processes/threads a service may have at once, the cgroup's pids.max.

test('pids: a fork bomb never gets past the limit, its forks fail there, and stop ends every process', async (t) => {
  const d = await resourcesDaemon(t);
  const c = '0.bomb.alice.cell';
  const s = await create(d, svc(c, 'forkbomb', { resources: { pids: 20 }, restart: { policy: 'never' } }));
  const { dirs } = serviceCgroup(d, c);
  t.is(readFileSync(`${dirs.pids}/pids.max`, 'utf8').trim(), '20');

  const text = await waitForLog(d, c, /forked \d+ failed \d+/, 'the fork bomb to give up');
  const [, forked, failed] = text.match(/forked (\d+) failed (\d+)/).map(Number);
  t.is(forked + failed, 200);
  t.true(forked <= 19, `forked ${forked}: the bomb itself is the 20th`);
  t.true(failed > 0, `failed ${failed}`);

  const procs = procsIn(dirs.pids);
  t.is(procs.length, forked + 1, 'the bomb and each child it forked, all in the cgroup');
  t.true(procs.includes(s.pid));
  t.true(Number(readFileSync(`${dirs.pids}/pids.current`, 'utf8')) <= 20);
  const refused = Number(readFileSync(`${dirs.pids}/pids.events`, 'utf8').match(/^max (\d+)$/m)[1]);
  t.true(refused > 0, `pids.events max ${refused}`);
  const usage = (await getService(d, c)).usage;
  t.is(usage.pids, procs.length, 'usage.pids reads the cgroup');

  const stopped = await d.api('POST', `/v1/services/${c}/stop`);
  t.is(stopped.body.state, 'stopped', stopped.text);
  for (const pid of procs) t.false(alive(pid), `pid ${pid}`);
  if (existsSync(dirs.pids)) t.deepEqual(procsIn(dirs.pids), []); // an empty cgroup may be removed at once
});
