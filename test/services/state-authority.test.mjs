/**
 * The one place a service's record changes: commit() checks the transition and every field of
 * a narrow patch, and every change is a typed event. The restart window is part of the record,
 * so a daemon restart does not give a crash-looping service a fresh allowance.
 */
import test from 'ava';
import { changeProblem } from '../../dist/services/state.js';
import { scriptsArtifact, spec, startSupervisor, waitFor } from './helpers.mjs';

const record = (over = {}) => ({ state: 'running', pid: 10, startTime: 5, restarts: 2, desired: 'running', lastExit: null, prepared: true, ...over });

const table = [
  ['a legal change with its fields', record(), 'stopping', {}, undefined],
  ['an illegal transition', record({ state: 'stopped', pid: null, startTime: null }), 'running', {}, /illegal state change stopped -> running/],
  ['a stopped service with a pid', record(), 'stopped', {}, /has no process, yet pid 10/],
  ['the same, once the pid is cleared', record(), 'stopped', { pid: null, startTime: null }, undefined],
  ['backoff keeps no pid', record(), 'backoff', { restarts: 3 }, /a backoff service has no process/],
  ['restarts never go down', record({ pid: null, startTime: null }), 'running', { restarts: 1 }, /restarts may only grow \(2 -> 1\)/],
  ['restarts are whole', record({ pid: null, startTime: null }), 'running', { restarts: 2.5 }, /restarts may only grow/],
  ['an exit is recorded once the process is gone', record(), 'running', { lastExit: { code: 1, signal: null, at: 'x' } }, /only once the process is gone/],
  ['a start time needs a pid', record({ pid: null, startTime: null }), 'starting', { startTime: 7 }, /start time without a pid/],
  ['a pid is a positive integer', record({ state: 'starting', pid: null, startTime: null }), 'running', { pid: -1, startTime: 1 }, /not a process id/],
  ['prepared never goes back', record(), 'running', { prepared: false }, /cannot become unprepared/],
  ['desired is running or stopped', record(), 'running', { desired: 'paused' }, /desired state paused/],
  ['restart times are numbers', record(), 'running', { restartTimes: [1, 'x'] }, /restart times must be numbers/],
];

for (const [name, rec, to, patch, problem] of table) {
  test(`commit check: ${name}`, (t) => {
    const got = changeProblem(rec, to, patch);
    if (problem === undefined) t.is(got, undefined);
    else t.regex(got ?? '', problem);
  });
}

test('every committed change is one typed event: created, started, stopped, removed', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  const events = [];
  sup.events.on('service', (e) => events.push(e));
  const s = await sup.create(spec('1.ev.borud.fbu'));
  await sup.stop('1.ev.borud.fbu');
  await sup.remove('1.ev.borud.fbu', { purge: false });
  const steps = events.map((e) => `${e.from}->${e.to}`);
  t.is(steps[0], 'null->stopped', 'the initial record goes through commit too');
  t.true(steps.includes('starting->running'));
  t.true(steps.includes('running->stopping'));
  t.true(steps.includes('stopping->stopped'));
  t.is(steps.at(-1), 'stopped->null', 'removal is the last event');
  const running = events.find((e) => e.to === 'running');
  t.deepEqual([...running.changed].sort(), ['pid', 'ready', 'startTime', 'startedAt'].sort());
  t.is(running.service.pid, s.pid, 'the event carries the service as committed');
  t.is(running.coordinate, '1.ev.borud.fbu');
  for (const e of events) t.is(typeof e.service.spec.env, 'object', 'env is in the event masked, like the API');
});

test('the restart window survives a supervisor restart: a crash loop does not get a fresh allowance', async (t) => {
  const first = await startSupervisor(t);
  await scriptsArtifact(first.prefix, first.artifacts);
  const c = '1.loop.borud.fbu';
  // crashes at once; 3 restarts allowed within the hour, 300 ms apart and doubling
  await first.sup.create(spec(c, { command: ['bin/crash'], restart: { backoffMs: 300, limit: { restarts: 3, windowSeconds: 3600 } } }));
  await waitFor(() => first.sup.get(c).restarts === 1, { what: 'the first restart' });
  // the supervisor goes away in the middle of the loop, a new one takes over from the record
  await first.detach();
  const second = await startSupervisor(t, { prefix: first.prefix, artifacts: first.artifacts });
  const done = await waitFor(() => second.sup.get(c).state === 'failed' && second.sup.get(c), { what: 'the loop to fail', timeoutMs: 20_000 });
  // a window forgotten at the restart would have allowed 3 more: 4 in all
  t.is(done.restarts, 3);
});

test('a listing built on a create\'s own event (as the ZooKeeper record is) does not hide the new service afterwards', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  const seenDuring = [];
  sup.events.on('service', (e) => {
    if (e.from === null) seenDuring.push(sup.list().length);
  });
  await sup.create(spec('1.first.borud.fbu'));
  await sup.create(spec('2.first.borud.fbu'));
  t.deepEqual(seenDuring, [0, 1], 'the listener ran while each create was under way');
  t.deepEqual(sup.list().map((s) => s.coordinate), ['1.first.borud.fbu', '2.first.borud.fbu']);
  t.is(JSON.parse(sup.listJson()).services.length, 2);
});
