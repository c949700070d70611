import test from 'ava';
import { existsSync } from 'node:fs';
import { create, getService, resourcesDaemon, serviceCgroup, svc } from './_helpers.mjs';

// Admission: a reservation that, added to those of the services not stopped/exited/failed,
// exceeds the node's capacity is refused with 409 INSUFFICIENT_RESOURCES, nothing created or
// started. /v1/status shows the capacity, what is reserved, the containment and the labels.

const CAPACITY = { memoryMB: 1000, cpu: 2, diskMB: 10000 };
const LABELS = { zone: 'eu-1a', ssd: 'true' };
const NONE = { memoryMB: 0, cpu: 0, diskMB: 0 };

async function status(d) {
  const res = await d.api('GET', '/v1/status');
  if (res.status !== 200) throw new Error(`status: ${res.status} ${res.text}`);
  return res.body;
}

/** `n` as a number of its own in a text: 600 matches "asks 600 MB", not "1600" or "600.5". */
function number(n) {
  return new RegExp(`(?<![0-9.])${String(n).replace('.', '\\.')}(?![0-9]|\\.[0-9])`);
}

function refused(t, res, resource, asked, left) {
  t.is(res.status, 409, res.text);
  t.is(res.body.error.code, 'INSUFFICIENT_RESOURCES');
  const msg = res.body.error.message;
  t.true(msg.includes(resource), `names ${resource}: ${msg}`);
  t.regex(msg, number(asked), `names the ask ${asked}: ${msg}`);
  t.regex(msg, number(left), `names what is left ${left}: ${msg}`);
}

test('status: capacity as configured, reservations of services not at rest, containment cgroup1, labels', async (t) => {
  const d = await resourcesDaemon(t, { capacity: CAPACITY, labels: LABELS });
  const before = await status(d);
  t.deepEqual(before.resources, { capacity: CAPACITY, reserved: NONE });
  t.is(before.containment, 'cgroup1');
  t.deepEqual(before.labels, LABELS);

  await create(d, svc('0.a.alice.cell', 'trio', { resources: { memoryMB: 600, cpu: 0.5, diskMB: 1000, pids: 50 } }));
  await create(d, svc('0.b.alice.cell', 'trio', { resources: { memoryMB: 100 } }));
  await create(d, svc('0.free.alice.cell', 'trio')); // no resources: neither limited nor reserved
  t.deepEqual((await status(d)).resources, { capacity: CAPACITY, reserved: { memoryMB: 700, cpu: 0.5, diskMB: 1000 } });

  t.is((await d.api('POST', '/v1/services/0.a.alice.cell/stop')).body.state, 'stopped');
  t.deepEqual((await status(d)).resources.reserved, { memoryMB: 100, cpu: 0, diskMB: 0 });
});

test('admission: the reservation that does not fit is refused and nothing is made; after another service stops it fits', async (t) => {
  const d = await resourcesDaemon(t, { capacity: CAPACITY });
  const a = '0.a.alice.cell';
  const b = '0.b.alice.cell';
  const created = await create(d, svc(a, 'trio', { resources: { memoryMB: 600, cpu: 0.5, diskMB: 1000 } }));
  t.is(created.state, 'running');

  const tooBig = await d.api('POST', '/v1/services', svc(b, 'trio', { resources: { memoryMB: 600 } }));
  refused(t, tooBig, 'memoryMB', 600, 400);
  t.is((await d.api('GET', `/v1/services/${b}`)).status, 404, 'nothing created');
  for (const dir of Object.values(serviceCgroup(d, b).dirs)) t.false(existsSync(dir), `no cgroup ${dir}`);
  refused(t, await d.api('POST', '/v1/services', svc(b, 'trio', { resources: { cpu: 1.6 } })), 'cpu', 1.6, 1.5);
  refused(t, await d.api('POST', '/v1/services', svc(b, 'trio', { resources: { diskMB: 9500 } })), 'diskMB', 9500, 9000);
  t.is((await d.api('GET', `/v1/services/${b}`)).status, 404);
  // what fits exactly is admitted; a service without resources always is
  t.is((await d.api('POST', '/v1/services', svc('0.exact.alice.cell', 'trio', { resources: { memoryMB: 400, cpu: 1.5 } }))).status, 201);
  t.is((await d.api('POST', '/v1/services', svc('0.free.alice.cell', 'trio'))).status, 201);
  t.is((await d.api('POST', '/v1/services/0.exact.alice.cell/stop')).status, 200);

  t.is((await d.api('POST', `/v1/services/${a}/stop`)).body.state, 'stopped');
  const later = await d.api('POST', '/v1/services', svc(b, 'trio', { resources: { memoryMB: 600 } }));
  t.is(later.status, 201, later.text);
  t.is(later.body.state, 'running');

  // a stopped service's start is admitted like a create: A's 600 no longer fits beside B's
  const start = await d.api('POST', `/v1/services/${a}/start`);
  refused(t, start, 'memoryMB', 600, 400);
  t.is((await getService(d, a)).state, 'stopped', 'nothing started');
  t.is((await d.api('POST', `/v1/services/${b}/stop`)).status, 200);
  const started = await d.api('POST', `/v1/services/${a}/start`);
  t.is(started.status, 200, started.text);
  t.is(started.body.state, 'running');
});
