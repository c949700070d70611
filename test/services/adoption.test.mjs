import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { alive, marked, scriptsArtifact, spec, startSupervisor, waitFor } from './helpers.mjs';

/** Rewrites a service's record as a crash or an earlier daemon might have left it. */
async function editRecord(prefix, coordinate, edit) {
  const file = path.join(prefix, 'state', 'services', `${coordinate}.json`);
  const rec = JSON.parse(await readFile(file, 'utf8'));
  edit(rec.data);
  await writeFile(file, JSON.stringify(rec));
}

test('detach leaves services running; a new supervisor re-adopts the same processes and notices a later crash', async (t) => {
  const first = await startSupervisor(t);
  await scriptsArtifact(first.prefix, first.artifacts);
  const a = await first.sup.create(spec('1.a.borud.fbu', { ports: ['http'], restart: { backoffMs: 0 } }));
  const b = await first.sup.create(spec('2.a.borud.fbu'));
  await first.detach();
  t.true(alive(a.pid) && alive(b.pid), 'services outlive the supervisor');

  const second = await startSupervisor(t, { prefix: first.prefix, artifacts: first.artifacts });
  const adoptedA = second.sup.get('1.a.borud.fbu');
  t.is(adoptedA.state, 'running');
  t.is(adoptedA.pid, a.pid);
  t.deepEqual(adoptedA.ports, a.ports);
  t.is(second.sup.get('2.a.borud.fbu').pid, b.pid);
  t.regex(await second.metrics.getSingleMetricAsString('nodee_service_adoptions_total'), /nodee_service_adoptions_total 2/);

  // not our child any more: the poll sees it die, the policy restarts it
  process.kill(a.pid, 'SIGKILL');
  const again = await waitFor(() => {
    const s = second.sup.get('1.a.borud.fbu');
    return s.state === 'running' && s.pid !== a.pid && s;
  });
  t.is(again.restarts, 1);
  t.is(again.lastExit.code, null);
  t.true(alive(again.pid));

  // and it stops an adopted process like its own
  const stopped = await second.sup.stop('2.a.borud.fbu');
  t.is(stopped.state, 'stopped');
  t.false(alive(b.pid));
});

test('a service that died while no supervisor ran is restarted; a stopped one stays stopped', async (t) => {
  const first = await startSupervisor(t);
  await scriptsArtifact(first.prefix, first.artifacts);
  const a = await first.sup.create(spec('1.dead.borud.fbu'));
  await first.sup.create(spec('2.dead.borud.fbu'));
  await first.sup.stop('2.dead.borud.fbu');
  await first.detach();
  process.kill(a.pid, 'SIGKILL');
  await waitFor(() => !alive(a.pid));

  const second = await startSupervisor(t, { prefix: first.prefix, artifacts: first.artifacts });
  const s = await waitFor(() => second.sup.get('1.dead.borud.fbu').state === 'running' && second.sup.get('1.dead.borud.fbu'));
  t.not(s.pid, a.pid);
  t.is(s.restarts, 1);
  t.is(second.sup.get('2.dead.borud.fbu').state, 'stopped');
  t.is(second.sup.get('2.dead.borud.fbu').pid, null);
});

test('a live pid with another start time (a reused pid) is never adopted', async (t) => {
  const first = await startSupervisor(t);
  await scriptsArtifact(first.prefix, first.artifacts);
  const a = await first.sup.create(spec('1.reuse.borud.fbu'));
  await first.detach();
  // make the record name a different process: this test's own pid with a wrong start time
  process.kill(a.pid, 'SIGKILL');
  await editRecord(first.prefix, '1.reuse.borud.fbu', (r) => Object.assign(r, { pid: process.pid, startTime: 1 }));

  const second = await startSupervisor(t, { prefix: first.prefix, artifacts: first.artifacts });
  const s = await waitFor(() => second.sup.get('1.reuse.borud.fbu').state === 'running' && second.sup.get('1.reuse.borud.fbu'));
  t.not(s.pid, process.pid);
  t.true(alive(process.pid), 'the innocent process is untouched');
});

test('node drain survives a supervisor restart', async (t) => {
  const first = await startSupervisor(t);
  await first.sup.drainNode();
  await first.detach();
  const second = await startSupervisor(t, { prefix: first.prefix });
  t.is(second.sup.nodeState, 'draining');
});

test('a process spawned just before the daemon died, with no pid on record, is found and adopted, not started twice', async (t) => {
  const first = await startSupervisor(t);
  await scriptsArtifact(first.prefix, first.artifacts);
  const a = await first.sup.create(spec('1.orphan.borud.fbu'));
  await first.detach();
  await editRecord(first.prefix, '1.orphan.borud.fbu', (r) => Object.assign(r, { state: 'starting', pid: null, startTime: null }));

  const second = await startSupervisor(t, { prefix: first.prefix, artifacts: first.artifacts });
  const s = second.sup.get('1.orphan.borud.fbu');
  t.is(s.state, 'running');
  t.is(s.pid, a.pid);
  t.is(s.restarts, 0);
  t.deepEqual(marked(s.runtimeDir), [a.pid]);
});

test('a drain under way when the daemon went away goes on in the next one, then stops the service', async (t) => {
  const first = await startSupervisor(t);
  await scriptsArtifact(first.prefix, first.artifacts);
  const a = await first.sup.create(spec('1.draining.borud.fbu', { drain: { timeoutSeconds: 0.5 } }));
  await first.sup.drain('1.draining.borud.fbu');
  await first.detach();
  t.true(alive(a.pid));
  const second = await startSupervisor(t, { prefix: first.prefix, artifacts: first.artifacts });
  t.is(second.sup.get('1.draining.borud.fbu').state, 'draining');
  t.is(second.sup.get('1.draining.borud.fbu').pid, a.pid);
  await waitFor(() => second.sup.get('1.draining.borud.fbu').state === 'stopped');
  t.false(alive(a.pid));
});
