import test from 'ava';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { alive, marked, readText, scriptsArtifact, spec, startSupervisor, waitFor } from './helpers.mjs';

// forks two workers, one of them a double-forked daemon in its own session, all ignoring SIGTERM
const STUBBORN = `#!/bin/sh
trap '' TERM
sleep 1000 &
setsid sh -c 'trap "" TERM; sleep 1000 & wait' &
echo ready
while :; do sleep 1; done
`;

// exits on SIGTERM after its child does
const POLITE = `#!/bin/sh
sleep 1000 &
child=$!
trap 'kill $child; wait $child; echo bye; exit 0' TERM
echo ready
wait
`;

const DRAINABLE = `#!/bin/sh
trap 'echo draining; sleep 0.2; exit 0' USR1
echo ready
while :; do sleep 0.05; done
`;

const DEAF = `#!/bin/sh
trap 'echo got-usr1' USR1
echo ready
while :; do sleep 0.05; done
`;

async function ready(runtimeDir) {
  await waitFor(async () => (await readText(path.join(runtimeDir, 'logs', 'stdout.log'))).includes('ready'), { what: 'ready' });
}

test('stop: SIGTERM ignored by the whole tree, SIGKILL at the timeout, even the setsid daemon is gone', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts, { 'bin/stubborn': STUBBORN });
  const s = await sup.create(spec('1.stubborn.borud.fbu', { command: ['bin/stubborn'], stop: { timeoutSeconds: 0.5 } }));
  await ready(s.runtimeDir);
  await waitFor(() => marked(s.runtimeDir).length >= 4, { what: 'the tree to form' });
  const tree = marked(s.runtimeDir);
  const stopped = await sup.stop('1.stubborn.borud.fbu');
  t.is(stopped.state, 'stopped');
  t.is(stopped.lastExit.signal, 'SIGKILL');
  t.deepEqual(marked(s.runtimeDir), [], 'nothing of the tree survives');
  for (const pid of tree) t.false(alive(pid));
  t.false(existsSync(`/proc/${s.pid}`), 'the service was reaped: no zombie');
});

test('stop: a polite service ends on SIGTERM before the timeout, with its children', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts, { 'bin/polite': POLITE });
  const s = await sup.create(spec('1.polite.borud.fbu', { command: ['bin/polite'], stop: { timeoutSeconds: 30 } }));
  await ready(s.runtimeDir);
  const stopped = await sup.stop('1.polite.borud.fbu');
  t.is(stopped.lastExit.code, 0);
  t.true((await readText(path.join(s.runtimeDir, 'logs', 'stdout.log'))).includes('bye'));
  t.deepEqual(marked(s.runtimeDir), []);
  // stop is safe to repeat
  t.is((await sup.stop('1.polite.borud.fbu')).state, 'stopped');
});

test('stop: a custom stop signal reaches the service', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts, { 'bin/drainable': DRAINABLE });
  const s = await sup.create(spec('1.usr.borud.fbu', { command: ['bin/drainable'], stop: { signal: 'USR1', timeoutSeconds: 30 } }));
  await ready(s.runtimeDir);
  const stopped = await sup.stop('1.usr.borud.fbu');
  t.is(stopped.lastExit.code, 0);
  t.true((await readText(path.join(s.runtimeDir, 'logs', 'stdout.log'))).includes('draining'));
});

test('a crash takes the rest of its process group with it before the restart', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts, { 'bin/forker': '#!/bin/sh\nsleep 1000 &\necho ready\nsleep 0.3\nexit 1\n' });
  const s = await sup.create(spec('1.forker.borud.fbu', { command: ['bin/forker'], restart: { policy: 'never' } }));
  await ready(s.runtimeDir);
  await waitFor(() => sup.get('1.forker.borud.fbu').state === 'exited');
  await waitFor(() => marked(s.runtimeDir).length === 0, { what: 'the orphaned worker to be killed' });
  t.pass();
});

test('drain: draining while the drain signal is handled, then stopped, never restarted', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts, { 'bin/drainable': DRAINABLE });
  const s = await sup.create(spec('1.drain.borud.fbu', { command: ['bin/drainable'], drain: { signal: 'SIGUSR1', timeoutSeconds: 30 } }));
  await ready(s.runtimeDir);
  const d = await sup.drain('1.drain.borud.fbu');
  t.is(d.state, 'draining');
  const done = await waitFor(() => sup.get('1.drain.borud.fbu').state === 'stopped' && sup.get('1.drain.borud.fbu'));
  t.is(done.lastExit.code, 0);
  t.is(done.restarts, 0);
  t.true((await readText(path.join(s.runtimeDir, 'logs', 'stdout.log'))).includes('draining'));
  t.deepEqual(marked(s.runtimeDir), []);
});

test('drain: a service that ignores the drain signal is stopped at the drain timeout', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts, { 'bin/deaf': DEAF });
  const s = await sup.create(spec('1.deaf.borud.fbu', { command: ['bin/deaf'], drain: { signal: 'SIGUSR1', timeoutSeconds: 0.3 } }));
  await ready(s.runtimeDir);
  t.is((await sup.drain('1.deaf.borud.fbu')).state, 'draining');
  await waitFor(async () => (await readText(path.join(s.runtimeDir, 'logs', 'stdout.log'))).includes('got-usr1'));
  const done = await waitFor(() => sup.get('1.deaf.borud.fbu').state === 'stopped' && sup.get('1.deaf.borud.fbu'));
  t.is(done.lastExit.signal, 'SIGTERM');
  t.false(alive(s.pid));
});

test('node drain refuses new starts with NODE_DRAINING and drains every service; undrain accepts starts again', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  // no drain signal: each keeps running for its drain window, then is stopped
  await sup.create(spec('1.a.borud.fbu', { drain: { timeoutSeconds: 2 } }));
  await sup.create(spec('2.a.borud.fbu', { drain: { timeoutSeconds: 2 } }));
  await sup.drainNode();
  t.is(sup.nodeState, 'draining');
  for (const c of ['1.a.borud.fbu', '2.a.borud.fbu']) t.is(sup.get(c).state, 'draining');
  const err = await t.throwsAsync(sup.create(spec('3.a.borud.fbu')));
  t.is(err.code, 'NODE_DRAINING');
  t.is(err.status, 409);
  await t.throwsAsync(sup.start('1.a.borud.fbu'), { code: 'NODE_DRAINING' });
  await waitFor(() => sup.list().every((s) => s.state === 'stopped'), { what: 'all stopped' });
  t.is(sup.counts().stopped, 2);
  await sup.undrainNode();
  t.is(sup.nodeState, 'active');
  t.is((await sup.start('1.a.borud.fbu')).state, 'running');
});

test('start during a drain stops the draining process and starts a fresh one', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts, { 'bin/deaf': DEAF });
  const s = await sup.create(spec('1.redo.borud.fbu', { command: ['bin/deaf'], drain: { timeoutSeconds: 60 }, stop: { timeoutSeconds: 5 } }));
  await ready(s.runtimeDir);
  t.is((await sup.drain('1.redo.borud.fbu')).state, 'draining');
  const again = await sup.start('1.redo.borud.fbu');
  t.is(again.state, 'running');
  t.not(again.pid, s.pid);
  t.false(alive(s.pid));
});

test('metrics count starts, restarts, stops and services by state', async (t) => {
  const { sup, prefix, artifacts, metrics } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  const s = await sup.create(spec('1.m.borud.fbu', { restart: { backoffMs: 0 } }));
  process.kill(s.pid, 'SIGKILL');
  await waitFor(() => sup.get('1.m.borud.fbu').restarts === 1 && sup.get('1.m.borud.fbu').state === 'running');
  await sup.stop('1.m.borud.fbu');
  const text = await metrics.metrics();
  t.regex(text, /nodee_service_starts_total 2/);
  t.regex(text, /nodee_service_restarts_total 1/);
  t.regex(text, /nodee_service_stops_total 1/);
  t.regex(text, /nodee_service_states\{state="stopped"\} 1/);
  t.regex(text, /nodee_service_states\{state="running"\} 0/);
});
