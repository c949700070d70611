import test from 'ava';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { alive, readText, scriptsArtifact, spec, startSupervisor, waitFor } from './helpers.mjs';

test('create starts the service in its runtime dir with the NODEE_* environment, logs go to files', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  const dir = await scriptsArtifact(prefix, artifacts);
  const s = await sup.create(spec('1.web.borud.fbu', { command: ['bin/env'], ports: ['http', 'admin'], env: { GREETING: 'port ${NODEE_PORT_HTTP}' } }));
  t.is(s.state, 'running');
  t.true(alive(s.pid));
  t.is(s.runtimeDir, path.join(prefix, 'runtime', 'fbu', 'borud', 'web', '1'));
  t.deepEqual(Object.keys(s.ports).sort(), ['admin', 'http']);
  t.not(s.ports.http, s.ports.admin);
  const out = await waitFor(async () => {
    const text = await readText(path.join(s.runtimeDir, 'logs', 'stdout.log'));
    return text.includes('NODEE_SOFTWARE_DIR') && text;
  });
  t.true(out.includes(`NODEE_COORDINATE=1.web.borud.fbu\n`));
  t.true(out.includes(`NODEE_RUNTIME_DIR=${s.runtimeDir}\n`));
  t.true(out.includes(`NODEE_SOFTWARE_DIR=${dir}\n`));
  t.true(out.includes(`NODEE_PORT_HTTP=${s.ports.http}\n`));
  t.true(out.includes(`NODEE_PORT_ADMIN=${s.ports.admin}\n`));
  t.true(out.includes(`GREETING=port ${s.ports.http}\n`));
  t.true(out.includes(`PWD=${s.runtimeDir}\n`));
  t.false(out.includes('NODEE_TOKEN'), 'the daemon environment does not leak');
});

test('a crash is restarted by policy, counted, and lastExit records the code', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  await sup.create(spec('1.crashy.borud.fbu', { command: ['bin/crash'], restart: { backoffMs: 10, limit: { restarts: 3, windowSeconds: 60 } } }));
  const failed = await waitFor(() => sup.get('1.crashy.borud.fbu').state === 'failed' && sup.get('1.crashy.borud.fbu'));
  t.is(failed.restarts, 3);
  t.is(failed.lastExit.code, 3);
  t.is(failed.lastExit.signal, null);
  t.is(failed.pid, null);
  const err = await readText(path.join(failed.runtimeDir, 'logs', 'stderr.log'));
  t.is(err, 'crash\ncrash\ncrash\ncrash\n');
});

test('kill -9 with zero backoff: running again with a new pid, lastExit says SIGKILL', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  const s = await sup.create(spec('1.phoenix.borud.fbu', { restart: { backoffMs: 0 } }));
  process.kill(s.pid, 'SIGKILL');
  const again = await waitFor(() => {
    const now = sup.get('1.phoenix.borud.fbu');
    return now.state === 'running' && now.pid !== s.pid && now;
  });
  t.true(alive(again.pid));
  t.is(again.restarts, 1);
  t.is(again.lastExit.signal, 'SIGKILL');
});

test('policy never and on-failure leave a service exited', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  await sup.create(spec('1.once.borud.fbu', { command: ['bin/crash'], restart: { policy: 'never' } }));
  await sup.create(spec('1.clean.borud.fbu', { command: ['bin/quit'], restart: { policy: 'on-failure' } }));
  await waitFor(() => sup.get('1.once.borud.fbu').state === 'exited' && sup.get('1.clean.borud.fbu').state === 'exited');
  t.is(sup.get('1.once.borud.fbu').restarts, 0);
  t.is(sup.get('1.clean.borud.fbu').lastExit.code, 0);
});

test('stop waits for the process; remove is refused until stopped; purge deletes the runtime dir', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  const s = await sup.create(spec('2.web.borud.fbu', { ports: ['http'] }));
  const err = await t.throwsAsync(sup.remove('2.web.borud.fbu', { purge: false }));
  t.is(err.code, 'SERVICE_RUNNING');
  t.is(err.status, 409);
  const stopped = await sup.stop('2.web.borud.fbu');
  t.is(stopped.state, 'stopped');
  t.is(stopped.pid, null);
  t.false(alive(s.pid));
  t.is(stopped.lastExit.signal, 'SIGTERM');
  t.false(sup.usesArtifact('com.example:other:1'));
  t.true(sup.usesArtifact(s.artifact));
  await sup.remove('2.web.borud.fbu', { purge: true });
  t.false(existsSync(s.runtimeDir));
  t.false(sup.usesArtifact(s.artifact));
  t.is((await t.throwsAsync(async () => sup.get('2.web.borud.fbu'))).code, 'SERVICE_NOT_FOUND');
  // the port went back to the pool: a new service may get it
  t.deepEqual(sup.list(), []);
});

test('remove without purge keeps the runtime dir; start and restart of an existing service', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  const s = await sup.create(spec('3.web.borud.fbu'));
  const restarted = await sup.restart('3.web.borud.fbu');
  t.is(restarted.state, 'running');
  t.not(restarted.pid, s.pid);
  t.false(alive(s.pid));
  await sup.stop('3.web.borud.fbu');
  const started = await sup.start('3.web.borud.fbu');
  t.is(started.state, 'running');
  t.true(alive(started.pid));
  await sup.stop('3.web.borud.fbu');
  await sup.remove('3.web.borud.fbu', { purge: false });
  t.true(existsSync(path.join(s.runtimeDir, 'logs', 'stdout.log')));
});

test('backoff is a visible state between a crash and the next start', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  await sup.create(spec('1.slow.borud.fbu', { command: ['bin/crash'], restart: { backoffMs: 400, limit: { restarts: 2, windowSeconds: 60 } } }));
  const seen = new Set();
  await waitFor(() => {
    seen.add(sup.get('1.slow.borud.fbu').state);
    return sup.get('1.slow.borud.fbu').state === 'failed';
  }, { intervalMs: 5 });
  t.true(seen.has('backoff'));
  t.is(sup.get('1.slow.borud.fbu').restarts, 2);
  // an operator start gives it a fresh window
  await sup.start('1.slow.borud.fbu');
  await waitFor(() => sup.get('1.slow.borud.fbu').restarts === 3, { what: 'a restart in the fresh window' });
  t.pass();
});
