import test from 'ava';
import http from 'node:http';
import { startDaemon } from '../helpers/daemon.mjs';
import { E2E_ART, installScripts } from '../services/e2e-helpers.mjs';
import { startChromium } from '../helpers/chromium.mjs';
import { rawRequest, requestCounts } from './api-http.mjs';

// A page on another site, opened by the operator, tries to start a service on the node
// (remote root: the daemon runs it as root) and to drain the node, with every request a
// browser lets a page send cross-site without a CORS preflight, then with one.
const ATTACKER_PAGE = `<!doctype html><title>cute cats</title>
<iframe name="sink"></iframe>
<script>
"use strict";
const spec = (n) => JSON.stringify({ coordinate: n + ".pwn.x.y", artifact: "${E2E_ART}", command: ["bin/sleeper"] });
const sent = (p) => p.then((r) => "answered " + r.type, (e) => "refused " + e.name);

function formPost(action, name, value) {
  return new Promise((resolve) => {
    const f = document.createElement("form");
    f.method = "POST"; f.action = action; f.enctype = "text/plain"; f.target = "sink";
    const i = document.createElement("input");
    i.name = name; i.value = value; f.appendChild(i);
    document.body.appendChild(f);
    document.querySelector("iframe").onload = () => resolve("form posted");
    f.submit();
  });
}

window.attack = async (daemon) => [
  // an untyped Blob: no Content-Type at all
  await sent(fetch(daemon + "/v1/services", { method: "POST", mode: "no-cors", body: new Blob([spec(1)]) })),
  await sent(fetch(daemon + "/v1/drain", { method: "POST", mode: "no-cors" })),
  await sent(fetch(daemon + "/v1/services", { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body: spec(2) })),
  // text/plain form: name + "=" + value makes a JSON document
  await formPost(daemon + "/v1/services", spec(3).slice(0, -1) + ', "x": "', '"}'),
  await formPost(daemon + "/v1/drain", "x", "y"),
  // needs a preflight, which must fail
  await sent(fetch(daemon + "/v1/services", { method: "POST", headers: { "content-type": "application/json" }, body: spec(4) })),
];
</script>`;

async function startAttacker(t) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(ATTACKER_PAGE);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  // Chromium resolves every *.localhost to loopback itself: a real, different site
  return `http://evil.localhost:${server.address().port}`;
}

async function assertUntouched(t, d) {
  const services = await rawRequest(d.url, { path: '/v1/services' });
  t.deepEqual(services.body.services, [], 'no service was started');
  t.is((await rawRequest(d.url, { path: '/v1/status' })).body.state, 'active', 'the node was not drained');
}

test('a cross-site page in Chromium can neither start a service nor drain the node', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d); // so the attacker's spec would start a real process
  const attacker = await startAttacker(t);
  const browser = await startChromium(t);

  const page = await browser.open(`${attacker}/`);
  const outcome = await page.evaluate(`attack(${JSON.stringify(d.url)})`);
  t.is(outcome.length, 6);
  t.is(outcome[5], 'refused TypeError', 'the preflight was refused');

  // judged on the daemon's side, not by what the page could see
  await assertUntouched(t, d);
  const counts = await requestCounts(d.url);
  t.true(counts['POST 403'] >= 5, JSON.stringify(counts));
  t.true(counts['OPTIONS 403'] >= 1, JSON.stringify(counts));
  t.deepEqual(Object.keys(counts).filter((k) => /^POST 2/.test(k)), [], JSON.stringify(counts));
});

test('DNS rebinding in Chromium: a page whose own name points at the daemon gets 421', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d);
  const { port } = new URL(d.url);
  const browser = await startChromium(t);

  // evil.localhost resolves to 127.0.0.1, like a rebound attacker name: to the browser the
  // daemon is now this page's own origin, so it could read every answer
  const page = await browser.open(`http://evil.localhost:${port}/`);
  const statuses = await page.evaluate(`Promise.all([
    fetch("/v1/status").then((r) => r.status),
    fetch("/v1/drain", { method: "POST" }).then((r) => r.status),
    fetch("/v1/services", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ coordinate: "1.pwn.x.y", artifact: "${E2E_ART}", command: ["bin/sleeper"] }) }).then((r) => r.status),
  ])`);
  t.deepEqual(statuses, [421, 421, 421]);
  await assertUntouched(t, d);
});

test('the console works in Chromium: it shows the node and its own POSTs go through', async (t) => {
  const d = await startDaemon(t);
  const browser = await startChromium(t);
  for (const url of [`${d.url}/`, d.url.replace('127.0.0.1', 'localhost') + '/']) {
    const page = await browser.open(url);
    // the console's own functions, as its buttons call them
    const shown = await page.evaluate(`refresh().then(() => ({ instance: $("instance").textContent, error: $("error").textContent }))`);
    t.deepEqual(shown, { instance: 'test-node', error: '' }, url);

    t.is(await page.evaluate(`api("POST", "/v1/drain").then((s) => s.state)`), 'draining', url);
    t.is((await rawRequest(d.url, { path: '/v1/status' })).body.state, 'draining', 'the daemon itself is drained');
    t.is(await page.evaluate(`api("POST", "/v1/undrain").then((s) => s.state)`), 'active', url);
  }
  t.is((await rawRequest(d.url, { path: '/v1/status' })).body.state, 'active');
});
