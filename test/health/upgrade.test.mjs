import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cli } from '../helpers/daemon.mjs';
import { E2E_ART, create, get, healthDaemon, spec, until } from './_service.mjs';

// POST /v1/services/{c}/upgrade: stop, start on the new artifact with the same runtime dir
// and ports, roll back if it is not ready in time. Version 2.0.0 of the scripts artifact has
// a bin/web that never becomes ready (BROKEN) or one that does (GOOD).

const V2 = E2E_ART.replace('1.0.0', '2.0.0');
const BROKEN = {
  'bin/web': `#!/usr/bin/python3
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        self.send_response(500); self.send_header("Content-Length", "0"); self.end_headers()
print("v2 up", flush=True)
http.server.HTTPServer(("127.0.0.1", int(os.environ["NODEE_PORT_HTTP"])), H).serve_forever()
`,
};
const checks = [{ name: 'web', type: 'readiness', http: { port: 'http', path: '/healthz' }, intervalMs: 100 }];

test('an upgrade to a version that never becomes ready is rolled back: 409 UPGRADE_ROLLED_BACK, the service exactly as it was', async (t) => {
  const d = await healthDaemon(t, { v2: BROKEN });
  const c = '0.up.alice.cell';
  await create(d, spec(c, 'bin/web', { checks, env: { SECRET: 'x' } }));
  const before = await until(d, c, (s) => s.ready, 'ready on 1.0.0');
  writeFileSync(`${before.runtimeDir}/data.txt`, 'kept');

  const res = await d.api('POST', `/v1/services/${c}/upgrade`, { artifact: V2, timeoutSeconds: 2 });
  t.is(res.status, 409, JSON.stringify(res.body));
  t.is(res.body.error.code, 'UPGRADE_ROLLED_BACK');
  t.regex(res.body.error.message, /not ready within 2 s/);

  const after = await until(d, c, (s) => s.ready, 'ready again on 1.0.0');
  t.is(after.artifact, E2E_ART);
  t.deepEqual(after.spec, before.spec, 'the spec as it was');
  t.deepEqual(after.ports, before.ports);
  t.is(after.runtimeDir, before.runtimeDir);
  t.not(after.pid, before.pid);
  t.is(readFileSync(`${after.runtimeDir}/data.txt`, 'utf8'), 'kept');
  // the v2 process did run (on the same port) before it was rolled back
  t.regex(readFileSync(`${after.runtimeDir}/logs/stdout.log`, 'utf8'), /v2 up/);
  const revealed = await d.api('GET', `/v1/services/${c}?reveal=env`);
  t.is(revealed.body.spec.env.SECRET, 'x');
});

test('an upgrade to a version that becomes ready stays: 200 with the new artifact, the same runtime dir and ports', async (t) => {
  const d = await healthDaemon(t, { v2: {} });
  const c = '0.up.alice.cell';
  await create(d, spec(c, 'bin/web', { checks }));
  const before = await until(d, c, (s) => s.ready, 'ready on 1.0.0');
  const res = await d.api('POST', `/v1/services/${c}/upgrade`, { artifact: V2, timeoutSeconds: 10 });
  t.is(res.status, 200, JSON.stringify(res.body));
  t.is(res.body.artifact, V2);
  t.true(res.body.ready);
  t.deepEqual(res.body.ports, before.ports);
  t.is(res.body.runtimeDir, before.runtimeDir);
  const now = await get(d, c);
  t.is(now.artifact, V2);
  t.is(now.spec.artifact, V2);
  t.true(existsSync(`/proc/${now.pid}`));
});

test('upgrade refuses what it cannot do: an artifact not installed (404), a bad body (400), an unknown service (404)', async (t) => {
  const d = await healthDaemon(t);
  const c = '0.up.alice.cell';
  const s = await create(d, spec(c, 'bin/web'));
  const missing = await d.api('POST', `/v1/services/${c}/upgrade`, { artifact: V2 });
  t.is(missing.status, 404);
  t.is(missing.body.error.code, 'ARTIFACT_NOT_INSTALLED');
  for (const body of [{}, { artifact: 'nocolons' }, { artifact: V2, timeoutSeconds: -1 }, { artifact: V2, extra: 1 }]) {
    const bad = await d.api('POST', `/v1/services/${c}/upgrade`, body);
    t.is(bad.status, 400, JSON.stringify(body));
  }
  t.is((await d.api('POST', '/v1/services/0.none.alice.cell/upgrade', { artifact: V2 })).status, 404);
  const same = await get(d, c);
  t.is(same.pid, s.pid, 'a refused upgrade touches nothing');
});

test('nodee service upgrade shows its progress and exits non-zero on a rollback', async (t) => {
  const d = await healthDaemon(t, { v2: BROKEN });
  const c = '0.up.alice.cell';
  await create(d, spec(c, 'bin/web', { checks }));
  await until(d, c, (s) => s.ready, 'ready');
  const out = await cli(['service', 'upgrade', c, V2, '--timeout', '2', '--url', d.url]);
  t.not(out.code, 0);
  t.regex(out.stderr, /UPGRADE_ROLLED_BACK/);
  t.regex(out.stderr + out.stdout, /starting|running/, 'progress shows the states it went through');
  t.is((await get(d, c)).artifact, E2E_ART);
});
