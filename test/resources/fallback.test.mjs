import test from 'ava';
import { existsSync } from 'node:fs';
import {
  HIERARCHIES, alive, create, getService, readOnlyCgroupPlace, resourcesDaemon, svc, waitForPidFile,
} from './_helpers.mjs';

// Where cgroups cannot be made (simulated by a cgroup parent under a read-only bind mount in
// every hierarchy), the daemon still starts, says once why, publishes containment "none", and
// runs and stops services by process group.

test('a read-only cgroup parent: containment none, said once, services still start and stop by process group', async (t) => {
  const ro = readOnlyCgroupPlace(t);
  const parent = `${ro}/inner`;
  const d = await resourcesDaemon(t, { cgroup: { parent } });

  const status = (await d.api('GET', '/v1/status')).body;
  t.is(status.containment, 'none');
  const why = () => d.events().filter((e) => e.level === 'warn' && /cgroups unavailable/.test(e.msg ?? ''));
  t.is(why().length, 1, 'said once');
  t.regex(JSON.stringify(why()[0]), /EROFS|read-only/i, 'with the reason');
  for (const h of HIERARCHIES) t.false(existsSync(`${h}${parent}`), `nothing made under ${h}${ro}`);

  const c = '0.plain.alice.cell';
  const s = await create(d, svc(c, 'family'));
  t.is(s.state, 'running');
  const child = await waitForPidFile(s.runtimeDir, 'child.pid');
  t.true(alive(child));
  t.deepEqual((await getService(d, c)).usage, { memoryBytes: null, cpuSeconds: null, pids: null }, 'no cgroup to read usage from');

  const stopped = await d.api('POST', `/v1/services/${c}/stop`);
  t.is(stopped.status, 200, stopped.text);
  t.is(stopped.body.state, 'stopped');
  t.false(alive(s.pid));
  t.false(alive(child), 'the process group is ended');
  t.is((await d.api('POST', `/v1/services/${c}/start`)).body.state, 'running');
  t.is((await d.api('POST', `/v1/services/${c}/stop`)).body.state, 'stopped');
  t.is((await d.api('DELETE', `/v1/services/${c}`)).status, 204);
  t.is(why().length, 1, 'still said only once after services came and went');
});
