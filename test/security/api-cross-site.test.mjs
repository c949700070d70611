import test from 'ava';
import os from 'node:os';
import { startDaemon } from '../helpers/daemon.mjs';
import { isError, rawExchange, rawRequest, requestCounts } from './api-http.mjs';

const spec = JSON.stringify({ coordinate: '1.pwn.x.y', artifact: 'com.example:pwn:1.0.0', command: ['/bin/sh', '-c', 'id'] });

async function nodeState(d) {
  return (await rawRequest(d.url, { path: '/v1/status' })).body.state;
}

test('a body that is not declared application/json is 415, also with no Content-Type at all', async (t) => {
  const d = await startDaemon(t);
  // what a cross-site form or fetch(..., { mode: 'no-cors' }) can send without a preflight
  const untyped = [
    ['no Content-Type', {}],
    ['text/plain', { 'content-type': 'text/plain;charset=UTF-8' }],
    ['form', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['multipart', { 'content-type': 'multipart/form-data; boundary=x' }],
  ];
  for (const [what, headers] of untyped) {
    isError(t, await rawRequest(d.url, { method: 'POST', path: '/v1/services', headers, body: spec }), 415, 'UNSUPPORTED_MEDIA_TYPE', `services, ${what}`);
    isError(t, await rawRequest(d.url, { method: 'POST', path: '/v1/drain', headers, body: '{}' }), 415, 'UNSUPPORTED_MEDIA_TYPE', `drain, ${what}`);
    isError(t, await rawRequest(d.url, { method: 'PUT', path: '/v1/artifacts/com.example/pwn/1.0.0', headers, body: '{}' }), 415, 'UNSUPPORTED_MEDIA_TYPE', `artifact, ${what}`);
  }
  t.is(await nodeState(d), 'active');
  t.deepEqual((await rawRequest(d.url, { path: '/v1/services' })).body.services, []);

  // a JSON body, and no body at all, still work
  const drained = await rawRequest(d.url, { method: 'POST', path: '/v1/drain', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.is(drained.status, 202, drained.text);
  t.is((await rawRequest(d.url, { method: 'POST', path: '/v1/undrain' })).status, 202);
  t.is(await nodeState(d), 'active');
});

test('a request from another Origin is 403 and changes nothing; our own origin works', async (t) => {
  const d = await startDaemon(t);
  const { port } = new URL(d.url);
  const foreign = [
    'http://evil.example',
    'null', // sandboxed iframes, file://
    `http://127.0.0.1:${Number(port) + 1}`, // another server on this machine
    `http://localhost:${port}`, // a different origin from the one the request was sent to
    `https://127.0.0.1:${port}`,
    `http://evil.localhost:${port}`,
  ];
  for (const origin of foreign) {
    isError(t, await rawRequest(d.url, { method: 'POST', path: '/v1/drain', headers: { origin } }), 403, 'FORBIDDEN', `drain from ${origin}`);
    isError(t, await rawRequest(d.url, { method: 'POST', path: '/v1/services', headers: { origin, 'content-type': 'application/json' }, body: spec }), 403, 'FORBIDDEN', `services from ${origin}`);
    isError(t, await rawRequest(d.url, { path: '/v1/status', headers: { origin } }), 403, 'FORBIDDEN', `status from ${origin}`);
  }
  // fetch metadata without an Origin (defence in depth)
  for (const site of ['cross-site', 'same-site']) {
    isError(t, await rawRequest(d.url, { method: 'POST', path: '/v1/drain', headers: { 'sec-fetch-site': site, 'sec-fetch-mode': 'no-cors' } }), 403, 'FORBIDDEN', site);
  }
  t.is(await nodeState(d), 'active');
  t.deepEqual((await rawRequest(d.url, { path: '/v1/services' })).body.services, []);

  // the console's own fetches, and a link to the console from another site, still work
  const own = { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' };
  t.is((await rawRequest(d.url, { method: 'POST', path: '/v1/drain', headers: own })).status, 202);
  t.is(await nodeState(d), 'draining');
  t.is((await rawRequest(d.url, { method: 'POST', path: '/v1/undrain', headers: { origin: `http://localhost:${port}`, host: `localhost:${port}` } })).status, 202);
  const link = await rawRequest(d.url, { path: '/', headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' } });
  t.is(link.status, 200);
  t.is((await rawRequest(d.url, { path: '/healthz', headers: { origin: 'http://evil.example' } })).status, 200);
});

test('a Host that is not one of ours is 421 (DNS rebinding); our names and addresses work', async (t) => {
  const d = await startDaemon(t);
  const { port } = new URL(d.url);
  const other = Number(port) + 1;
  for (const host of [`evil.example:${port}`, `evil.localhost:${port}`, `localhost.:${port}`, `localhost:${other}`, `127.0.0.1:${other}`, '127.0.0.1', `0.0.0.0:${port}`, `evil.example@127.0.0.1:${port}`]) {
    isError(t, await rawRequest(d.url, { path: '/v1/status', headers: { host } }), 421, 'MISDIRECTED_REQUEST', `GET Host ${host}`);
    isError(t, await rawRequest(d.url, { method: 'POST', path: '/v1/drain', headers: { host } }), 421, 'MISDIRECTED_REQUEST', `POST Host ${host}`);
    isError(t, await rawRequest(d.url, { path: '/', headers: { host } }), 421, 'MISDIRECTED_REQUEST', `console Host ${host}`);
  }
  // HTTP/1.0 may omit Host; a browser never does, but nothing proves such a request is ours
  const noHost = await rawExchange(d.url, 'GET /v1/status HTTP/1.0\r\n\r\n');
  t.regex(noHost, /^HTTP\/1\.1 421 /);
  t.is(await nodeState(d), 'active');

  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, `${os.hostname()}:${port}`]) {
    t.is((await rawRequest(d.url, { path: '/v1/status', headers: { host } })).status, 200, host);
  }
  // probes may call /healthz by any name
  t.is((await rawRequest(d.url, { path: '/healthz', headers: { host: 'lb.example' } })).status, 200);
});

test('api.allowedHosts adds names (on any port), nothing more', async (t) => {
  const d = await startDaemon(t, { config: { api: { allowedHosts: ['nodee.example', '[fd00::7]'] } } });
  t.is((await rawRequest(d.url, { path: '/v1/status', headers: { host: 'nodee.example' } })).status, 200);
  t.is((await rawRequest(d.url, { path: '/v1/status', headers: { host: 'NODEE.example:8443' } })).status, 200);
  t.is((await rawRequest(d.url, { path: '/v1/status', headers: { host: '[fd00::7]:443' } })).status, 200);
  isError(t, await rawRequest(d.url, { path: '/v1/status', headers: { host: 'nodee.example.evil' } }), 421, 'MISDIRECTED_REQUEST');
  isError(t, await rawRequest(d.url, { path: '/v1/status', headers: { host: 'x.nodee.example' } }), 421, 'MISDIRECTED_REQUEST');
  // behind the proxy the console's origin is the proxy's
  const proxied = { host: 'nodee.example', origin: 'http://nodee.example' };
  t.is((await rawRequest(d.url, { method: 'POST', path: '/v1/drain', headers: proxied })).status, 202);
  isError(t, await rawRequest(d.url, { method: 'POST', path: '/v1/undrain', headers: { host: 'nodee.example', origin: 'http://evil.example' } }), 403, 'FORBIDDEN');
});

test('IPv6: a daemon on [::1] answers to [::1]:port and its own origin', async (t) => {
  const d = await startDaemon(t, { config: { api: { listen: '[::1]:0' } } });
  const { port } = new URL(d.url);
  t.is((await rawRequest(d.url, { path: '/v1/status' })).status, 200);
  t.is((await rawRequest(d.url, { path: '/v1/status', headers: { host: `[0:0:0:0:0:0:0:1]:${port}` } })).status, 200);
  t.is((await rawRequest(d.url, { method: 'POST', path: '/v1/drain', headers: { origin: `http://[::1]:${port}` } })).status, 202);
  isError(t, await rawRequest(d.url, { method: 'POST', path: '/v1/undrain', headers: { origin: `http://[::2]:${port}` } }), 403, 'FORBIDDEN');
  isError(t, await rawRequest(d.url, { path: '/v1/status', headers: { host: `[::1]:${Number(port) + 1}` } }), 421, 'MISDIRECTED_REQUEST');
});

test('a refused request with an unread body ends its keep-alive connection instead of hanging it', async (t) => {
  const d = await startDaemon(t);
  const { port } = new URL(d.url);
  const host = `127.0.0.1:${port}`;
  const body = spec.repeat(50);
  const cases = [
    [415, `POST /v1/services HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`],
    [403, `POST /v1/services HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://evil.example\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`],
    [421, `POST /v1/services HTTP/1.1\r\nHost: evil.example:${port}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`],
  ];
  for (const [status, request] of cases) {
    // resolves only when the daemon closes the connection: a hang fails the test by its timeout
    const answer = await rawExchange(d.url, request);
    t.regex(answer, new RegExp(`^HTTP/1\\.1 ${status} `));
    t.regex(answer, /\r\nConnection: close\r\n/i);
    t.is(answer.match(/^HTTP\/1\.1 /gm).length, 1, 'the body was not read as a second request');
  }
  t.deepEqual((await rawRequest(d.url, { path: '/v1/services' })).body.services, []);
  const counts = await requestCounts(d.url);
  t.is(counts['POST 201'], undefined);
});
