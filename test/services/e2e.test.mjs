import test from 'ava';
import { existsSync } from 'node:fs';
import { cli, startDaemon } from '../helpers/daemon.mjs';
import { waitFor } from '../helpers/tmp.mjs';
import { alive } from './helpers.mjs';
import { E2E_ART, installScripts } from './e2e-helpers.mjs';

const spec = (coordinate, extra = {}) => ({ coordinate, artifact: E2E_ART, command: ['bin/sleeper'], ports: ['http'], ...extra });

test('REST: create, list, get, logs, stop, remove, and each error code', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d);

  const created = await d.api('POST', '/v1/services', spec('1.web.borud.fbu'));
  t.is(created.status, 201, JSON.stringify(created.body));
  t.is(created.body.state, 'running');
  t.true(alive(created.body.pid));
  const port = created.body.ports.http;

  t.is((await d.api('POST', '/v1/services', spec('1.web.borud.fbu'))).body.error.code, 'SERVICE_EXISTS');
  const unknown = await d.api('POST', '/v1/services', { ...spec('2.web.borud.fbu'), colour: 'red' });
  t.is(unknown.status, 400);
  t.regex(unknown.body.error.message, /colour/);
  const notInstalled = await d.api('POST', '/v1/services', { ...spec('2.web.borud.fbu'), artifact: 'com.example:nope:1' });
  t.is(notInstalled.status, 404);
  t.is(notInstalled.body.error.code, 'ARTIFACT_NOT_INSTALLED');
  t.is((await d.api('GET', '/v1/services/9.no.such.svc')).status, 404);
  t.is((await d.api('GET', '/v1/services/9.no.such.svc')).body.error.code, 'SERVICE_NOT_FOUND');
  t.is((await d.api('GET', '/v1/services/not-a-coordinate')).status, 400);

  const list = await d.api('GET', '/v1/services');
  t.deepEqual(list.body.services.map((s) => s.coordinate), ['1.web.borud.fbu']);
  t.is((await d.api('GET', '/v1/services/1.web.borud.fbu')).body.pid, created.body.pid);

  const logs = await waitFor(async () => {
    const r = await d.api('GET', '/v1/services/1.web.borud.fbu/logs?tail=5');
    return r.text.includes('started') && r;
  });
  t.is(logs.status, 200);
  t.is(logs.text, `started 1.web.borud.fbu on ${port}\n`);
  t.is((await d.api('GET', '/v1/services/1.web.borud.fbu/logs?stream=stderr')).text, '');
  t.is((await d.api('GET', '/v1/services/1.web.borud.fbu/logs?stream=stdin')).status, 400);

  const removeRunning = await d.api('DELETE', '/v1/services/1.web.borud.fbu');
  t.is(removeRunning.status, 409);
  t.is(removeRunning.body.error.code, 'SERVICE_RUNNING');
  const del = await d.api('DELETE', `/v1/artifacts/${E2E_ART.split(':').join('/')}`);
  t.is(del.status, 409, 'the artifact store asks the supervisor');
  t.is(del.body.error.code, 'ARTIFACT_IN_USE');

  const stopped = await d.api('POST', '/v1/services/1.web.borud.fbu/stop');
  t.is(stopped.status, 200);
  t.is(stopped.body.state, 'stopped');
  t.false(alive(created.body.pid));
  const started = await d.api('POST', '/v1/services/1.web.borud.fbu/start');
  t.is(started.body.state, 'running');
  t.deepEqual(started.body.ports, created.body.ports, 'ports are kept across restarts');
  const restarted = await d.api('POST', '/v1/services/1.web.borud.fbu/restart');
  t.not(restarted.body.pid, started.body.pid);
  const drained = await d.api('POST', '/v1/services/1.web.borud.fbu/drain');
  t.is(drained.status, 202);
  t.is(drained.body.state, 'draining');
  await d.api('POST', '/v1/services/1.web.borud.fbu/stop');

  const metrics = await d.api('GET', '/metrics');
  t.regex(metrics.text, /nodee_service_states\{state="stopped"\} 1/);
  t.regex(metrics.text, /nodee_service_starts_total 3/);

  t.is((await d.api('DELETE', '/v1/services/1.web.borud.fbu?purge=true')).status, 204);
  t.false(existsSync(created.body.runtimeDir));
  t.deepEqual((await d.api('GET', '/v1/services')).body.services, []);
});

test('REST: logs follow streams new lines until the client goes away', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d, { 'bin/ticker': '#!/bin/sh\ni=0\nwhile :; do i=$((i+1)); echo "tick $i"; sleep 0.05; done\n' });
  await d.api('POST', '/v1/services', spec('1.tick.borud.fbu', { command: ['bin/ticker'] }));
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const res = await fetch(`${d.url}/v1/services/1.tick.borud.fbu/logs?tail=1&follow=true`, { signal: ac.signal });
  t.is(res.status, 200);
  const reader = res.body.getReader();
  let text = '';
  while (!/tick \d+\n(.|\n)*tick \d+\n(.|\n)*tick \d+\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
  }
  const ticks = text.trim().split('\n').map((l) => Number(l.split(' ')[1]));
  t.true(ticks.length >= 3);
  ticks.forEach((n, i) => i > 0 && t.is(n, ticks[i - 1] + 1, 'consecutive lines, none lost'));
  ac.abort();
});

test('kill -9 of the daemon: services keep running, the next daemon re-adopts them and handles a later crash', async (t) => {
  const d1 = await startDaemon(t);
  await installScripts(t, d1);
  const a = (await d1.api('POST', '/v1/services', spec('1.survivor.borud.fbu', { restart: { backoffMs: 0 } }))).body;
  const b = (await d1.api('POST', '/v1/services', spec('2.survivor.borud.fbu'))).body;
  await d1.kill9();
  t.true(alive(a.pid) && alive(b.pid), 'services outlive a kill -9 of the daemon');

  const d2 = await startDaemon(t, { prefix: d1.prefix });
  const adopted = (await d2.api('GET', '/v1/services')).body.services;
  t.deepEqual(adopted.map((s) => [s.coordinate, s.state, s.pid]), [
    ['1.survivor.borud.fbu', 'running', a.pid],
    ['2.survivor.borud.fbu', 'running', b.pid],
  ]);
  t.deepEqual(adopted[0].ports, a.ports);

  process.kill(a.pid, 'SIGKILL');
  const again = await waitFor(async () => {
    const s = (await d2.api('GET', '/v1/services/1.survivor.borud.fbu')).body;
    return s.state === 'running' && s.pid !== a.pid && s;
  });
  t.is(again.restarts, 1);
  t.true(alive(again.pid));

  // a clean stop of the daemon (SIGTERM) also leaves them running
  t.is(await d2.stop(), 0);
  t.true(alive(again.pid) && alive(b.pid));
  const d3 = await startDaemon(t, { prefix: d1.prefix });
  t.is((await d3.api('GET', '/v1/services/2.survivor.borud.fbu')).body.pid, b.pid);
  const stopped = await d3.api('POST', '/v1/services/2.survivor.borud.fbu/stop');
  t.is(stopped.body.state, 'stopped');
  t.false(alive(b.pid));
});

test('node drain through the API refuses new services with NODE_DRAINING', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d);
  await d.api('POST', '/v1/services', spec('1.nd.borud.fbu', { drain: { timeoutSeconds: 0 } }));
  t.is((await d.api('POST', '/v1/drain')).status, 202);
  const refused = await d.api('POST', '/v1/services', spec('2.nd.borud.fbu'));
  t.is(refused.status, 409);
  t.is(refused.body.error.code, 'NODE_DRAINING');
  await waitFor(async () => (await d.api('GET', '/v1/services/1.nd.borud.fbu')).body.state === 'stopped');
  await d.api('POST', '/v1/undrain');
  t.is((await d.api('POST', '/v1/services', spec('2.nd.borud.fbu'))).status, 201);
});

test('CLI: service start (inline and --spec), list, stop, logs, remove', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d);
  const env = { NODEE_URL: d.url };
  const inline = await cli(['service', 'start', '1.cli.borud.fbu', E2E_ART, '--port', 'http', '--env', 'A=1', '--', 'bin/sleeper'], { env });
  t.is(inline.code, 0, inline.stderr);
  t.regex(inline.stdout, /^1\.cli\.borud\.fbu running pid \d+\n$/);

  const dir = await import('../helpers/tmp.mjs').then((m) => m.tempDir(t));
  const file = `${dir}/svc.yaml`;
  await (await import('node:fs/promises')).writeFile(file, `coordinate: 2.cli.borud.fbu\nartifact: ${E2E_ART}\ncommand: [bin/sleeper]\nports: [http]\n`);
  const fromSpec = await cli(['service', 'start', '--spec', file], { env });
  t.is(fromSpec.code, 0, fromSpec.stderr);

  const list = await cli(['service', 'list'], { env });
  t.regex(list.stdout, /^COORDINATE\s+STATE\s+READY\s+PID\s+RESTARTS\s+MEM\s+CPU\s+PIDS\s+ARTIFACT\s+PORTS\n1\.cli\.borud\.fbu\s+running\s+yes/);
  t.regex(list.stdout, /2\.cli\.borud\.fbu\s+running/);

  await waitFor(async () => (await cli(['service', 'logs', '1.cli.borud.fbu', '--tail', '1'], { env })).stdout.includes('started'));
  const exists = await cli(['service', 'start', '--spec', file], { env });
  t.is(exists.code, 1);
  t.regex(exists.stderr, /SERVICE_EXISTS/);

  const running = await cli(['service', 'remove', '1.cli.borud.fbu'], { env });
  t.is(running.code, 1);
  t.regex(running.stderr, /SERVICE_RUNNING/);
  t.is((await cli(['service', 'stop', '1.cli.borud.fbu'], { env })).stdout, '1.cli.borud.fbu stopped\n');
  t.is((await cli(['service', 'remove', '1.cli.borud.fbu', '--purge'], { env })).code, 0);
  const json = await cli(['--json', 'service', 'list'], { env });
  t.deepEqual(JSON.parse(json.stdout).map((s) => s.coordinate), ['2.cli.borud.fbu']);
  const usage = await cli(['service', 'frobnicate'], { env });
  t.is(usage.code, 2);
});

test('CLI: service logs -f follows both streams, each line marked, until interrupted', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d, { 'bin/ticker': '#!/bin/sh\ni=0\nwhile :; do i=$((i+1)); echo "tick $i"; echo "tock $i" >&2; sleep 0.05; done\n' });
  await d.api('POST', '/v1/services', spec('1.tail.borud.fbu', { command: ['bin/ticker'] }));
  const { spawn } = await import('node:child_process');
  const { CLI } = await import('../helpers/daemon.mjs');
  const proc = spawn(process.execPath, [CLI, 'service', 'logs', '1.tail.borud.fbu', '-f'], { env: { ...process.env, NODEE_URL: d.url } });
  const exited = new Promise((r) => proc.once('exit', r));
  t.teardown(() => proc.kill('SIGKILL'));
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  const marked = (mark) => out.split('\n').filter((l) => l.startsWith(mark));
  await waitFor(() => marked('stdout| tick').length >= 5 && marked('stderr| tock').length >= 5, { what: 'five followed lines of each stream' });
  t.deepEqual(out.split('\n').filter((l) => l && !/^(stdout\| tick|stderr\| tock) \d+$/.test(l)), [], 'every line whole and marked');
  for (const mark of ['stdout| tick', 'stderr| tock']) {
    const n = marked(mark).map((l) => Number(l.split(' ')[2]));
    n.forEach((x, i) => i > 0 && t.is(x, n[i - 1] + 1));
  }
  proc.kill('SIGINT');
  await exited;
});
