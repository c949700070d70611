import test from 'ava';
import { copyFile, mkdir, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { startDaemon, cli, CLI } from '../helpers/daemon.mjs';
import { startArtifactServer } from '../helpers/artifact-server.mjs';
import { makeZip, manyFiles } from '../helpers/zip.mjs';
import { tempDir, waitFor } from '../helpers/tmp.mjs';
import { listDir, modeOf, snapshot } from './store-helper.mjs';

const TEMPLATE = '/{groupPath}/{artifactId}/{version}/{artifactId}-{version}.zip';

async function repoWith(t, entries) {
  const root = await tempDir(t, 'nodee-repo-');
  for (const [id, zip] of Object.entries(entries)) {
    const [g, a, v] = id.split(':');
    const file = path.join(root, ...g.split('.'), a, v, `${a}-${v}.zip`);
    await mkdir(path.dirname(file), { recursive: true });
    await copyFile(zip, file);
  }
  return root;
}

test('REST: PUT 201 then 200, GET one and all, DELETE 204, errors as the contract says', async (t) => {
  const good = await makeZip(t, { 'run': { content: '#!/bin/sh\necho ok\n', mode: 0o755 } });
  const evil = await makeZip(t, { '../evil': 'x' }, { tool: 'python' });
  const bomb = await makeZip(t, { 'zeros': Buffer.alloc(8 * 1024 * 1024) });
  const root = await repoWith(t, { 'com.acme:good:1.0': good, 'com.acme:evil:1': evil, 'com.acme:bomb:1': bomb });
  const server = await startArtifactServer(t, root);
  const d = await startDaemon(t, { config: { repositories: [{ url: server.url + TEMPLATE }], limits: { artifactMaxBytes: 1024 * 1024 } } });

  const put = await d.api('PUT', '/v1/artifacts/com.acme/good/1.0');
  t.is(put.status, 201, put.text);
  t.like(put.body, { id: 'com.acme:good:1.0', state: 'installed', fileCount: 1 });
  t.is(put.body.path, path.join(d.prefix, 'software', 'com.acme', 'good', '1.0'));
  t.is(modeOf(path.join(put.body.path, 'run')), 0o555);
  t.is((await d.api('PUT', '/v1/artifacts/com.acme/good/1.0')).status, 200);
  t.like((await d.api('GET', '/v1/artifacts/com.acme/good/1.0')).body, { state: 'installed' });
  t.deepEqual((await d.api('GET', '/v1/artifacts')).body.artifacts.map((a) => a.id), ['com.acme:good:1.0']);

  const expect = async (method, p, body, status, code) => {
    const res = await d.api(method, p, body);
    t.is(res.status, status, `${method} ${p}: ${res.text}`);
    if (code) t.is(res.body.error.code, code, res.text);
  };
  await expect('GET', '/v1/artifacts/com.acme/none/1', undefined, 404, 'ARTIFACT_NOT_FOUND');
  await expect('PUT', '/v1/artifacts/com.acme/none/1', undefined, 404, 'ARTIFACT_NOT_FOUND');
  await expect('PUT', '/v1/artifacts/com.acme/evil/1', undefined, 422, 'UNSAFE_ARCHIVE');
  await expect('PUT', '/v1/artifacts/com.acme/bomb/1', undefined, 422, 'TOO_LARGE');
  await expect('PUT', '/v1/artifacts/com.acme/x/1', { sha256: 'nope' }, 400, 'BAD_REQUEST');
  await expect('PUT', '/v1/artifacts/com.acme/x/1', { url: 'ftp://x/y.zip' }, 400, 'BAD_REQUEST');
  await expect('PUT', '/v1/artifacts/com.acme/x/1', { extra: 1 }, 400, 'BAD_REQUEST');
  await expect('PUT', '/v1/artifacts/com.acme/good/1.0', { sha256: 'a'.repeat(64) }, 422, 'CHECKSUM_MISMATCH');
  await expect('PUT', '/v1/artifacts/-bad/x/1', undefined, 400, 'BAD_REQUEST');
  await expect('PUT', `/v1/artifacts/com.acme/y/1`, { url: `${server.url}/nowhere.zip` }, 404, 'ARTIFACT_NOT_FOUND');
  const cut = await startArtifactServer(t, root, { fail503: 1000 });
  await expect('PUT', '/v1/artifacts/com.acme/z/1', { url: `${cut.url}/com/acme/good/1.0/good-1.0.zip` }, 502, 'REPOSITORY_ERROR');
  t.deepEqual(listDir(path.join(d.prefix, 'software', '.staging')), []);

  await expect('DELETE', '/v1/artifacts/com.acme/good/1.0', undefined, 204);
  await expect('DELETE', '/v1/artifacts/com.acme/good/1.0', undefined, 404, 'ARTIFACT_NOT_FOUND');
  t.deepEqual((await d.api('GET', '/v1/artifacts')).body.artifacts, []);

  const metrics = (await d.api('GET', '/metrics')).text;
  t.regex(metrics, /nodee_artifact_installs_total\{result="installed"\} 1/);
  t.regex(metrics, /nodee_artifact_install_failures_total\{code="UNSAFE_ARCHIVE"\} 1/);
});

test('kill -9 in the middle of a large install leaves no artifact; the next start cleans staging and installs', async (t) => {
  const zip = await makeZip(t, manyFiles(400, 10_000), { level: 0 });
  const root = await repoWith(t, { 'com.acme:big:1': zip });
  const server = await startArtifactServer(t, root, { throttle: 1024 * 1024 });
  const config = { repositories: [{ url: server.url + TEMPLATE, checksum: 'ignore' }] };
  const d = await startDaemon(t, { config });
  const put = d.api('PUT', '/v1/artifacts/com.acme/big/1').catch((err) => err);
  const staging = path.join(d.prefix, 'software', '.staging');
  await waitFor(async () => (await d.api('GET', '/v1/artifacts/com.acme/big/1')).body.progress?.bytes > 0, { what: 'download under way' });
  t.is((await d.api('GET', '/v1/artifacts/com.acme/big/1')).body.state, 'installing');
  t.deepEqual((await d.api('GET', '/v1/artifacts')).body.artifacts, [], 'list never shows it half-installed');
  await d.kill9();
  await put;
  t.true(listDir(staging).length > 0, 'the crash left something in staging');
  t.false(listDir(path.join(d.prefix, 'software')).includes('com.acme'), 'but nothing in software/');

  server.opts.throttle = undefined;
  const again = await startDaemon(t, { config, prefix: d.prefix });
  t.deepEqual(listDir(staging), [], 'leftovers cleaned at start');
  t.deepEqual((await again.api('GET', '/v1/artifacts')).body.artifacts, []);
  const res = await again.api('PUT', '/v1/artifacts/com.acme/big/1');
  t.is(res.status, 201, res.text);
  t.is(res.body.fileCount, 400);
});

test('kill -9 while unpacking: a complete artifact or none, never a partial one', async (t) => {
  // many small files make the unpack phase long enough to be hit
  const zip = await makeZip(t, manyFiles(6000, 200));
  const root = await repoWith(t, { 'com.acme:many:1': zip });
  const server = await startArtifactServer(t, root);
  const config = { repositories: [{ url: server.url + TEMPLATE, checksum: 'ignore' }] };
  const d = await startDaemon(t, { config });
  const put = d.api('PUT', '/v1/artifacts/com.acme/many/1').catch((err) => err);
  const staging = path.join(d.prefix, 'software', '.staging');
  // the instant the first file appears in a staging root
  await waitFor(() => listDir(staging).some((s) => listDir(path.join(staging, s, 'root', 'f')).length > 0), { intervalMs: 2, what: 'unpacking' });
  await d.kill9();
  await put;
  const dir = path.join(d.prefix, 'software', 'com.acme', 'many', '1');
  const landed = listDir(dir);
  t.true(landed.length === 0 || listDir(path.join(dir, 'f')).length === 6000, 'none or all');

  const again = await startDaemon(t, { config, prefix: d.prefix });
  t.deepEqual(listDir(staging), []);
  const res = await again.api('PUT', '/v1/artifacts/com.acme/many/1');
  t.true(res.status === 201 || res.status === 200, res.text);
  t.is(listDir(path.join(dir, 'f')).length, 6000);
});

test('CLI: artifact install (final line when not a terminal), list, remove, and errors', async (t) => {
  const zip = await makeZip(t, { 'a.txt': 'a', 'b/c.txt': 'c' });
  const root = await repoWith(t, { 'com.acme:cli:2.0': zip });
  const server = await startArtifactServer(t, root);
  const d = await startDaemon(t, { config: { repositories: [{ url: server.url + TEMPLATE }] } });
  const env = { NODEE_URL: d.url };

  const install = await cli(['artifact', 'install', 'com.acme:cli:2.0'], { env });
  t.is(install.code, 0, install.stderr);
  t.regex(install.stdout, /^installed com\.acme:cli:2\.0: 2 files, 2 B in .*software\/com\.acme\/cli\/2\.0/);
  t.is(install.stderr, '', 'no bar when stderr is not a terminal');

  const list = await cli(['artifact', 'list'], { env });
  t.is(list.code, 0);
  t.regex(list.stdout, /^ID\s+SIZE\s+FILES\s+INSTALLED\s+SHA256\ncom\.acme:cli:2\.0\s+2 B\s+2\s/);
  const json = await cli(['--json', 'artifact', 'list'], { env });
  t.deepEqual(JSON.parse(json.stdout).artifacts.map((a) => a.id), ['com.acme:cli:2.0']);

  const bad = await cli(['artifact', 'install', 'com.acme:cli:2.0', '--sha256', '0'.repeat(64)], { env });
  t.is(bad.code, 1);
  t.regex(bad.stderr, /CHECKSUM_MISMATCH/);
  const missing = await cli(['artifact', 'install', 'com.acme:nope:1'], { env });
  t.is(missing.code, 1);
  t.regex(missing.stderr, /ARTIFACT_NOT_FOUND/);
  const usage = await cli(['artifact', 'install', 'not-an-id'], { env });
  t.is(usage.code, 2);

  const rm = await cli(['artifact', 'remove', 'com.acme:cli:2.0'], { env });
  t.is(rm.code, 0, rm.stderr);
  t.is(rm.stdout, 'removed com.acme:cli:2.0\n');
  const rm2 = await cli(['artifact', 'remove', 'com.acme:cli:2.0'], { env });
  t.is(rm2.code, 1);
  t.regex(rm2.stderr, /ARTIFACT_NOT_FOUND/);
});

/** Runs the CLI under a pseudo-terminal (util-linux `script`), so stderr is a TTY. */
function cliOnTty(args, env) {
  return new Promise((resolve) => {
    const command = [process.execPath, CLI, ...args].map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(' ');
    const proc = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    proc.on('close', (code) => resolve({ code, out })); // after all output is read
  });
}

test('CLI: on a terminal, install draws a progress bar while the download runs', async (t) => {
  const zip = await makeZip(t, manyFiles(200, 5000), { level: 0 });
  const root = await repoWith(t, { 'com.acme:bar:1': zip });
  const server = await startArtifactServer(t, root, { throttle: 400 * 1024 });
  const d = await startDaemon(t, { config: { repositories: [{ url: server.url + TEMPLATE, checksum: 'ignore' }] } });
  const res = await cliOnTty(['artifact', 'install', 'com.acme:bar:1'], { NODEE_URL: d.url });
  t.is(res.code, 0, res.out);
  t.regex(res.out, /com\.acme:bar:1 \[#*-*\] +\d+% [\d.]+ KiB \/ [\d.]+ (KiB|MiB)/);
  t.regex(res.out, /installed com\.acme:bar:1: 200 files/);
});

test('DELETE of an artifact a service uses is 409 ARTIFACT_IN_USE until the service is removed', async (t) => {
  const zip = await makeZip(t, { 'run': { content: '#!/bin/sh\nexec sleep 300\n', mode: 0o755 } });
  const root = await repoWith(t, { 'com.acme:svc:1': zip });
  const server = await startArtifactServer(t, root);
  const d = await startDaemon(t, { config: { repositories: [{ url: server.url + TEMPLATE }] } });
  t.is((await d.api('PUT', '/v1/artifacts/com.acme/svc/1')).status, 201);
  const created = await d.api('POST', '/v1/services', { coordinate: '1.svc.test.local', artifact: 'com.acme:svc:1', command: ['run'], restart: { policy: 'never' } });
  t.is(created.status, 201, created.text);
  const busy = await d.api('DELETE', '/v1/artifacts/com.acme/svc/1');
  t.is(busy.status, 409, busy.text);
  t.is(busy.body.error.code, 'ARTIFACT_IN_USE');
  t.truthy((await stat(path.join(d.prefix, 'software', 'com.acme', 'svc', '1', 'run'))).isFile());
  t.is((await d.api('POST', '/v1/services/1.svc.test.local/stop')).status, 200);
  t.is((await d.api('DELETE', '/v1/services/1.svc.test.local')).status, 204);
  t.is((await d.api('DELETE', '/v1/artifacts/com.acme/svc/1')).status, 204);
});

test('https repositories: a trusted certificate installs, an untrusted one is 502 REPOSITORY_ERROR without retries', async (t) => {
  const dir = await tempDir(t, 'nodee-tls-');
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const zip = await makeZip(t, { 'a.txt': 'over tls' });
  const root = await repoWith(t, { 'com.acme:tls:1': zip });
  const server = await startArtifactServer(t, root, { tls: { cert: await readFile(cert), key: await readFile(key) } });
  const config = { repositories: [{ url: server.url + TEMPLATE }] };

  const trusting = await startDaemon(t, { config, env: { NODE_EXTRA_CA_CERTS: cert } });
  const ok = await trusting.api('PUT', '/v1/artifacts/com.acme/tls/1');
  t.is(ok.status, 201, ok.text);
  t.is(ok.body.source, `${server.url}/com/acme/tls/1/tls-1.zip`);

  const before = server.requests.length;
  const wary = await startDaemon(t, { config });
  const refused = await wary.api('PUT', '/v1/artifacts/com.acme/tls/1');
  t.is(refused.status, 502, refused.text);
  t.is(refused.body.error.code, 'REPOSITORY_ERROR');
  t.is(server.requests.length, before, 'no request got past the handshake');
  t.false(wary.logs().includes('retrying'), 'a certificate problem is not transient');
});
