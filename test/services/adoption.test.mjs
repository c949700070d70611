import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { alive, marked, scriptsArtifact, spec, startSupervisor, waitFor } from './helpers.mjs';

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
  const file = path.join(first.prefix, 'state', 'services', '1.reuse.borud.fbu.json');
  const rec = JSON.parse(await readFile(file, 'utf8'));
  process.kill(a.pid, 'SIGKILL');
  rec.data.pid = process.pid;
  rec.data.startTime = 1;
  await writeFile(file, JSON.stringify(rec));

  const second = await startSupervisor(t, { prefix: first.prefix, artifacts: first.artifacts });
  const s = await waitFor(() => second.sup.get('1.reuse.borud.fbu').state === 'running' && second.sup.get('1.reuse.borud.fbu'));
  t.not(s.pid, process.pid);
  t.true(alive(process.pid), 'the innocent process is untouched');
});

test('node drain survives a supervisor restart', async (t) => {
  const first = await startSupervisor(t);
  first.sup.drainNode();
  await first.detach();
  const second = await startSupervisor(t, { prefix: first.prefix });
  t.is(second.sup.nodeState, 'draining');
});

test('a process spawned just before the daemon died, with no pid on record, is found and adopted, not started twice', async (t) => {
  const first = await startSupervisor(t);
  await scriptsArtifact(first.prefix, first.artifacts);
  const a = await first.sup.create(spec('1.orphan.borud.fbu'));
  await first.detach();
  const file = path.join(first.prefix, 'state', 'services', '1.orphan.borud.fbu.json');
  const rec = JSON.parse(await readFile(file, 'utf8'));
  rec.data.state = 'starting';
  rec.data.pid = null;
  rec.data.startTime = null;
  await writeFile(file, JSON.stringify(rec));

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
  first.sup.drain('1.draining.borud.fbu');
  await first.detach();
  t.true(alive(a.pid));
  const second = await startSupervisor(t, { prefix: first.prefix, artifacts: first.artifacts });
  t.is(second.sup.get('1.draining.borud.fbu').state, 'draining');
  t.is(second.sup.get('1.draining.borud.fbu').pid, a.pid);
  await waitFor(() => second.sup.get('1.draining.borud.fbu').state === 'stopped');
  t.false(alive(a.pid));
});
