import test from 'ava';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import vm from 'node:vm';
import { startDaemon } from '../helpers/daemon.mjs';
import { tempDir } from '../helpers/tmp.mjs';

function isErrorBody(t, res, status, code) {
  t.is(res.status, status, res.text);
  t.regex(res.headers.get('content-type') ?? '', /application\/json/);
  t.is(res.body.error.code, code);
  t.is(typeof res.body.error.message, 'string');
  t.false(res.text.includes('    at '), 'no stack trace');
}

test('healthz, status and the console answer', async (t) => {
  const d = await startDaemon(t);
  const h = await d.api('GET', '/healthz');
  t.is(h.status, 200);
  t.deepEqual(h.body, { ok: true });

  const s = await d.api('GET', '/v1/status');
  t.is(s.status, 200);
  const st = s.body;
  t.is(st.instance, 'test-node');
  t.is(st.state, 'active');
  t.is(st.version, '0.1.0');
  t.is(typeof st.hostname, 'string');
  t.false(Number.isNaN(Date.parse(st.startedAt)));
  t.is(st.console.url, d.url + '/');
  t.is(st.console.port, Number(new URL(d.url).port));
  t.deepEqual(st.zookeeper, { state: 'standalone', path: null });
  t.true(st.machine.cpus >= 1);
  t.true(st.machine.memoryBytes > st.machine.freeMemoryBytes && st.machine.freeMemoryBytes > 0);
  t.is(st.machine.loadavg.length, 3);
  t.true(st.machine.diskFreeBytes > 0);
  t.deepEqual({ artifacts: st.counts.artifacts, services: st.counts.services }, { artifacts: 0, services: 0 });

  const c = await d.api('GET', '/');
  t.is(c.status, 200);
  t.regex(c.headers.get('content-type'), /text\/html/);
  t.true(c.text.includes('<title>nodee</title>'));
  // the console's script is plain browser JavaScript: it must at least parse
  const script = /<script>([\s\S]*)<\/script>/.exec(c.text)[1];
  t.notThrows(() => new vm.Script(script));
  for (const path of ['/v1/status', '/v1/artifacts', '/v1/services', '/v1/drain']) t.true(script.includes(path), path);
});

test('metrics are Prometheus text', async (t) => {
  const d = await startDaemon(t);
  await d.api('GET', '/v1/status');
  const m = await d.api('GET', '/metrics');
  t.is(m.status, 200);
  t.regex(m.headers.get('content-type'), /text\/plain/);
  t.regex(m.text, /^# HELP nodee_http_requests_total/m);
  t.regex(m.text, /nodee_http_requests_total\{method="GET",status="200"\} \d+/);
  t.regex(m.text, /^nodee_process_resident_memory_bytes \d+/m);
  // every capability registers on the daemon's one registry
  for (const prefix of ['nodee_artifact_', 'nodee_service_']) t.regex(m.text, new RegExp(`^# HELP ${prefix}`, 'm'), prefix);
});

test('every failure is the JSON error body, never HTML or a stack', async (t) => {
  const d = await startDaemon(t);
  isErrorBody(t, await d.api('GET', '/v1/nothing-here'), 404, 'NOT_FOUND');
  isErrorBody(t, await d.api('GET', '/nothing'), 404, 'NOT_FOUND');
  isErrorBody(t, await d.api('DELETE', '/v1/status'), 405, 'METHOD_NOT_ALLOWED');
  isErrorBody(t, await d.api('POST', '/v1/drain', undefined, { raw: '{"broken":', headers: { 'content-type': 'application/json' } }), 400, 'BAD_REQUEST');
  isErrorBody(t, await d.api('POST', '/v1/drain', undefined, { raw: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  isErrorBody(t, await d.api('POST', '/v1/drain', undefined, { raw: JSON.stringify({ x: 'y'.repeat(2 * 1024 * 1024) }), headers: { 'content-type': 'application/json' } }), 413, 'PAYLOAD_TOO_LARGE');
  // the daemon is still healthy after all that
  t.is((await d.api('GET', '/healthz')).status, 200);
});

test('an oversized body sent without a content-length is cut at the limit', async (t) => {
  const d = await startDaemon(t, { config: { api: { bodyLimitBytes: 1024 } } });
  const { port } = new URL(d.url);
  const answer = await new Promise((resolve) => {
    const sock = net.connect(Number(port), '127.0.0.1');
    let out = '';
    sock.on('data', (c) => (out += c));
    sock.on('close', () => resolve(out));
    sock.on('error', () => resolve(out));
    sock.write(`POST /v1/drain HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = 'a'.repeat(4096);
    sock.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    sock.write('0\r\n\r\n');
  });
  t.regex(answer, /^HTTP\/1\.1 413/);
  t.true(answer.includes('"PAYLOAD_TOO_LARGE"'));
});

test('with a token, /v1 needs it and /healthz does not', async (t) => {
  const dir = await tempDir(t);
  const tokenFile = path.join(dir, 'token');
  await writeFile(tokenFile, 's3cret-token-value\n');
  const d = await startDaemon(t, { config: { api: { listen: '127.0.0.1:0', tokenFile } } });

  isErrorBody(t, await d.api('GET', '/v1/status'), 401, 'UNAUTHORIZED');
  const wrong = await d.api('GET', '/v1/status', undefined, { token: 's3cret-token-valuX' });
  isErrorBody(t, wrong, 401, 'UNAUTHORIZED');
  t.is(wrong.headers.get('www-authenticate'), 'Bearer');
  isErrorBody(t, await d.api('GET', '/v1/status', undefined, { headers: { authorization: 'Basic czNjcmV0' } }), 401, 'UNAUTHORIZED');
  t.is((await d.api('GET', '/v1/status', undefined, { token: 's3cret-token-value' })).status, 200);
  t.is((await d.api('GET', '/healthz')).status, 200);
  // an unknown /v1 path without the token is 401, not 404: the API's shape is not disclosed
  isErrorBody(t, await d.api('GET', '/v1/secret-route'), 401, 'UNAUTHORIZED');
  // the secret never reaches the log
  t.false(d.logs().includes('s3cret-token-value'));
});

test('node drain and undrain answer 202 with the NodeStatus', async (t) => {
  const d = await startDaemon(t);
  const drained = await d.api('POST', '/v1/drain');
  t.is(drained.status, 202);
  t.is(drained.body.state, 'draining');
  t.is((await d.api('GET', '/v1/status')).body.state, 'draining');
  const back = await d.api('POST', '/v1/undrain');
  t.is(back.status, 202);
  t.is(back.body.state, 'active');
});
