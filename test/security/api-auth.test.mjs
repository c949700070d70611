import test from 'ava';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startDaemon } from '../helpers/daemon.mjs';
import { tempDir } from '../helpers/tmp.mjs';
import { isError, rawRequest, requestCounts } from './api-http.mjs';

const TOKEN = 'tok-a9f3c1e7';
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { 'content-type': 'application/json' };

async function daemonWithToken(t) {
  const dir = await tempDir(t, 'nodee-token-');
  const tokenFile = path.join(dir, 'token');
  await writeFile(tokenFile, `${TOKEN}\n`);
  return startDaemon(t, { config: { api: { tokenFile } } });
}

// Other spellings of /v1/services: a router, a proxy or a later refactor may take any of
// them for the real route, so none of them may get past the token.
const SPELLINGS = [
  '/V1/services',
  '/v1/SERVICES',
  '/V1/Services',
  '//v1/services',
  '/v1//services',
  '/./v1/services',
  '/v1/./services',
  '/x/../v1/services',
  '/%76%31/services',
  '/%2Fv1/services',
  '/v1/%73ervices',
  '/v1/services/',
  '/v1/services?x=1',
];

test('without the token, no spelling of a /v1 path gets through, whatever the method', async (t) => {
  const d = await daemonWithToken(t);
  const spec = JSON.stringify({ coordinate: '1.pwn.x.y', artifact: 'com.example:pwn:1.0.0', command: ['/bin/sh', '-c', 'id'] });
  for (const p of SPELLINGS) {
    isError(t, await rawRequest(d.url, { path: p }), 401, 'UNAUTHORIZED', `GET ${p}`);
    isError(t, await rawRequest(d.url, { method: 'POST', path: p, headers: json, body: spec }), 401, 'UNAUTHORIZED', `POST ${p}`);
  }
  for (const p of ['/V1/drain', '/v1/DRAIN', '//v1/drain', '/%76%31/drain', '/v1/drain/']) {
    isError(t, await rawRequest(d.url, { method: 'POST', path: p }), 401, 'UNAUTHORIZED', `POST ${p}`);
  }
  for (const p of ['/V1/artifacts/com.example/pwn/1.0.0', '//v1/artifacts/com.example/pwn/1.0.0']) {
    isError(t, await rawRequest(d.url, { method: 'PUT', path: p, headers: json, body: '{"url":"http://127.0.0.1:1/pwn.zip"}' }), 401, 'UNAUTHORIZED', `PUT ${p}`);
    isError(t, await rawRequest(d.url, { method: 'DELETE', path: p }), 401, 'UNAUTHORIZED', `DELETE ${p}`);
  }

  // the daemon side: nothing was created, the node was not drained, no POST/PUT succeeded
  const services = await rawRequest(d.url, { path: '/v1/services', headers: auth });
  t.is(services.status, 200);
  t.deepEqual(services.body.services, []);
  const status = await rawRequest(d.url, { path: '/v1/status', headers: auth });
  t.is(status.body.state, 'active');
  const counts = await requestCounts(d.url);
  t.deepEqual(Object.keys(counts).filter((k) => /^(POST|PUT|DELETE) 2/.test(k)), [], JSON.stringify(counts));
});

test('only GET /healthz, /metrics, / and /openapi.json are open, spelled exactly; unknown paths need the token too', async (t) => {
  const d = await daemonWithToken(t);
  t.is((await rawRequest(d.url, { path: '/healthz' })).status, 200);
  t.is((await rawRequest(d.url, { path: '/metrics' })).status, 200);
  const page = await rawRequest(d.url, { path: '/' });
  t.is(page.status, 200);
  t.true(page.text.includes('<title>nodee</title>'));
  t.is((await rawRequest(d.url, { method: 'HEAD', path: '/' })).status, 200);
  const openapi = await rawRequest(d.url, { path: '/openapi.json' });
  t.is(openapi.status, 200);
  t.is(openapi.body.openapi, '3.1.0');

  // not the open paths: other spellings, other methods, and paths no route knows
  for (const p of ['/HEALTHZ', '/healthz/', '/Metrics', '//', '/index.html', '/favicon.ico', '/nothing', '/v2/services', '/OpenAPI.json', '/openapi.json/', '//openapi.json', '/openapi', '/openapi.yaml', '/%6Fpenapi.json']) {
    isError(t, await rawRequest(d.url, { path: p }), 401, 'UNAUTHORIZED', `GET ${p}`);
  }
  isError(t, await rawRequest(d.url, { method: 'POST', path: '/' }), 401, 'UNAUTHORIZED', 'POST /');
  isError(t, await rawRequest(d.url, { method: 'DELETE', path: '/healthz' }), 401, 'UNAUTHORIZED', 'DELETE /healthz');
  isError(t, await rawRequest(d.url, { method: 'POST', path: '/openapi.json', headers: json, body: '{}' }), 401, 'UNAUTHORIZED', 'POST /openapi.json');
});

test('routing is exact too: another spelling of a node route is 404 even with the token', async (t) => {
  const d = await daemonWithToken(t);
  t.is((await rawRequest(d.url, { path: '/v1/status', headers: auth })).status, 200);
  for (const p of ['/V1/status', '/v1/STATUS', '/v1/status/', '//v1/status', '/%76%31/status', '/HEALTHZ', '/metrics/']) {
    isError(t, await rawRequest(d.url, { path: p, headers: auth }), 404, 'NOT_FOUND', `GET ${p}`);
  }
  isError(t, await rawRequest(d.url, { method: 'POST', path: '/V1/drain', headers: auth }), 404, 'NOT_FOUND', 'POST /V1/drain');
  t.is((await rawRequest(d.url, { path: '/v1/status', headers: auth })).body.state, 'active');
  // the capabilities' routers match case-sensitively as well
  t.is((await rawRequest(d.url, { path: '/v1/services', headers: auth })).status, 200);
  for (const p of ['/V1/services', '/v1/SERVICES', '/v1/Artifacts']) isError(t, await rawRequest(d.url, { path: p, headers: auth }), 404, 'NOT_FOUND', `GET ${p}`);
});

test('a daemon without a token says at start that its API is open to every local user; with one it does not', async (t) => {
  const open = await startDaemon(t);
  const warning = (d) => d.events().find((e) => e.level === 'warn' && /api\.tokenFile is not set/.test(e.msg));
  t.truthy(warning(open), 'no warning about the open API');
  const guarded = await daemonWithToken(t);
  t.falsy(warning(guarded));
});

test('the console assets are open by their exact paths only; nothing else under /console is served or open', async (t) => {
  const d = await daemonWithToken(t);
  const asset = await rawRequest(d.url, { path: '/console/yaml/index.js' });
  t.is(asset.status, 200);
  t.regex(asset.headers['content-type'], /^text\/javascript/);
  t.regex(asset.text, /export/);
  for (const p of ['/console/yaml/../../package.json', '/console/yaml/%2e%2e/%2e%2e/package.json', '/console/yaml/', '/console/yaml/index.js/', '/CONSOLE/yaml/index.js', '/console/yaml/nope.js']) {
    isError(t, await rawRequest(d.url, { path: p }), 401, 'UNAUTHORIZED', `GET ${p}`);
    isError(t, await rawRequest(d.url, { path: p, headers: auth }), 404, 'NOT_FOUND', `GET ${p} with the token`);
  }
  isError(t, await rawRequest(d.url, { method: 'POST', path: '/console/yaml/index.js', headers: json, body: '{}' }), 401, 'UNAUTHORIZED', 'POST of an asset');
});
