import test from 'ava';
import { existsSync } from 'node:fs';
import { readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { ART, makeArtifact, scriptsArtifact, spec, startSupervisor } from './helpers.mjs';

async function refused(t, sup, input, code, pattern) {
  const err = await t.throwsAsync(sup.create(input));
  t.is(err.code, code, err.message);
  if (pattern) t.regex(err.message, pattern);
  return err;
}

test('coordinates follow Cloudname: regex, instance range, name length', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  for (const bad of ['web.borud.fbu', '1.Web.borud.fbu', '1.web.borud', 'x.web.borud.fbu', '1.9web.borud.fbu', '1.web.bo rud.fbu', '-1.web.borud.fbu', '2147483648.web.borud.fbu', '01.web.borud.fbu', `1.${'a'.repeat(64)}.borud.fbu`]) {
    await refused(t, sup, spec(bad), 'BAD_REQUEST', /coordinate/);
  }
  const ok = await sup.create(spec(`2147483647.${'a'.repeat(63)}.b_1.c-2`));
  t.is(ok.state, 'running');
  t.throws(() => sup.get('nope'), { code: 'BAD_REQUEST' });
  t.throws(() => sup.get('9.no.such.service'), { code: 'SERVICE_NOT_FOUND' });
});

test('the spec is validated whole: unknown keys are named, bad values name their field', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  await refused(t, sup, { ...spec('1.a.b.c'), colour: 'red' }, 'BAD_REQUEST', /colour: unknown key/);
  await refused(t, sup, spec('1.a.b.c', { restart: { polcy: 'always' } }), 'BAD_REQUEST', /restart\.polcy: unknown key/);
  await refused(t, sup, spec('1.a.b.c', { restart: { policy: 'sometimes' } }), 'BAD_REQUEST', /restart\.policy/);
  await refused(t, sup, spec('1.a.b.c', { stop: { signal: 'SIGNOPE' } }), 'BAD_REQUEST', /stop\.signal/);
  await refused(t, sup, spec('1.a.b.c', { ports: ['http', 'http'] }), 'BAD_REQUEST', /ports/);
  await refused(t, sup, spec('1.a.b.c', { env: { NODEE_COORDINATE: 'x' } }), 'BAD_REQUEST', /env/);
  await refused(t, sup, spec('1.a.b.c', { artifact: 'no-colons' }), 'BAD_REQUEST', /artifact/);
  await refused(t, sup, 'not an object', 'BAD_REQUEST');
  // a missing field says so, not zod's "expected string, received undefined"
  const { coordinate: _c, ...noCoordinate } = spec('1.a.b.c');
  const missing = await refused(t, sup, noCoordinate, 'BAD_REQUEST', /^coordinate is required$/);
  t.notRegex(missing.message, /undefined/);
  const both = await refused(t, sup, spec('1.a.b.c', { restart: { backoffMs: -1 }, files: [{ to: 'x' }] }), 'BAD_REQUEST');
  t.regex(both.message, /restart\.backoffMs/);
  t.regex(both.message, /files\.0/);
  t.deepEqual(sup.list(), []);
});

test('artifact must be installed; the command must exist and stay inside the artifact; ${VAR} must be defined', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  const dir = await scriptsArtifact(prefix, artifacts);
  await symlink('/bin/sh', path.join(dir, 'bin', 'link'));
  await refused(t, sup, spec('1.a.b.c', { command: ['bin/link'] }), 'BAD_REQUEST', /link that leaves the artifact/);
  await refused(t, sup, { ...spec('1.a.b.c'), artifact: 'com.example:missing:1' }, 'ARTIFACT_NOT_INSTALLED');
  await refused(t, sup, spec('1.a.b.c', { command: ['../../../../bin/sh'] }), 'BAD_REQUEST', /leaves the artifact/);
  await refused(t, sup, spec('1.a.b.c', { command: ['bin/nothing'] }), 'BAD_REQUEST', /does not exist/);
  await refused(t, sup, spec('1.a.b.c', { command: ['no-such-program-anywhere'] }), 'BAD_REQUEST', /neither in the artifact nor on PATH/);
  await refused(t, sup, spec('1.a.b.c', { args: ['--port', '${NODEE_PORT_HTTP}'] }), 'BAD_REQUEST', /args\[1\].*NODEE_PORT_HTTP/);
  await refused(t, sup, spec('1.a.b.c', { files: [{ from: '../x', to: 'x' }] }), 'BAD_REQUEST', /files\[0\]\.from/);
  await refused(t, sup, spec('1.a.b.c', { files: [{ from: 'bin/sleeper', to: '../../x' }] }), 'BAD_REQUEST', /files\[0\]\.to/);
  await refused(t, sup, spec('1.a.b.c', { user: 'no-such-user-here' }), 'BAD_REQUEST', /user/);
  t.deepEqual(sup.list(), []);
  t.false(existsSync(path.join(prefix, 'runtime', 'c')), 'a refused spec leaves no runtime dir');
  t.deepEqual(await readdir(path.join(prefix, 'state', 'services')), []);
});

test('command words: a bare name on PATH, an absolute path, and nodee.json defaults', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  t.is((await sup.create(spec('1.path.b.c', { command: ['sleep', '1000'] }))).state, 'running');
  t.is((await sup.create(spec('1.abs.b.c', { command: ['/bin/sleep'], args: ['1000'] }))).state, 'running');

  const withManifest = 'com.example:manifest:2.0';
  artifacts.map.set(
    withManifest,
    await makeArtifact(prefix, withManifest, {
      'run.sh': '#!/bin/sh\necho "args: $*"\nexec sleep 1000\n',
      'nodee.json': JSON.stringify({ command: ['run.sh'], args: ['--port', '${NODEE_PORT_WEB}'], ports: ['web'] }),
    }),
  );
  const s = await sup.create({ coordinate: '1.manifest.b.c', artifact: withManifest });
  t.deepEqual(s.spec.command, ['run.sh']);
  t.deepEqual(Object.keys(s.ports), ['web']);
  const none = 'com.example:bare:1';
  artifacts.map.set(none, await makeArtifact(prefix, none, { 'README': 'x' }));
  await refused(t, sup, { coordinate: '2.manifest.b.c', artifact: none }, 'BAD_REQUEST', /command: required/);
});

test('SERVICE_EXISTS for a taken coordinate, also for two concurrent creates', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  const results = await Promise.allSettled([sup.create(spec('1.twin.b.c')), sup.create(spec('1.twin.b.c'))]);
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  t.is(results.find((r) => r.status === 'rejected').reason.code, 'SERVICE_EXISTS');
  await refused(t, sup, spec('1.twin.b.c'), 'SERVICE_EXISTS');
  t.is(sup.list().length, 1);
  t.true(sup.usesArtifact(ART));
});
