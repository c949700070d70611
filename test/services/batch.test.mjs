/** POST /v1/services with {"services": [...]}, and `nodee service start --spec` of a list, on a real daemon. */
import test from 'ava';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { cli, startDaemon } from '../helpers/daemon.mjs';
import { tempDir } from '../helpers/tmp.mjs';
import { E2E_ART, installScripts } from './e2e-helpers.mjs';

const spec = (coordinate, over = {}) => ({ coordinate, artifact: E2E_ART, command: ['bin/sleeper'], ...over });

test('a batch starts every service in one request', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d);
  const specs = Array.from({ length: 12 }, (_, i) => spec(`${i}.batch.a.b`));
  const res = await d.api('POST', '/v1/services', { services: specs });
  t.is(res.status, 201, JSON.stringify(res.body));
  t.deepEqual(res.body.services.map((s) => s.coordinate), specs.map((s) => s.coordinate));
  t.true(res.body.services.every((s) => s.state === 'running' && s.pid > 0));
  t.is((await d.api('GET', '/v1/services')).body.services.length, 12);
});

test('a batch with one bad spec starts nothing and names it; duplicates are refused', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d);
  const bad = await d.api('POST', '/v1/services', { services: [spec('0.b.a.b'), spec('1.b.a.b'), spec('2.b.a.b', { restart: { policy: 'sometimes' } })] });
  t.is(bad.status, 400);
  t.regex(bad.body.error.message, /^services\[2\]: restart\.policy/);
  const twice = await d.api('POST', '/v1/services', { services: [spec('0.b.a.b'), spec('0.b.a.b')] });
  t.is(twice.status, 400);
  t.regex(twice.body.error.message, /given twice/);
  t.is((await d.api('POST', '/v1/services', { services: [] })).status, 400);
  t.deepEqual((await d.api('GET', '/v1/services')).body.services, []);
});

test('a batch that fails part way keeps and names what it created', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d);
  t.is((await d.api('POST', '/v1/services', spec('2.c.a.b'))).status, 201);
  const res = await d.api('POST', '/v1/services', { services: [0, 1, 2, 3].map((i) => spec(`${i}.c.a.b`)) });
  t.is(res.status, 409);
  t.is(res.body.error.code, 'SERVICE_EXISTS');
  t.regex(res.body.error.message, /^services\[2\] \(2\.c\.a\.b\)/);
  // begun before the failure: created, running, and listed in the answer
  const created = res.body.services.map((s) => s.coordinate).sort();
  t.deepEqual(created, ['0.c.a.b', '1.c.a.b', '3.c.a.b']);
  const listed = (await d.api('GET', '/v1/services')).body.services.map((s) => s.coordinate).sort();
  t.deepEqual(listed, ['0.c.a.b', '1.c.a.b', '2.c.a.b', '3.c.a.b']);
});

test('nodee service start --spec FILE with a list of specs starts them all', async (t) => {
  const d = await startDaemon(t);
  await installScripts(t, d);
  const dir = await tempDir(t, 'nodee-batch-');
  const file = path.join(dir, 'many.yaml');
  await writeFile(file, stringify([spec('0.cli.a.b'), spec('1.cli.a.b'), spec('2.cli.a.b')]));
  const r = await cli(['service', 'start', '--spec', file, '--url', d.url]);
  t.is(r.code, 0, r.stderr);
  for (const c of ['0.cli.a.b', '1.cli.a.b', '2.cli.a.b']) t.regex(r.stdout, new RegExp(`${c.replace(/\./g, '\\.')}\\s+running`));
  t.is((await d.api('GET', '/v1/services')).body.services.length, 3);
});
