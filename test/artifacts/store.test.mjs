import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile, copyFile, readdir, stat, chmod } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startArtifactServer } from '../helpers/artifact-server.mjs';
import { makeZip, manyFiles } from '../helpers/zip.mjs';
import { tempDir, waitFor } from '../helpers/tmp.mjs';
import { makeStore, listDir, modeOf, rejection, snapshot } from './store-helper.mjs';

const ID = 'com.example:app:1.0.0';
const TEMPLATE = '/{groupPath}/{artifactId}/{version}/{artifactId}-{version}.zip';

const sha = (algo, buf) => createHash(algo).update(buf).digest('hex');

/** A repository dir holding `zip` at the Maven path of `id`, with optional sidecars. */
async function publish(t, zip, { id = ID, root, sha256, sha1 } = {}) {
  root ??= await tempDir(t, 'nodee-repo-');
  const [g, a, v] = id.split(':');
  const file = path.join(root, ...g.split('.'), a, v, `${a}-${v}.zip`);
  await mkdir(path.dirname(file), { recursive: true });
  await copyFile(zip, file);
  const bytes = await readFile(file);
  if (sha256 !== undefined) await writeFile(file + '.sha256', sha256 === true ? `${sha('sha256', bytes)}  ${a}-${v}.zip\n` : sha256);
  if (sha1 !== undefined) await writeFile(file + '.sha1', sha1 === true ? sha('sha1', bytes) : sha1);
  return { root, file, bytes, sha256: sha('sha256', bytes) };
}

const APP = { 'bin/run': { content: '#!/bin/sh\necho app\n', mode: 0o755 }, 'lib/app.txt': 'app\n' };

test('installs from a repository template into software/<g>/<a>/<v>, read-only, and records it', async (t) => {
  const repo = await publish(t, await makeZip(t, APP), { sha256: true });
  const server = await startArtifactServer(t, repo.root);
  const { store, software, staging, prefix } = await makeStore(t, { repositories: [server.url + TEMPLATE] });
  let changes = 0;
  store.on('change', () => changes++);

  const first = await store.install(ID);
  t.true(first.created);
  const dir = path.join(software, 'com.example', 'app', '1.0.0');
  t.like(first.artifact, {
    id: ID, groupId: 'com.example', artifactId: 'app', version: '1.0.0', state: 'installed', path: dir,
    fileCount: 2, sizeBytes: 23, sha256: repo.sha256, source: `${server.url}/com/example/app/1.0.0/app-1.0.0.zip`,
  });
  t.truthy(Date.parse(first.artifact.installedAt));
  t.is(changes, 1);
  t.is(store.installedPath(ID), dir);
  t.deepEqual(store.list().map((a) => a.id), [ID]);
  t.is(modeOf(dir), 0o555, 'the version dir itself is sealed');
  t.deepEqual(snapshot(dir), {
    bin: { type: 'dir', mode: 0o555 },
    'bin/run': { type: 'file', mode: 0o555, content: '#!/bin/sh\necho app\n' },
    lib: { type: 'dir', mode: 0o555 },
    'lib/app.txt': { type: 'file', mode: 0o444, content: 'app\n' },
  });
  t.deepEqual(listDir(staging), [], 'staging is empty after an install');
  const saved = JSON.parse(await readFile(path.join(prefix, 'state', 'artifacts.json'), 'utf8'));
  t.is(saved.data[ID].sha256, repo.sha256);

  const again = await store.install(ID);
  t.false(again.created);
  t.is(server.requests.filter((r) => r.path.endsWith('.zip') && !r.range).length, 1, 'already there: no download');
  await rejection(t, store.install(ID, { sha256: 'f'.repeat(64) }), 'CHECKSUM_MISMATCH');
});

test('repositories are tried in order; a 404 is never retried', async (t) => {
  const repo = await publish(t, await makeZip(t, APP));
  const empty = await tempDir(t);
  const a = await startArtifactServer(t, empty);
  const b = await startArtifactServer(t, repo.root);
  const { store } = await makeStore(t, { repositories: [a.url + TEMPLATE, { url: b.url + '/{groupPath}/{artifactId}/{version}/{artifactId}-{version}.zip', checksum: 'ignore' }] });
  const { artifact } = await store.install(ID);
  t.is(artifact.source, `${b.url}/com/example/app/1.0.0/app-1.0.0.zip`);
  const whole = (s) => s.requests.filter((r) => !r.range);
  t.deepEqual(whole(a).map((r) => [path.basename(r.path), r.status]), [['app-1.0.0.zip.sha256', 404], ['app-1.0.0.zip.sha1', 404], ['app-1.0.0.zip', 404]]);
  t.deepEqual(whole(b).map((r) => path.basename(r.path)), ['app-1.0.0.zip'], 'checksum: ignore asks for no sidecar');
});

test('an artifact in no repository is ARTIFACT_NOT_FOUND and leaves nothing', async (t) => {
  const empty = await tempDir(t);
  const server = await startArtifactServer(t, empty);
  const { store, staging, software } = await makeStore(t, { repositories: [server.url + TEMPLATE] });
  await rejection(t, store.install(ID), 'ARTIFACT_NOT_FOUND');
  t.is(store.get(ID), undefined);
  t.deepEqual(listDir(staging), []);
  t.deepEqual(listDir(software), ['.staging']);
  const none = await makeStore(t);
  await rejection(t, none.store.install(ID), 'ARTIFACT_NOT_FOUND');
});

test('file:// repositories and an explicit url with sha256', async (t) => {
  const repo = await publish(t, await makeZip(t, APP));
  const { store } = await makeStore(t, { repositories: [pathToFileURL(repo.root).href + TEMPLATE] });
  t.is((await store.install(ID)).artifact.sha256, repo.sha256);

  const { store: other } = await makeStore(t);
  const url = pathToFileURL(repo.file).href;
  await rejection(t, other.install('x:y:1', { url, sha256: '0'.repeat(64) }), 'CHECKSUM_MISMATCH');
  t.is(other.get('x:y:1'), undefined);
  const ok = await other.install('x:y:1', { url, sha256: repo.sha256.toUpperCase() });
  t.is(ok.artifact.source, url);
  await rejection(t, other.install('x:y:2', { url: url + '.missing' }), 'ARTIFACT_NOT_FOUND');
});

test('checksum sidecars: .sha256 first, then .sha1; a mismatch installs nothing', async (t) => {
  const zip = await makeZip(t, APP);
  const cases = [
    { sidecars: { sha256: true }, policy: 'if-present', ok: true },
    { sidecars: { sha1: true }, policy: 'require', ok: true },
    { sidecars: { sha256: 'a'.repeat(64) + '\n', sha1: true }, policy: 'if-present', code: 'CHECKSUM_MISMATCH' },
    { sidecars: { sha1: 'b'.repeat(40) }, policy: 'if-present', code: 'CHECKSUM_MISMATCH' },
    { sidecars: { sha256: 'not a digest' }, policy: 'if-present', code: 'CHECKSUM_MISMATCH' },
    { sidecars: {}, policy: 'require', code: 'CHECKSUM_MISMATCH' },
    { sidecars: {}, policy: 'if-present', ok: true },
    { sidecars: { sha256: 'c'.repeat(64) }, policy: 'ignore', ok: true },
  ];
  for (const c of cases) {
    const repo = await publish(t, zip, c.sidecars);
    const server = await startArtifactServer(t, repo.root);
    const { store, staging, software } = await makeStore(t, { repositories: [{ url: server.url + TEMPLATE, checksum: c.policy }] });
    const what = JSON.stringify(c);
    if (c.ok) t.is((await store.install(ID)).artifact.sha256, repo.sha256, what);
    else {
      await rejection(t, store.install(ID), c.code);
      t.deepEqual(listDir(software), ['.staging'], what);
      t.deepEqual(listDir(staging), [], what);
    }
  }
});

test('transient failures (503) are retried a bounded number of times', async (t) => {
  const repo = await publish(t, await makeZip(t, APP));
  // the first 503 goes to the range request for the directory (a head start, never retried)
  const server = await startArtifactServer(t, repo.root, { fail503: 3, failPaths: ['.zip'] });
  const { store } = await makeStore(t, { repositories: [{ url: server.url + TEMPLATE, checksum: 'ignore' }] });
  await store.install(ID);
  t.deepEqual(server.requests.map((r) => [r.status, Boolean(r.range)]), [[503, true], [503, false], [503, false], [200, false]]);

  const down = await startArtifactServer(t, repo.root, { fail503: 100 });
  const { store: s2, staging, metrics } = await makeStore(t, { repositories: [{ url: down.url + TEMPLATE, checksum: 'ignore' }] });
  const err = await rejection(t, s2.install(ID), 'REPOSITORY_ERROR');
  t.regex(err.message, /3 times/);
  t.is(down.requests.filter((r) => !r.range).length, 3, 'exactly the configured attempts');
  t.deepEqual(listDir(staging), []);
  t.regex(await metrics.metrics(), /nodee_artifact_install_failures_total\{code="REPOSITORY_ERROR"\} 1/);
});

test('a connection cut mid-body is retried; a repository that keeps cutting is REPOSITORY_ERROR', async (t) => {
  const big = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  const repo = await publish(t, await makeZip(t, { 'big.bin': big }));
  const server = await startArtifactServer(t, repo.root, { truncate: 100_000 });
  const { store, software } = await makeStore(t, { repositories: [{ url: server.url + TEMPLATE, checksum: 'ignore' }] });
  await rejection(t, store.install(ID), 'REPOSITORY_ERROR');
  t.is(server.requests.filter((r) => !r.range).length, 3);
  t.deepEqual(listDir(software), ['.staging']);
  server.opts.truncate = undefined;
  t.is((await store.install(ID)).artifact.sha256, repo.sha256);
});

test('a refused connection is REPOSITORY_ERROR, and the next repository is tried', async (t) => {
  const repo = await publish(t, await makeZip(t, APP));
  const dead = await startArtifactServer(t, repo.root);
  await dead.close();
  const { store } = await makeStore(t, { repositories: [{ url: dead.url + TEMPLATE, checksum: 'ignore' }] });
  await rejection(t, store.install(ID), 'REPOSITORY_ERROR');
  const live = await startArtifactServer(t, repo.root);
  const { store: s2 } = await makeStore(t, { repositories: [{ url: dead.url + TEMPLATE, checksum: 'ignore' }, live.url + TEMPLATE] });
  t.true((await s2.install(ID)).created);
});

test('a repository that never answers times out into REPOSITORY_ERROR', async (t) => {
  const repo = await publish(t, await makeZip(t, APP));
  const server = await startArtifactServer(t, repo.root, { hang: true });
  const { store } = await makeStore(t, { repositories: [{ url: server.url + TEMPLATE, checksum: 'ignore' }], timeouts: { headersMs: 300 }, retry: { attempts: 2 } });
  const err = await rejection(t, store.install(ID), 'REPOSITORY_ERROR');
  t.regex(err.message, /2 times/);
});

test('concurrent installs of one id share one download and all succeed; progress is visible', async (t) => {
  const zip = await makeZip(t, manyFiles(200, 2000), { level: 0 });
  const repo = await publish(t, zip);
  const server = await startArtifactServer(t, repo.root, { throttle: 400 * 1024 });
  const { store, metrics } = await makeStore(t, { repositories: [{ url: server.url + TEMPLATE, checksum: 'ignore' }] });
  const all = Array.from({ length: 5 }, () => store.install(ID));
  const seen = await waitFor(() => {
    const a = store.get(ID);
    return a && a.state === 'installing' && a.progress.bytes > 0 && a;
  }, { what: 'progress' });
  t.is(seen.progress.totalBytes, repo.bytes.length);
  t.true(seen.progress.bytes < repo.bytes.length);
  t.deepEqual(store.list(), [], 'list never shows an installing artifact');
  await rejection(t, store.remove(ID), 'ARTIFACT_IN_USE');
  const results = await Promise.all(all);
  t.true(results.every((r) => r.artifact.state === 'installed' && r.artifact.fileCount === 200));
  t.is(server.requests.filter((r) => r.path.endsWith('.zip') && !r.range).length, 1);
  const text = await metrics.metrics();
  t.regex(text, /nodee_artifact_installs_total\{result="installed"\} 1/);
  t.regex(text, new RegExp(`nodee_artifact_downloaded_bytes_total ${repo.bytes.length}`));
  t.regex(text, /nodee_artifact_unpacked_bytes_total 400000/);
  t.regex(text, /nodee_artifact_install_duration_seconds_count\{phase="total"\} 1/);
});

test('different ids install in parallel', async (t) => {
  const root = await tempDir(t, 'nodee-repo-');
  for (const v of ['1', '2']) await publish(t, await makeZip(t, manyFiles(50, 4000), { level: 0 }), { id: `g:a:${v}`, root });
  const server = await startArtifactServer(t, root, { throttle: 200 * 1024 });
  const { store } = await makeStore(t, { repositories: [{ url: server.url + TEMPLATE, checksum: 'ignore' }] });
  const both = Promise.all([store.install('g:a:1'), store.install('g:a:2')]);
  const downloading = (id) => store.get(id)?.state === 'installing' && store.get(id).progress.bytes > 0;
  await waitFor(() => downloading('g:a:1') && downloading('g:a:2'), { what: 'both downloading at once' });
  await both;
  t.deepEqual(store.list().map((a) => a.id), ['g:a:1', 'g:a:2']);
});

test('remove: 404 when absent, 409 when a service uses it, otherwise gone at once', async (t) => {
  const repo = await publish(t, await makeZip(t, APP));
  const { store, software, staging } = await makeStore(t, { repositories: [pathToFileURL(repo.root).href + TEMPLATE] });
  await rejection(t, store.remove(ID), 'ARTIFACT_NOT_FOUND');
  await rejection(t, store.remove('not an id'), 'BAD_REQUEST');
  await store.install(ID);
  const using = new Set([ID]);
  store.setInUseCheck((id) => using.has(id));
  await rejection(t, store.remove(ID), 'ARTIFACT_IN_USE');
  t.truthy(store.installedPath(ID));
  using.clear();
  let changes = 0;
  store.on('change', () => changes++);
  await store.remove(ID);
  t.is(changes, 1);
  t.is(store.get(ID), undefined);
  t.deepEqual(listDir(path.join(software, 'com.example', 'app')), []);
  t.deepEqual(listDir(staging), []);
  t.true((await store.install(ID)).created, 'can be installed again');
});

test('init() removes staging leftovers, re-seals, and indexes software/ (also a tree without a record)', async (t) => {
  const repo = await publish(t, await makeZip(t, APP));
  const repositories = [pathToFileURL(repo.root).href + TEMPLATE];
  const first = await makeStore(t, { repositories });
  await first.store.install(ID);
  await first.store.close();
  // what a kill -9 leaves: a half-unpacked read-only tree and a partial download
  const half = path.join(first.staging, 'g_a_1-abc', 'root', 'sub');
  await mkdir(half, { recursive: true });
  await writeFile(path.join(half, 'f'), 'x');
  await chmod(half, 0o555);
  await writeFile(path.join(first.staging, 'g_a_1-abc', 'archive.zip'), 'partial');
  // a crash between rename and seal
  await chmod(path.join(first.software, 'com.example', 'app', '1.0.0'), 0o755);
  // placed by hand
  const manual = path.join(first.software, 'org.hand', 'made', '2');
  await mkdir(manual, { recursive: true });
  await writeFile(path.join(manual, 'x'), 'hello');

  const second = await makeStore(t, { repositories, prefix: first.prefix });
  t.deepEqual(listDir(second.staging), []);
  t.is(modeOf(path.join(first.software, 'com.example', 'app', '1.0.0')), 0o555);
  t.deepEqual(second.store.list().map((a) => [a.id, a.sha256, a.fileCount, a.sizeBytes]), [
    [ID, repo.sha256, 2, 23],
    ['org.hand:made:2', null, 1, 5],
  ]);
});

test('close() aborts an install in flight and cleans its staging dir', async (t) => {
  const repo = await publish(t, await makeZip(t, manyFiles(100, 5000), { level: 0 }));
  const server = await startArtifactServer(t, repo.root, { throttle: 100 * 1024 });
  const { store, staging, software } = await makeStore(t, { repositories: [{ url: server.url + TEMPLATE, checksum: 'ignore' }] });
  const install = store.install(ID);
  install.catch(() => {});
  await waitFor(() => store.get(ID)?.progress.bytes > 0, { what: 'download started' });
  await store.close();
  await t.throwsAsync(install);
  t.deepEqual(listDir(staging), []);
  t.deepEqual(listDir(software), ['.staging']);
  await store.close();
});

test('bad ids are BAD_REQUEST', async (t) => {
  const { store } = await makeStore(t);
  for (const id of ['a:b', 'a:b:c:d', '.:b:c', 'a:..:c', 'a/b:c:d', 'a:b:' + 'v'.repeat(129), ':b:c']) {
    await rejection(t, store.install(id), 'BAD_REQUEST');
  }
});

test('with range support the archive is unpacked while it downloads, with the same result as without', async (t) => {
  const files = { ...manyFiles(300, 3000), 'bin/run': { content: '#!/bin/sh\n', mode: 0o755 }, 'empty': '' };
  const repo = await publish(t, await makeZip(t, files, { level: 1 }));
  const server = await startArtifactServer(t, repo.root, { throttle: 300 * 1024 });
  const { store, staging } = await makeStore(t, { repositories: [{ url: server.url + TEMPLATE, checksum: 'ignore' }] });
  const install = store.install(ID);
  // files appear in the staging root before the download has finished
  await waitFor(() => {
    const a = store.get(ID);
    const roots = listDir(staging).map((s) => path.join(staging, s, 'root', 'f'));
    return a && a.progress.bytes < repo.bytes.length && roots.some((r) => listDir(r).length > 0);
  }, { what: 'unpacking during the download' });
  const streamed = (await install).artifact;
  t.true(server.requests.some((r) => r.range === 'bytes=-65577' && r.status === 206));

  const plain = await startArtifactServer(t, repo.root, { noRange: true });
  const other = await makeStore(t, { repositories: [{ url: plain.url + TEMPLATE, checksum: 'ignore' }] });
  const unstreamed = (await other.store.install(ID)).artifact;
  t.deepEqual(snapshot(streamed.path), snapshot(unstreamed.path));
  t.is(streamed.sha256, unstreamed.sha256);
  t.is(streamed.fileCount, 302);
});

test('an archive that changes between the range request and the download is unpacked from what was downloaded', async (t) => {
  const before = await makeZip(t, { 'a.txt': 'old', 'gone.txt': 'old' });
  const after = await makeZip(t, { 'a.txt': 'new content', 'b/c.txt': 'new' });
  const repo = await publish(t, after);
  const old = await publish(t, before, { id: 'com.example:app:old', root: repo.root });
  const server = await startArtifactServer(t, repo.root, { map: (p, r) => (r.range ? path.relative(repo.root, old.file) : p) });
  const { store } = await makeStore(t, { repositories: [{ url: server.url + TEMPLATE, checksum: 'ignore' }] });
  const { artifact } = await store.install(ID);
  t.is(artifact.sha256, repo.sha256);
  const tree = snapshot(artifact.path);
  t.deepEqual(Object.keys(tree), ['a.txt', 'b', 'b/c.txt']);
  t.is(tree['a.txt'].content, 'new content');
  t.deepEqual(server.requests.map((r) => r.status), [206, 200], 'the head start did come from the old archive');
});

test('a streamed download cut once is retried and the artifact is still exact', async (t) => {
  const big = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  const files = { 'big.bin': big, ...manyFiles(100, 5000) };
  const repo = await publish(t, await makeZip(t, files));
  let full = 0;
  const server = await startArtifactServer(t, repo.root, {
    onRequest: (r) => {
      if (r.range) return;
      full++;
      server.opts.truncate = full === 1 ? 2 * 1024 * 1024 : undefined;
    },
  });
  const { store } = await makeStore(t, { repositories: [{ url: server.url + TEMPLATE, checksum: 'ignore' }] });
  const { artifact } = await store.install(ID);
  t.is(full, 2);
  t.true((await readFile(path.join(artifact.path, 'big.bin'))).equals(big));
  t.is(artifact.fileCount, 101);
});

test('ids with parts of the maximum length install (staging names stay under NAME_MAX)', async (t) => {
  const id = ['g'.repeat(128), 'a'.repeat(128), 'v'.repeat(128)].join(':');
  const zip = await makeZip(t, APP);
  const { store, software } = await makeStore(t);
  const { artifact } = await store.install(id, { url: pathToFileURL(zip).href });
  t.is(artifact.path, path.join(software, 'g'.repeat(128), 'a'.repeat(128), 'v'.repeat(128)));
});
