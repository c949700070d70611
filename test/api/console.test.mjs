import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startArtifactServer } from '../helpers/artifact-server.mjs';
import { startDaemon } from '../helpers/daemon.mjs';
import { tempDir, waitFor } from '../helpers/tmp.mjs';
import { HOG } from '../helpers/programs.mjs';
import { E2E_ART, installScripts, scriptsZip } from '../services/e2e-helpers.mjs';
import { openConsole } from './console-page.mjs';
import { startZookeeper } from '../helpers/zookeeper.mjs';
import { observer } from '../registry/_zk.mjs';

// The web console in a real headless Chromium against a real daemon. Each test starts its
// own daemon and browser; serial, because Chromium is heavy on a small machine.

const ART_PATH = `/v1/artifacts/${E2E_ART.split(':').join('/')}`;
const svc = (coordinate, extra = {}) => ({ coordinate, artifact: E2E_ART, command: ['bin/sleeper'], ...extra });

async function create(t, d, spec) {
  const res = await d.api('POST', '/v1/services', spec);
  t.is(res.status, 201, res.text);
  return res.body;
}

/** Polls the daemon (not the page) until the service satisfies `check`. */
function serviceWhen(d, coordinate, check, what) {
  return waitFor(async () => {
    const res = await d.api('GET', `/v1/services/${coordinate}`);
    return check(res) && res.body;
  }, { what });
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test.serial('the main view lists services with their states (and one screenshot of it)', async (t) => {
  const d = await startDaemon(t, { config: { capacity: { memoryMB: 7000, cpu: 2, diskMB: 50000 }, labels: { zone: 'eu-1a' } } });
  await installScripts(t, d);
  const running = await create(t, d, svc('1.web.borud.fbu', { ports: ['http'], resources: { memoryMB: 256, cpu: 0.5 } }));
  await create(t, d, svc('1.crash.borud.fbu', { command: ['bin/crash'], restart: { policy: 'never' } }));
  await serviceWhen(d, '1.crash.borud.fbu', (r) => r.body.state === 'exited', 'crash exited');

  const ui = await openConsole(t, d);
  await ui.rowIn('1.web.borud.fbu', 'running');
  await ui.rowIn('1.crash.borud.fbu', 'exited');
  t.is(await ui.cell('1.web.borud.fbu', 'pid'), String(running.pid));
  t.is(await ui.cell('1.web.borud.fbu', 'ports'), `http=${running.ports.http}`);
  t.is(await ui.cell('1.web.borud.fbu', 'command'), 'bin/sleeper');
  t.is(await ui.cell('1.crash.borud.fbu', 'exit'), 'code 3');
  t.is(await ui.text('#artifacts td'), E2E_ART);
  t.is(await ui.text('#error'), '');
  // the node: its containment, what the running service reserves of the capacity, its labels
  const { containment } = (await d.api('GET', '/v1/status')).body;
  t.is(await ui.text('#resources'), `containment: ${containment} · reserved mem 256/7000 MB cpu 0.5/2 disk 0/50000 MB · zone=eu-1a`);
  // usage against the limits; "-" for what the daemon cannot tell
  t.regex(await ui.cell('1.web.borud.fbu', 'memory'), /^(-|\d+\.\d)\/256 MB$/);
  t.regex(await ui.cell('1.web.borud.fbu', 'cpu'), /^(-|[\d.]+ s)$/);
  t.regex(await ui.cell('1.web.borud.fbu', 'pids'), /^(-|\d+)$/);
  t.is(await ui.cell('1.crash.borud.fbu', 'memory'), '-', 'no limit, no process');

  const png = await ui.screenshot();
  // kept where an operator (or a reviewer) can look at it after the run
  const file = path.join(os.tmpdir(), 'nodee-console-main.png');
  await writeFile(file, png);
  t.log(`screenshot: ${file}`);
  t.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  t.is(png.subarray(12, 16).toString('latin1'), 'IHDR');
  const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
  t.true(width >= 800 && width <= 4000 && height >= 500 && height <= 4000, `${width}x${height}`);
  t.true(png.length > 20_000 && png.length < 5_000_000, `${png.length} bytes`);
});

test.serial('install an artifact from the console: progress, result and errors', async (t) => {
  const d = await startDaemon(t);
  const zip = await scriptsZip(t);
  const sha256 = createHash('sha256').update(await readFile(zip)).digest('hex');
  const ui = await openConsole(t, d);

  await ui.submit('install-form', { id: E2E_ART, url: `file://${zip}`, sha256: 'f'.repeat(64) });
  await ui.waitFor(`$("install-result").textContent.startsWith("install failed")`);
  t.regex(await ui.text('#install-result'), /CHECKSUM_MISMATCH: /);
  t.is(await ui.evaluate(`$("install-result").className`), 'result error');
  t.is((await d.api('GET', ART_PATH)).status, 404, 'nothing was installed');

  await ui.submit('install-form', { id: E2E_ART, url: `file://${zip}`, sha256 });
  await ui.waitFor(`$("install-result").textContent.startsWith("installed ")`);
  t.regex(await ui.text('#install-result'), /^installed com\.example:e2e:1\.0\.0 \(\d+ files, /);
  const installed = await d.api('GET', ART_PATH);
  t.is(installed.body.state, 'installed');
  t.is(installed.body.sha256, sha256);
  await ui.waitFor(`$("artifacts").textContent.includes(${JSON.stringify(E2E_ART)})`);

  await ui.submit('install-form', { id: E2E_ART, url: `file://${zip}`, sha256 });
  await ui.waitFor(`$("install-result").textContent.startsWith("already installed: ")`);
  await ui.submit('install-form', { id: 'not-an-id', url: '', sha256: '' });
  await ui.waitFor(`$("install-result").textContent.includes("groupId:artifactId:version")`);
});

test.serial('a slow install shows its progress while it downloads', async (t) => {
  const d = await startDaemon(t);
  // incompressible, so the download takes a while at the repository's pace
  const zip = await scriptsZip(t, { 'data/noise.bin': randomBytes(24_000).toString('base64') });
  const repo = await startArtifactServer(t, path.dirname(zip), { throttle: 8_000 });
  const ui = await openConsole(t, d);

  await ui.submit('install-form', { id: E2E_ART, url: `${repo.url}/${path.basename(zip)}`, sha256: '' });
  const shown = await ui.waitFor(`/^installing com.example:e2e:1.0.0: [0-9.]+ KB of [0-9.]+ KB$/.test($("install-result").textContent) && $("install-result").textContent`);
  t.log(shown); // read from GET /v1/artifacts/... while the PUT was still waiting
  await ui.waitFor(`$("install-result").textContent.startsWith("installed ")`, { timeoutMs: 30_000 });
  t.is((await d.api('GET', ART_PATH)).body.state, 'installed');
});

test.serial('start services from the form and from pasted JSON; API errors are shown', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d);
  const ui = await openConsole(t, d);

  await ui.submit('service-form', { coordinate: '1.form.borud.fbu', artifact: E2E_ART, command: 'bin/sleeper', ports: 'http, admin', env: 'GREETING=hello there\nEMPTY=', user: '' });
  await ui.waitFor(`$("service-result").textContent.startsWith("started 1.form.borud.fbu: running")`);
  const made = (await d.api('GET', '/v1/services/1.form.borud.fbu?reveal=env')).body;
  t.is(made.state, 'running');
  t.true(alive(made.pid));
  t.deepEqual(made.spec.env, { GREETING: 'hello there', EMPTY: '' });
  t.deepEqual(Object.keys(made.ports).sort(), ['admin', 'http']);
  t.deepEqual(made.spec.command, ['bin/sleeper']);

  const spec = { services: [svc('1.json.borud.fbu'), svc('2.json.borud.fbu', { command: ['/bin/sh', '-c', 'exec sleep 1000'] })] };
  await ui.submit('spec-form', { spec: JSON.stringify(spec, null, 2) });
  await ui.waitFor(`$("service-result").textContent.includes("started 2.json.borud.fbu: running")`);
  for (const c of ['1.json.borud.fbu', '2.json.borud.fbu']) t.is((await d.api('GET', `/v1/services/${c}`)).body.state, 'running', c);
  await ui.rowIn('2.json.borud.fbu', 'running');

  // YAML too: parsed in the page by the yaml package's browser build the daemon serves
  await ui.submit('spec-form', { spec: `coordinate: 1.yaml.borud.fbu\nartifact: ${E2E_ART}\ncommand: [bin/sleeper]\nenv:\n  GREETING: "hi: there"\n` });
  await ui.waitFor(`$("service-result").textContent.startsWith("started 1.yaml.borud.fbu: running")`);
  const fromYaml = (await d.api('GET', '/v1/services/1.yaml.borud.fbu?reveal=env')).body;
  t.is(fromYaml.state, 'running');
  t.deepEqual(fromYaml.spec.env, { GREETING: 'hi: there' });

  await ui.submit('service-form', { coordinate: '1.nope.borud.fbu', artifact: 'com.example:absent:1.0', command: 'run', ports: '', env: '', user: '' });
  await ui.waitFor(`$("service-result").textContent.startsWith("start failed")`);
  t.regex(await ui.text('#service-result'), /^start failed: ARTIFACT_NOT_INSTALLED: artifact com\.example:absent:1\.0 is not installed/);
  await ui.submit('spec-form', { spec: JSON.stringify(svc('1.form.borud.fbu')) });
  await ui.waitFor(`$("service-result").textContent.includes("SERVICE_EXISTS")`);
  t.is((await d.api('GET', '/v1/services/1.nope.borud.fbu')).status, 404);
});

test.serial('per-service actions work and only the ones that apply are enabled', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d);
  const c = '1.act.borud.fbu';
  const first = await create(t, d, svc(c, { drain: { signal: 'SIGTERM', timeoutSeconds: 30 } }));
  const ui = await openConsole(t, d);

  t.deepEqual(await ui.rowIn(c, 'running'), ['stop', 'restart', 'drain', 'logs']);
  await ui.action(c, 'stop');
  const stopped = await serviceWhen(d, c, (r) => r.body.state === 'stopped', 'stopped');
  t.false(alive(first.pid));
  t.is(stopped.lastExit.signal, 'SIGTERM');
  t.deepEqual(await ui.rowIn(c, 'stopped'), ['start', 'logs', 'remove']);
  t.is(await ui.cell(c, 'exit'), 'SIGTERM');

  await ui.action(c, 'start');
  const started = await serviceWhen(d, c, (r) => r.body.state === 'running', 'started');
  await ui.waitFor(`$("notice").textContent.startsWith("start: ${c} is running")`);
  await ui.action(c, 'restart');
  const restarted = await serviceWhen(d, c, (r) => r.body.state === 'running' && r.body.pid !== started.pid, 'restarted');
  t.false(alive(started.pid));
  t.true(alive(restarted.pid));

  await ui.action(c, 'drain');
  const drained = await serviceWhen(d, c, (r) => r.body.state === 'stopped', 'drained');
  t.is(drained.lastExit.signal, 'SIGTERM', 'the drain signal ended it');
  t.false(alive(restarted.pid));
  await ui.rowIn(c, 'stopped');

  // remove asks first; cancelled, nothing happens
  await ui.action(c, 'remove');
  await ui.confirm(false, { purge: true });
  await ui.waitFor(`!$("confirm").open`);
  t.is((await d.api('GET', `/v1/services/${c}`)).status, 200, 'still there');
  t.true(existsSync(drained.runtimeDir));

  await ui.action(c, 'remove');
  await ui.confirm(true, { purge: true });
  await waitFor(async () => (await d.api('GET', `/v1/services/${c}`)).status === 404, { what: 'removed' });
  t.false(existsSync(drained.runtimeDir), 'purged: the runtime dir is gone');
  await ui.waitFor(`document.querySelector("#services tr") === null`);
  t.is(await ui.text('#notice'), `removed ${c} and purged its runtime dir`);
});

test.serial('a failing action shows the API error', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d);
  const c = '1.race.borud.fbu';
  await create(t, d, svc(c));
  await d.api('POST', `/v1/services/${c}/stop`);
  const ui = await openConsole(t, d);
  await ui.rowIn(c, 'stopped');
  // while the operator confirms the removal, someone else starts the service
  await ui.action(c, 'remove');
  await ui.waitFor(`$("confirm").open`);
  t.is((await d.api('POST', `/v1/services/${c}/start`)).body.state, 'running');
  await ui.confirm(true, { purge: true });
  await ui.waitFor(`$("error").textContent !== ""`);
  t.regex(await ui.text('#error'), /^SERVICE_RUNNING: service 1\.race\.borud\.fbu is running; stop it before removing it$/);
  t.is(await ui.text('#notice'), '');
  t.is((await d.api('GET', `/v1/services/${c}`)).body.state, 'running', 'not removed');
});

test.serial('logs are shown, followed as lines arrive, and stop when closed', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d, {
    'bin/ticker': '#!/bin/sh\necho "line one"\necho "oops" >&2\nwhile [ ! -e next ]; do sleep 0.05; done\necho "line two"\nexec sleep 1000\n',
  });
  const c = '1.ticker.borud.fbu';
  const s = await create(t, d, svc(c, { command: ['bin/ticker'] }));
  const ui = await openConsole(t, d);
  await ui.rowIn(c, 'running');

  await ui.action(c, 'logs');
  await ui.waitFor(`$("logs").textContent.includes("line one")`);
  t.is(await ui.text('#logs-of'), c);
  t.is(await ui.text('#logs-state'), 'following…');
  t.false((await ui.text('#logs')).includes('line two'));

  await writeFile(path.join(s.runtimeDir, 'next'), ''); // the service writes its next line
  await ui.waitFor(`$("logs").textContent.includes("line two")`);
  t.is(await ui.text('#logs'), 'line one\nline two\n');

  await ui.evaluate(`$("logs-stream").value = "stderr"; $("logs-stream").dispatchEvent(new Event("change"))`);
  await ui.waitFor(`$("logs").textContent === "oops\\n"`);

  await ui.click('#logs-close');
  t.is(await ui.text('#logs-state'), 'closed');
  t.true(await ui.evaluate(`$("logs-panel").hidden && logs.abort === null`));
});

test.serial('draining the node needs a confirmation: cancel leaves it active, accept drains it', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d);
  await create(t, d, svc('1.d.borud.fbu', { drain: { signal: 'SIGTERM', timeoutSeconds: 30 } }));
  const ui = await openConsole(t, d);
  await ui.rowIn('1.d.borud.fbu', 'running');

  await ui.click('#drain');
  await ui.confirm(false);
  await ui.waitFor(`!$("confirm").open && !$("drain").disabled`);
  t.is((await d.api('GET', '/v1/status')).body.state, 'active', 'cancelled: still active');
  t.is(await ui.text('#notice'), '');

  await ui.click('#drain');
  await ui.confirm(true);
  await waitFor(async () => (await d.api('GET', '/v1/status')).body.state === 'draining', { what: 'node draining' });
  await ui.waitFor(`$("node").textContent.includes("draining") && $("drain").disabled && !$("undrain").disabled`);
  // a drained node starts nothing: start and restart are off
  const enabled = await ui.rowIn('1.d.borud.fbu', 'stopped');
  t.false(enabled.includes('start'));
  t.false(enabled.includes('restart'));

  await ui.click('#undrain');
  await waitFor(async () => (await d.api('GET', '/v1/status')).body.state === 'active', { what: 'node active' });
});

test.serial('with a token: the console asks for it, refuses a wrong one, then works', async (t) => {
  const dir = await tempDir(t, 'nodee-token-');
  const tokenFile = path.join(dir, 'token');
  await writeFile(tokenFile, 'tok-console-7f3e\n');
  const d = await startDaemon(t, { config: { api: { tokenFile } } });
  const ui = await openConsole(t, d, { waitForNode: false });

  await ui.waitFor(`!$("login").hidden`);
  t.is(await ui.text('#login-title'), 'This API needs a token');
  t.regex(await ui.text('#error'), /^UNAUTHORIZED: /);

  await ui.submit('login-form', { token: 'wrong' });
  await ui.waitFor(`$("login-title").textContent.startsWith("The token was refused")`);
  t.is(await ui.text('#instance'), '');

  await ui.submit('login-form', { token: 'tok-console-7f3e' });
  await ui.waitFor(`$("instance").textContent === "test-node" && $("login").hidden && $("error").textContent === ""`);
  t.is(await ui.evaluate(`sessionStorage.getItem("nodee-token")`), 'tok-console-7f3e');
  // and its actions carry the token: install, then start a service
  const zip = await scriptsZip(t);
  await ui.submit('install-form', { id: E2E_ART, url: `file://${zip}`, sha256: '' });
  await ui.waitFor(`$("install-result").textContent.startsWith("installed ")`);
  await ui.submit('spec-form', { spec: JSON.stringify(svc('1.tok.borud.fbu')) });
  await ui.waitFor(`$("service-result").textContent.startsWith("started 1.tok.borud.fbu: running")`);
  const auth = { token: 'tok-console-7f3e' };
  t.is((await d.api('GET', '/v1/services/1.tok.borud.fbu', undefined, auth)).body.state, 'running');
});

test.serial('an OOM kill is marked; usage is shown against the limits', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d, { 'bin/hog': HOG });
  const { containment } = (await d.api('GET', '/v1/status')).body;
  await create(t, d, svc('1.calm.borud.fbu', { resources: { memoryMB: 256, pids: 64 } }));
  if (containment !== 'none') {
    await create(t, d, svc('1.hog.borud.fbu', { command: ['bin/hog'], resources: { memoryMB: 32 }, restart: { policy: 'never' } }));
    const hog = await serviceWhen(d, '1.hog.borud.fbu', (r) => r.body.state === 'exited', 'the hog OOM-killed');
    t.is(hog.lastExit.oom, true);
  }
  const ui = await openConsole(t, d);
  await ui.rowIn('1.calm.borud.fbu', 'running');
  if (containment === 'none') {
    // no cgroup: nothing to read, and the page says so rather than guess
    t.is(await ui.cell('1.calm.borud.fbu', 'memory'), '-/256 MB');
    t.is(await ui.cell('1.calm.borud.fbu', 'cpu'), '-');
    t.is(await ui.cell('1.calm.borud.fbu', 'pids'), '-/64');
    t.log('containment none on this host: no OOM kill to show');
    return;
  }
  // read from the cgroup (the page's 2 s refresh may show a newer sample than the API's here)
  await ui.waitFor(`/^[0-9]+[.][0-9]\\/256 MB$/.test(document.querySelector('#services tr[data-coordinate="1.calm.borud.fbu"] td.memory').textContent)`);
  t.regex(await ui.cell('1.calm.borud.fbu', 'cpu'), /^[\d.]+ s$/);
  t.regex(await ui.cell('1.calm.borud.fbu', 'pids'), /^\d+\/64$/);
  await ui.rowIn('1.hog.borud.fbu', 'exited');
  t.is(await ui.cell('1.hog.borud.fbu', 'exit'), 'SIGKILL (OOM)');
  t.true(await ui.evaluate(`document.querySelector('#services tr[data-coordinate="1.hog.borud.fbu"] td.exit').classList.contains("oom")`));
  t.regex(await ui.evaluate(`document.querySelector('#services tr[data-coordinate="1.hog.borud.fbu"] td.exit').title`), /: over its memory limit, killed by the kernel$/);
  t.is(await ui.cell('1.hog.borud.fbu', 'memory'), '-/32 MB', 'not running: nothing in use');
});

test.serial('an exit nobody saw is shown as "unknown", not "code null"', async (t) => {
  const first = await startDaemon(t);
  await installScripts(t, first);
  const s = await create(t, first, svc('1.lost.borud.fbu', { restart: { policy: 'never' } }));
  await first.kill9();
  process.kill(s.pid, 'SIGKILL'); // dies while no daemon watches it
  await waitFor(() => !alive(s.pid), { what: 'service gone' });

  const d = await startDaemon(t, { prefix: first.prefix });
  const lost = await serviceWhen(d, '1.lost.borud.fbu', (r) => r.body.state === 'exited', 'exited');
  t.deepEqual([lost.lastExit.code, lost.lastExit.signal], [null, null]);
  const ui = await openConsole(t, d);
  await ui.rowIn('1.lost.borud.fbu', 'exited');
  t.is(await ui.cell('1.lost.borud.fbu', 'exit'), 'unknown');
});

const XSS = '<img src=x onerror="window.__xss = (window.__xss || 0) + 1">';

test.serial('API data is shown as text, never run: a hostile command, log line and error message', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d);
  const c = '1.xss.borud.fbu';
  // the payload is the command itself, and the line it logs
  await create(t, d, svc(c, { command: ['/bin/sh', '-c', `echo '${XSS}'; exec sleep 1000`, XSS] }));
  const ui = await openConsole(t, d);
  await ui.rowIn(c, 'running');
  t.true((await ui.cell(c, 'command')).includes(XSS));

  await ui.action(c, 'logs');
  await ui.waitFor(`$("logs").textContent.includes(${JSON.stringify(XSS)})`);
  // a coordinate that is the payload: the daemon's 400 quotes it back
  await ui.submit('spec-form', { spec: JSON.stringify(svc(XSS)) });
  await ui.waitFor(`$("service-result").textContent.startsWith("start failed: BAD_REQUEST")`);
  t.true((await ui.text('#service-result')).includes(XSS));

  t.is(await ui.evaluate(`document.querySelectorAll("img").length`), 0, 'no element was made from API data');
  t.is(await ui.evaluate(`window.__xss`), undefined, 'nothing ran');
  // the control: the same text as HTML does run under the page's CSP, so the test above means something
  await ui.evaluate(`document.body.insertAdjacentHTML("beforeend", ${JSON.stringify(XSS)})`);
  t.is(await ui.waitFor(`window.__xss`), 1);
});

test.serial('a standalone daemon shows no fleet section, and no error for it', async (t) => {
  const d = await startDaemon(t);
  const ui = await openConsole(t, d);
  const cluster = await d.api('GET', '/v1/cluster/jobs');
  t.is(cluster.status, 503);
  t.is(cluster.body.error.code, 'ZOOKEEPER_UNAVAILABLE');
  await ui.waitFor(`$("services") && !$("error").dataset.from`);
  await new Promise((r) => setTimeout(r, 2500)); // a refresh later, still nothing
  t.true(await ui.evaluate(`$("fleet").hidden`));
  t.is(await ui.text('#error'), '');
});

test.serial('a daemon with ZooKeeper shows its fleet: its own node, and a job with its status', async (t) => {
  const zk = await startZookeeper(t);
  // no scheduling here: the job and its status are written as `nodee cluster run` and a leader would
  const d = await startDaemon(t, { config: { zookeeper: { connect: zk.connect, nodesPath: '/meta/cell/nodes' }, scheduler: { enabled: false }, capacity: { memoryMB: 7000, cpu: 2, diskMB: 50000 } } });
  await installScripts(t, d);
  await create(t, d, svc('1.web.borud.fbu', { resources: { memoryMB: 256 } }));
  const obs = await observer(t, zk.connect);
  await obs.mkdirp('/meta/cell/jobs/batch.borud.fbu');
  await obs.setData('/meta/cell/jobs/batch.borud.fbu', JSON.stringify({ name: 'batch.borud.fbu', type: 'batch', count: 1, spec: { artifact: E2E_ART }, version: 3 }));
  await obs.create('/meta/cell/jobs/batch.borud.fbu/status', JSON.stringify({ job: 'batch.borud.fbu', version: 3, instances: [{ coordinate: '0.batch.borud.fbu', node: null, state: 'pending', ready: false }], counts: { pending: 1 }, pending: [{ coordinate: '0.batch.borud.fbu', reason: 'no live node' }], updatedAt: new Date().toISOString() }), 0);

  const ui = await openConsole(t, d);
  await ui.waitFor(`!$("fleet").hidden && $("fleet-nodes").textContent.includes("1/1")`, { timeoutMs: 20_000 });
  const rows = (id) => ui.evaluate(`[...$(${JSON.stringify(id)}).children].map((tr) => [...tr.children].map((td) => td.textContent))`);
  t.deepEqual(await rows('fleet-nodes'), [['test-node', 'active', '1/1', 'mem 256/7000 MB cpu 0/2 disk 0/50000 MB', `${d.url}/`]]);
  t.deepEqual(await rows('fleet-jobs'), [['batch.borud.fbu', 'batch', '1', '3', '0/0', '-', '1: 0.batch.borud.fbu no live node']]);
  t.is(await ui.text('#scheduler'), '', 'scheduling is off on this daemon');
  t.is(await ui.text('#fleet-state'), '1 node, 1 job');
  t.is(await ui.text('#error'), '');
});

test.serial('a daemon that leads the cell says so; each placed instance shows where it runs', async (t) => {
  const zk = await startZookeeper(t);
  const d = await startDaemon(t, { config: { zookeeper: { connect: zk.connect, nodesPath: '/meta/cell/nodes' }, scheduler: { allowRoot: true }, capacity: { memoryMB: 7000, cpu: 2, diskMB: 50000 } } });
  await installScripts(t, d);
  const ui = await openConsole(t, d);
  await ui.waitFor(`$("scheduler").textContent === "scheduler: leading"`, { timeoutMs: 20_000 });
  const obs = await observer(t, zk.connect);
  await obs.mkdirp('/meta/cell/jobs/web.borud.fbu');
  await obs.setData('/meta/cell/jobs/web.borud.fbu', JSON.stringify({ name: 'web.borud.fbu', type: 'service', count: 1, spec: { artifact: E2E_ART, command: ['bin/sleeper'] }, version: 1 }));
  await ui.waitFor(`$("fleet-jobs").textContent.includes("0 on test-node (running")`, { timeoutMs: 30_000 });
  t.regex(await ui.text('#fleet-jobs'), /0 on test-node \(running, ready\)|0 on test-node \(running\)/);
});
