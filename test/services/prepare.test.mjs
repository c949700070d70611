import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { readText, scriptsArtifact, spec, startSupervisor, tempDir, waitFor } from './helpers.mjs';

/** A real ZIP made by Info-ZIP from a directory tree. */
async function makeZip(t, files) {
  const dir = await tempDir(t, 'nodee-zip-');
  const src = path.join(dir, 'src');
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(src, name)), { recursive: true });
    await writeFile(path.join(src, name), content);
  }
  const zip = path.join(dir, 'state.zip');
  execFileSync('zip', ['-qr', zip, '.'], { cwd: src });
  return zip;
}

/** A loopback HTTP server serving `routes` (path → Buffer/string); torn down with the test. */
async function serve(t, routes) {
  const server = http.createServer((req, res) => {
    const body = routes[req.url];
    if (body === undefined) {
      res.statusCode = 404;
      return res.end();
    }
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  return `http://127.0.0.1:${server.address().port}`;
}

test('files: copied from the artifact and from a URL before the first start, ${VAR} templated', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts, { 'conf/app.properties': 'port=${NODEE_PORT_HTTP}\nname=${NODEE_COORDINATE}\nliteral=$${HOME}\n', 'conf/raw.txt': '${NOT_EXPANDED}' });
  const base = await serve(t, { '/extra.conf': 'who=${WHO}\n' });
  const s = await sup.create(
    spec('1.files.b.c', {
      ports: ['http'],
      env: { WHO: 'nodee' },
      files: [
        { from: 'conf/app.properties', to: 'conf/app.properties', template: true },
        { from: 'conf/raw.txt', to: 'raw.txt' },
        { url: `${base}/extra.conf`, to: 'etc/extra.conf', template: true },
      ],
    }),
  );
  t.is(await readFile(path.join(s.runtimeDir, 'conf', 'app.properties'), 'utf8'), `port=${s.ports.http}\nname=1.files.b.c\nliteral=\${HOME}\n`);
  t.is(await readFile(path.join(s.runtimeDir, 'raw.txt'), 'utf8'), '${NOT_EXPANDED}');
  t.is(await readFile(path.join(s.runtimeDir, 'etc', 'extra.conf'), 'utf8'), 'who=nodee\n');
  t.truthy(statSync(path.join(s.runtimeDir, 'raw.txt')).mode & 0o200, 'copies are writable by the service');
});

test('files: a template with an undefined variable and a URL that 404s refuse the service', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts, { 'conf/bad': 'x=${TYPO}\n' });
  const base = await serve(t, {});
  const e1 = await t.throwsAsync(sup.create(spec('1.bad.b.c', { files: [{ from: 'conf/bad', to: 'bad', template: true }] })));
  t.is(e1.code, 'BAD_REQUEST');
  t.regex(e1.message, /TYPO/);
  const e2 = await t.throwsAsync(sup.create(spec('2.bad.b.c', { files: [{ url: `${base}/nope`, to: 'x' }] })));
  t.is(e2.code, 'BAD_REQUEST');
  t.deepEqual(sup.list(), []);
  t.false(existsSync(path.join(prefix, 'runtime', 'c', 'b', 'bad')));
});

test('restore: a saved ZIP (file:// and http with sha256) is unpacked into the empty runtime dir before the first start', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts, { 'bin/cat-state': '#!/bin/sh\ncat data/state.txt\necho more >> data/state.txt\nexec sleep 1000\n' });
  const zip = await makeZip(t, { 'data/state.txt': 'saved\n', 'data/deep/x.bin': 'x' });
  const s = await sup.create(spec('1.restore.b.c', { command: ['bin/cat-state'], restore: { url: `file://${zip}` } }));
  await waitFor(async () => (await readText(path.join(s.runtimeDir, 'logs', 'stdout.log'))) === 'saved\n');
  await waitFor(async () => (await readText(path.join(s.runtimeDir, 'data', 'state.txt'))) === 'saved\nmore\n', { what: 'the restored state to be writable' });

  const bytes = await readFile(zip);
  const base = await serve(t, { '/state.zip': bytes });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const h = await sup.create(spec('2.restore.b.c', { command: ['bin/cat-state'], restore: { url: `${base}/state.zip`, sha256 } }));
  await waitFor(async () => (await readText(path.join(h.runtimeDir, 'logs', 'stdout.log'))) === 'saved\n');
  // a restart does not restore again
  await sup.restart('2.restore.b.c');
  await waitFor(async () => (await readText(path.join(h.runtimeDir, 'logs', 'stdout.log'))) === 'saved\nsaved\nmore\n');
  t.is(await readFile(path.join(h.runtimeDir, 'data', 'deep', 'x.bin'), 'utf8'), 'x');
});

test('restore: a checksum mismatch or a corrupt ZIP creates nothing; a non-empty runtime dir is not overwritten', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts);
  const zip = await makeZip(t, { 'state.txt': 'saved\n' });
  const e1 = await t.throwsAsync(sup.create(spec('1.sum.b.c', { restore: { url: `file://${zip}`, sha256: '0'.repeat(64) } })));
  t.is(e1.code, 'CHECKSUM_MISMATCH');
  t.is(e1.status, 422);
  const junk = path.join(path.dirname(zip), 'junk.zip');
  await writeFile(junk, 'this is not a zip');
  const e2 = await t.throwsAsync(sup.create(spec('2.sum.b.c', { restore: { url: `file://${junk}` } })));
  t.is(e2.code, 'BAD_ARCHIVE');
  const e3 = await t.throwsAsync(sup.create(spec('3.sum.b.c', { restore: { url: 'http://127.0.0.1:1/state.zip' } })));
  t.is(e3.code, 'REPOSITORY_ERROR');
  t.deepEqual(sup.list(), []);
  t.deepEqual(await readdir(path.join(prefix, 'state', 'services')), []);
  t.false(existsSync(path.join(prefix, 'runtime', 'c', 'b', 'sum')), 'nothing left on disk');

  // an existing runtime dir with content keeps it: restore only fills an empty one
  const kept = path.join(prefix, 'runtime', 'c', 'b', 'keep', '1');
  await mkdir(kept, { recursive: true });
  await writeFile(path.join(kept, 'state.txt'), 'mine\n');
  await sup.create(spec('1.keep.b.c', { restore: { url: `file://${zip}` } }));
  t.is(await readFile(path.join(kept, 'state.txt'), 'utf8'), 'mine\n');
});

test('ports: never two services on one port, exhaustion is PORTS_EXHAUSTED, a removed service frees its ports', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t, { ports: { from: 21500, to: 21502 } });
  await scriptsArtifact(prefix, artifacts);
  const a = await sup.create(spec('1.p.b.c', { ports: ['a', 'b'] }));
  const e = await t.throwsAsync(sup.create(spec('2.p.b.c', { ports: ['a', 'b'] })));
  t.is(e.code, 'PORTS_EXHAUSTED');
  t.is(e.status, 409);
  const c = await sup.create(spec('3.p.b.c', { ports: ['x'] }));
  const all = [...Object.values(a.ports), ...Object.values(c.ports)];
  t.is(new Set(all).size, 3);
  await sup.stop('1.p.b.c');
  await sup.remove('1.p.b.c', { purge: true });
  const d = await sup.create(spec('4.p.b.c', { ports: ['a', 'b'] }));
  t.deepEqual(Object.values(d.ports).sort(), Object.values(a.ports).sort());
});

test('ports: a port something else listens on is skipped', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t, { ports: { from: 21600, to: 21601 } });
  await scriptsArtifact(prefix, artifacts);
  const busy = http.createServer();
  await new Promise((r) => busy.listen(21600, '0.0.0.0', r));
  t.teardown(() => new Promise((r) => busy.close(r)));
  const s = await sup.create(spec('1.busy.b.c', { ports: ['http'] }));
  t.is(s.ports.http, 21601);
});

test('restore: a repository that fails once is retried; a saved state over limits.artifactMaxBytes is TOO_LARGE', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t, { limits: { artifactMaxBytes: 4096, artifactMaxFiles: 100 } });
  await scriptsArtifact(prefix, artifacts);
  const small = await readFile(await makeZip(t, { 'state.txt': 'saved\n' }));
  const big = await readFile(await makeZip(t, { 'noise.bin': (await import('node:crypto')).randomBytes(16 * 1024) }));
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    if (req.url === '/flaky.zip' && hits === 1) {
      res.statusCode = 503;
      return res.end();
    }
    res.end(req.url === '/flaky.zip' ? small : big);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => server.close(r)));
  const base = `http://127.0.0.1:${server.address().port}`;

  const s = await sup.create(spec('1.flaky.b.c', { restore: { url: `${base}/flaky.zip` } }));
  t.is(hits, 2, 'one 503, then the retry');
  t.is(await readFile(path.join(s.runtimeDir, 'state.txt'), 'utf8'), 'saved\n');

  const e = await t.throwsAsync(sup.create(spec('1.big.b.c', { restore: { url: `${base}/big.zip` } })));
  t.is(e.code, 'TOO_LARGE');
  t.is(e.status, 422);
  t.false(existsSync(path.join(prefix, 'runtime', 'c', 'b', 'big')), 'nothing left on disk');
});
