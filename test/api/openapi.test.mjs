import test from 'ava';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApiServer } from '../../dist/api/server.js';
import { openApiDocument } from '../../dist/api/openapi.js';
import { capabilityRouters } from '../../dist/daemon/index.js';
import { ERROR_CODES } from '../../dist/lib/errors.js';
import { serviceSpecSchema } from '../../dist/services/spec.js';
import { z } from 'zod';
import { silentLogger } from '../../dist/lib/log.js';
import { createMetricsRegistry } from '../../dist/lib/metrics.js';
import { startDaemon } from '../helpers/daemon.mjs';
import { tempDir } from '../helpers/tmp.mjs';
import { rawRequest } from '../security/api-http.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** "METHOD /path" for every operation of the document. */
function documented(doc) {
  return Object.entries(doc.paths)
    .flatMap(([p, item]) => Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${p}`))
    .sort();
}

/** Every value under `node` for which `pick(value)` is true, depth first. */
function collect(node, pick, out = []) {
  if (node && typeof node === 'object') {
    if (pick(node)) out.push(node);
    for (const v of Object.values(node)) collect(v, pick, out);
  }
  return out;
}

/** The app exactly as the daemon builds it: the API server with the daemon's own routers. */
function servedRoutes() {
  // the routers only reach the store and the supervisor when a request comes in
  // (the fleet routes among them, as the daemon mounts them: src/scheduler/routes.ts)
  const routers = capabilityRouters({}, {});
  const api = new ApiServer({ listen: '127.0.0.1:0', log: silentLogger(), metrics: createMetricsRegistry(false), node: {}, routers, bodyLimitBytes: 1024 });
  return api.routes();
}

const httpCodes = Object.keys(ERROR_CODES).filter((c) => ERROR_CODES[c] >= 100).sort();

test('every route the daemon serves is in the document, and the document has no other', (t) => {
  const served = servedRoutes();
  t.true(served.includes('GET /v1/services/{coordinate}/logs') && served.includes('PUT /v1/artifacts/{g}/{a}/{v}'), served.join('\n'));
  t.deepEqual(documented(openApiDocument), served);
});

test('the error schema names every HTTP error code, and each is documented under its own status', (t) => {
  const { schemas } = openApiDocument.components;
  t.deepEqual([...schemas.Error.properties.error.properties.code.enum].sort(), httpCodes);

  const responses = collect(openApiDocument, (n) => Array.isArray(n['x-error-codes']));
  t.deepEqual([...new Set(responses.flatMap((r) => r['x-error-codes']))].sort(), httpCodes, 'each code is answered somewhere');
  for (const [p, item] of Object.entries(openApiDocument.paths)) {
    for (const [method, op] of Object.entries(item)) {
      for (const [status, r] of Object.entries(op.responses)) {
        for (const code of r['x-error-codes'] ?? []) t.is(String(ERROR_CODES[code]), status, `${method} ${p}: ${code}`);
      }
    }
  }
});

test('the ServiceSpec schema has the validator\'s fields, and resources its bounds', (t) => {
  const { schemas } = openApiDocument.components;
  t.deepEqual(Object.keys(schemas.ServiceSpec.properties).sort(), Object.keys(serviceSpecSchema.shape).sort());
  const resources = z.toJSONSchema(serviceSpecSchema.shape.resources, { io: 'input' });
  for (const [key, bounds] of Object.entries(resources.properties)) {
    const { description, ...documented } = schemas.Resources.properties[key];
    t.deepEqual(documented, bounds, key);
    t.is(typeof description, 'string', key);
  }
  t.deepEqual(Object.keys(schemas.Resources.properties).sort(), Object.keys(resources.properties).sort());
});

test('starts that may not fit the node say so: 409 INSUFFICIENT_RESOURCES, 500 CGROUP_FAILED', (t) => {
  for (const p of ['/v1/services', '/v1/services/{coordinate}/start', '/v1/services/{coordinate}/restart']) {
    const { responses } = openApiDocument.paths[p].post;
    t.true(responses['409']['x-error-codes'].includes('INSUFFICIENT_RESOURCES'), p);
    t.true(responses['500']['x-error-codes'].includes('CGROUP_FAILED'), p);
  }
  // stopping never needs room
  t.false(openApiDocument.paths['/v1/services/{coordinate}/stop'].post.responses['409']?.['x-error-codes'].includes('INSUFFICIENT_RESOURCES') ?? false);
});

test('the document is OpenAPI 3.1: operations with responses, parameters for every path template, refs that resolve', (t) => {
  const doc = openApiDocument;
  t.is(doc.openapi, '3.1.0');
  t.is(typeof doc.info.title, 'string');
  t.is(typeof doc.info.version, 'string');
  for (const [p, item] of Object.entries(doc.paths)) {
    t.true(p.startsWith('/'), p);
    const ops = Object.entries(item).filter(([m]) => METHODS.includes(m));
    t.true(ops.length > 0, p);
    const templated = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [method, op] of ops) {
      const codes = Object.keys(op.responses);
      t.true(codes.length > 0, `${method} ${p}`);
      t.true(codes.some((c) => /^2\d\d$/.test(c)), `${method} ${p} has a success`);
      for (const c of codes) t.regex(c, /^([1-5]\d\d|default)$/, `${method} ${p}`);
      for (const r of Object.values(op.responses)) t.is(typeof r.description, 'string', `${method} ${p}`);
      const inPath = (op.parameters ?? []).filter((x) => x.in === 'path');
      t.deepEqual(inPath.map((x) => x.name).sort(), templated, `${method} ${p} path parameters`);
      t.true(inPath.every((x) => x.required === true), `${method} ${p}`);
    }
  }
  for (const { $ref } of collect(doc, (n) => typeof n.$ref === 'string')) {
    const target = $ref.replace(/^#\//, '').split('/').reduce((o, k) => o?.[k], doc);
    t.truthy(target, $ref);
  }
  const security = collect(doc, (n) => Array.isArray(n.security)).flatMap((n) => n.security.flatMap((s) => Object.keys(s)));
  t.true(security.every((name) => name in doc.components.securitySchemes));
});

test('GET /openapi.json serves the document without the token; nothing else about it is open', async (t) => {
  const tokenFile = path.join(await tempDir(t, 'nodee-token-'), 'token');
  await writeFile(tokenFile, 'tok-openapi\n');
  const d = await startDaemon(t, { config: { api: { tokenFile } } });
  const res = await rawRequest(d.url, { path: '/openapi.json' });
  t.is(res.status, 200);
  t.regex(res.headers['content-type'], /^application\/json/);
  t.deepEqual(res.body, JSON.parse(JSON.stringify(openApiDocument)));
  const status = (await d.api('GET', '/v1/status', undefined, { token: 'tok-openapi' })).body;
  t.is(res.body.info.version, status.version);
  // what the daemon answers is what the document describes: every field of NodeStatus, and its resources' figures
  const { NodeStatus, NodeResources } = res.body.components.schemas;
  t.deepEqual(Object.keys(status).sort(), Object.keys(NodeStatus.properties).sort());
  t.deepEqual(Object.keys(status.resources.capacity).sort(), [...NodeResources.required].sort());
  t.true(NodeStatus.properties.containment.enum.includes(status.containment));
  for (const p of ['/OPENAPI.json', '/openapi.json/', '/openapi', '//openapi.json', '/openapi.JSON']) {
    t.is((await rawRequest(d.url, { path: p })).status, 401, `GET ${p}`);
  }
  t.is((await rawRequest(d.url, { method: 'POST', path: '/openapi.json' })).status, 401, 'POST');
  t.is((await rawRequest(d.url, { method: 'DELETE', path: '/openapi.json' })).status, 401, 'DELETE');
  // still behind the Host check, like everything but /healthz
  t.is((await rawRequest(d.url, { path: '/openapi.json', headers: { host: 'evil.example' } })).status, 421);
});
