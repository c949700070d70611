import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { startDaemon } from '../helpers/daemon.mjs';
import { startHostileServer } from '../helpers/hostile-server.mjs';
import { tempDir } from '../helpers/tmp.mjs';
import { makeZip } from '../helpers/zip.mjs';

/**
 * A real daemon against artifact servers that misbehave. The claim under test: whatever a
 * server does, the daemon stays up (same pid, /healthz 200) and the install either
 * succeeds (when the artifact is fine) or answers a coded error.
 */

const MAX = 16 * 1024 * 1024;
let d;
let small;
let medium;
let large;

// one daemon for every case (staying up through all of them is the claim); hooks have no
// t.teardown, so the helpers' teardowns are collected and run after the last test
const teardowns = [];
const shared = { teardown: (fn) => teardowns.push(fn) };

test.before(async () => {
  const t = shared;
  d = await startDaemon(t, { config: { limits: { artifactMaxBytes: MAX }, downloads: { idleTimeoutMs: 1000 } } });
  const zipOf = async (files) => {
    const bytes = await readFile(await makeZip(t, files, { level: 0 }));
    return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
  };
  small = await zipOf({ 'a.txt': 'hello\n', 'bin/run.sh': { content: '#!/bin/sh\n', mode: 0o755 } });
  // over undici's 64 KiB body buffer yet in one read with the FIN: main crashed on this one
  medium = await zipOf({ 'm.bin': randomBytes(100 * 1024) });
  // several MB, stored: far larger than the 64 KiB the range probe asks for
  large = await zipOf({ 'big.bin': randomBytes(6 * 1024 * 1024), 'b.txt': 'b\n' });
});

let n = 0;
/** PUTs an artifact from `url`; resolves the API's answer after checking the daemon is still the same, healthy process. */
async function install(t, url, body = {}, name = `case${++n}`) {
  const res = await d.api('PUT', `/v1/artifacts/hostile/${name}/1`, { url, ...body });
  t.is(d.proc.exitCode, null, `the daemon exited:\n${d.stderr()}`);
  t.is(d.proc.signalCode, null);
  const health = await d.api('GET', '/healthz');
  t.is(health.status, 200);
  return res;
}

function expectError(t, res, status, code, pattern) {
  t.is(res.status, status, JSON.stringify(res.body));
  t.is(res.body?.error?.code, code);
  if (pattern) t.regex(res.body.error.message, pattern);
}

for (const [name, zip] of [['small', () => small], ['medium', () => medium], ['large', () => large]]) {
  test(`a server that ignores Range (${name} archive): its answer is the download, one GET`, async (t) => {
    const server = await startHostileServer(t, { body: zip().bytes });
    const res = await install(t, `${server.url}/no-range/app.zip`, { sha256: zip().sha256 });
    t.is(res.status, 201, JSON.stringify(res.body));
    t.is(res.body.sha256, zip().sha256);
    t.deepEqual(server.requests.map((r) => r.path), ['/no-range/app.zip'], 'the range probe answered 200 is used, not asked again');
  });
}

test('a server that honours Range still gives the streamed install', async (t) => {
  const server = await startHostileServer(t, { body: large.bytes });
  const res = await install(t, `${server.url}/ok/app.zip`);
  t.is(res.status, 201, JSON.stringify(res.body));
  t.is(res.body.sha256, large.sha256);
  t.true(server.requests.some((r) => r.range?.startsWith('bytes=-')));
});

test('FIN mid-body is retried, then REPOSITORY_ERROR', async (t) => {
  const server = await startHostileServer(t, { body: large.bytes });
  expectError(t, await install(t, `${server.url}/fin-mid-body/app.zip`), 502, 'REPOSITORY_ERROR', /4 times/);
});

test('a Content-Length longer than the body is REPOSITORY_ERROR', async (t) => {
  const server = await startHostileServer(t, { body: small.bytes });
  expectError(t, await install(t, `${server.url}/long-length/app.zip`), 502, 'REPOSITORY_ERROR');
});

test('a Content-Length shorter than the body: only the announced bytes count, and they do not verify', async (t) => {
  const server = await startHostileServer(t, { body: large.bytes });
  expectError(t, await install(t, `${server.url}/short-length/app.zip`, { sha256: large.sha256 }), 422, 'CHECKSUM_MISMATCH');
});

test('one byte a second fails on the idle timeout (downloads.idleTimeoutMs)', async (t) => {
  const server = await startHostileServer(t, { body: small.bytes });
  expectError(t, await install(t, `${server.url}/drip/app.zip`), 502, 'REPOSITORY_ERROR', /less than \d+ bytes in 1000 ms/);
});

test('a redirect loop is REPOSITORY_ERROR, not retried', async (t) => {
  const server = await startHostileServer(t, { body: small.bytes });
  expectError(t, await install(t, `${server.url}/redirect-loop/app.zip`), 502, 'REPOSITORY_ERROR', /more than 5 redirects/);
  // the range probe and the download each follow 5 redirects: 2 × 6 requests, no retries
  t.is(server.requests.filter((r) => r.path.endsWith('.zip')).length, 12);
});

test('a 500 then a 200: the retry succeeds', async (t) => {
  const server = await startHostileServer(t, { body: small.bytes });
  const res = await install(t, `${server.url}/flaky/app.zip`);
  t.is(res.status, 201, JSON.stringify(res.body));
  t.is(res.body.sha256, small.sha256);
});

test('1 MB of response headers is REPOSITORY_ERROR, not retried', async (t) => {
  const server = await startHostileServer(t, { body: small.bytes });
  expectError(t, await install(t, `${server.url}/huge-headers/app.zip`), 502, 'REPOSITORY_ERROR');
  t.is(server.requests.filter((r) => !r.range && r.path.endsWith('.zip')).length, 1);
});

test('Content-Encoding: gzip is decoded: the archive and its sha256 are the ZIP itself', async (t) => {
  const server = await startHostileServer(t, { body: small.bytes });
  const res = await install(t, `${server.url}/gzip/app.zip`, { sha256: small.sha256 });
  t.is(res.status, 201, JSON.stringify(res.body));
  t.is(res.body.fileCount, 2);
});

test('an endless body stops at limits.artifactMaxBytes with TOO_LARGE', async (t) => {
  const server = await startHostileServer(t, { body: small.bytes });
  expectError(t, await install(t, `${server.url}/endless/app.zip`, {}, 'endless'), 422, 'TOO_LARGE', new RegExp(`larger than ${MAX} bytes`));
  // other cases install at the same time: only this one's staging dir must be gone
  const staging = await readdir(path.join(d.prefix, 'software', '.staging'));
  t.deepEqual(staging.filter((name) => name.startsWith('endless-')), [], 'nothing is left in staging');
});

test('a Content-Length over limits.artifactMaxBytes is TOO_LARGE before the body is read', async (t) => {
  const server = await startHostileServer(t, { body: small.bytes });
  expectError(t, await install(t, `${server.url}/endless-declared/app.zip`), 422, 'TOO_LARGE');
});

test('a 4xx other than 404/408/429 is REPOSITORY_ERROR at once, not retried', async (t) => {
  const server = await startHostileServer(t, { body: small.bytes });
  expectError(t, await install(t, `${server.url}/status-403/app.zip`), 502, 'REPOSITORY_ERROR', /HTTP 403/);
  t.is(server.requests.filter((r) => !r.range && r.path.endsWith('.zip')).length, 1);
});

test('a URL that cannot work is BAD_REQUEST at once', async (t) => {
  expectError(t, await install(t, 'http://127.0.0.1:99999/app.zip'), 400, 'BAD_REQUEST', /not a valid URL/);
});

test('file: URLs of devices and FIFOs are refused, not read forever', async (t) => {
  expectError(t, await install(t, 'file:///dev/zero'), 400, 'BAD_REQUEST', /not a regular file/);
  expectError(t, await install(t, 'file:///dev/urandom'), 400, 'BAD_REQUEST', /not a regular file/);
  const fifo = path.join(await tempDir(t, 'nodee-fifo-'), 'app.zip');
  execFileSync('mkfifo', [fifo]);
  expectError(t, await install(t, `file://${fifo}`), 400, 'BAD_REQUEST', /not a regular file/);
});

test.after.always(async () => {
  for (const fn of teardowns.reverse()) await fn();
});
