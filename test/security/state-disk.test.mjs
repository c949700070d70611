/**
 * "2xx means on disk": a full disk under state/ (a real 256 kB tmpfs) and a purge that
 * cannot finish (a mount point in the runtime dir) against a real daemon.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { startDaemon } from '../helpers/daemon.mjs';
import { tempDir, waitFor } from '../helpers/tmp.mjs';
import { E2E_ART, scriptsZip } from '../services/e2e-helpers.mjs';
import { daemonWithScripts, isRoot, serviceSpec } from './_users.mjs';

if (!isRoot) throw new Error('test/security needs root (mounts)');

async function tmpfs(t, dir, size) {
  await mkdir(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  t.teardown(() => {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    } catch {
      // the test unmounted it already
    }
  });
}

/** Fills the filesystem of `dir` until ENOSPC; returns a function that frees it again. */
function fill(dir) {
  const filler = path.join(dir, 'filler');
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k'], { stdio: 'ignore' });
  } catch {
    // dd ends with ENOSPC: that is the point
  }
  return () => rm(filler, { force: true });
}

const leftovers = (dir) => readdirSync(dir).filter((n) => n.endsWith('.tmp'));

test('a full state disk: 507 STATE_WRITE_FAILED, nothing created, no temp files; the write is retried until it lands', async (t) => {
  const prefix = await tempDir(t, 'nodee-sec-');
  await chmod(prefix, 0o755);
  const state = path.join(prefix, 'state');
  await tmpfs(t, state, '256k');
  let d = await startDaemon(t, { prefix });
  const zip = await scriptsZip(t);
  const put = (v) => d.api('PUT', `/v1/artifacts/com.example/e2e/${v}`, { url: `file://${zip}` });
  t.is((await put('1.0.0')).status, 201);

  let free = fill(state);
  // a new service whose record cannot be written is not created, and no process is started
  const c = '1.full.a.b';
  const refused = await d.api('POST', '/v1/services', serviceSpec(c));
  t.is(refused.status, 507, JSON.stringify(refused.body));
  t.is(refused.body.error.code, 'STATE_WRITE_FAILED');
  t.deepEqual((await d.api('GET', '/v1/services')).body.services, []);
  t.false(existsSync(path.join(prefix, 'runtime', 'b', 'a', 'full', '1')), 'no runtime dir, so nothing ran');
  t.deepEqual(leftovers(path.join(state, 'services')), []);
  // the artifact index likewise: no 201 for an artifact the index does not hold
  const install = await put('2.0.0');
  t.is(install.status, 507, JSON.stringify(install.body));
  t.is(install.body.error.code, 'STATE_WRITE_FAILED');
  t.false(existsSync(path.join(prefix, 'software', 'com.example', 'e2e', '2.0.0')));
  t.deepEqual(leftovers(state), []);
  await free();

  const created = await d.api('POST', '/v1/services', serviceSpec(c));
  t.is(created.status, 201, JSON.stringify(created.body));
  t.is((await put('2.0.0')).status, 201);

  // a stop on a full disk happens, answers 507, and reaches the disk once there is room
  free = fill(state);
  const stop = await d.api('POST', `/v1/services/${c}/stop`);
  t.is(stop.status, 507);
  t.is((await d.api('GET', `/v1/services/${c}`)).body.state, 'stopped');
  await free();
  const recordFile = path.join(state, 'services', `${c}.json`);
  await waitFor(() => JSON.parse(readFileSync(recordFile, 'utf8')).data.state === 'stopped', { what: 'the retried write' });
  t.deepEqual(leftovers(path.join(state, 'services')), []);
  await d.kill9();
  d = await startDaemon(t, { prefix });
  const after = (await d.api('GET', `/v1/services/${c}`)).body;
  t.is(after.state, 'stopped', 'a restarted daemon knows the stop');
  t.is(after.artifact, E2E_ART);

  // a node drain likewise: 507 while its state cannot be written, on disk once it can
  free = fill(state);
  const drain = await d.api('POST', '/v1/drain');
  t.is(drain.status, 507);
  t.is(drain.body.error.code, 'STATE_WRITE_FAILED');
  await free();
  await waitFor(() => JSON.parse(readFileSync(path.join(state, 'node-drain.json'), 'utf8')).data.draining === true, { what: 'the retried drain write' });
  t.deepEqual(leftovers(state), []);
});

test('purge first, forget after: a purge that fails keeps the service (PURGE_FAILED), the DELETE can be repeated', async (t) => {
  const d = await daemonWithScripts(t);
  const c = '1.purge.a.b';
  const res = await d.api('POST', '/v1/services', serviceSpec(c));
  t.is(res.status, 201, JSON.stringify(res.body));
  t.is((await d.api('POST', `/v1/services/${c}/stop`)).status, 200);
  // a mount point inside the runtime dir cannot be removed (EBUSY)
  const mnt = path.join(res.body.runtimeDir, 'mnt');
  await tmpfs(t, mnt, '64k');
  const failed = await d.api('DELETE', `/v1/services/${c}?purge=true`);
  t.is(failed.status, 500);
  t.is(failed.body.error.code, 'PURGE_FAILED');
  t.is((await d.api('GET', `/v1/services/${c}`)).status, 200, 'the service is still known');
  execFileSync('umount', [mnt]);
  t.is((await d.api('DELETE', `/v1/services/${c}?purge=true`)).status, 204);
  t.false(existsSync(res.body.runtimeDir));
  t.is((await d.api('GET', `/v1/services/${c}`)).status, 404);
});
