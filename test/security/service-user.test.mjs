/**
 * Attacks by a service's own user, who owns its runtime dir and may plant links, rename
 * directories and race the daemon there. Each test performs the attack for real against a
 * real root daemon and checks that root did not act on the attacker's paths.
 */
import test from 'ava';
import { existsSync, lstatSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../helpers/tmp.mjs';
import { daemonWithScripts, ensureUser, gidOf, isRoot, rootOnly, runAs, serviceSpec } from './_users.mjs';

// these attacks need a root daemon and other users: CI runs as root, as nodee does
if (!isRoot) throw new Error('test/security needs root (nodee runs as root; the attacks need other users)');

const USER = ensureUser('nodee-svc1');

const logPath = (d, coordinate, file) => {
  const [i, s, u, c] = coordinate.split('.');
  return path.join(d.prefix, 'logs', c, u, s, i, file);
};

test('log rotation never writes through links the service planted in runtime/.../logs', async (t) => {
  const victim = await rootOnly(t);
  const created = path.join(victim.dir, 'created-by-root');
  // the service swaps logs/ for its own dir: stdout.log.1 a link into a root-only dir, a big stdout.log
  const d = await daemonWithScripts(
    t,
    {
      'bin/rotattack': `#!/bin/sh
cd "$NODEE_RUNTIME_DIR"
mv logs logs.away
mkdir logs
ln -s "${created}" logs/stdout.log.1
head -c 20000 /dev/zero | tr '\\0' x > logs/stdout.log
i=0; while [ $i -lt 400 ]; do echo yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy; i=$((i+1)); done
echo planted > planted
exec sleep 1000
`,
    },
    { logs: { maxBytes: 4096, keep: 1 } },
  );
  const c = '1.rot.nodee-svc1.sec';
  const res = await d.api('POST', '/v1/services', serviceSpec(c, { command: ['bin/rotattack'], user: USER.name }));
  t.is(res.status, 201, JSON.stringify(res.body));
  const runtimeDir = res.body.runtimeDir;
  await waitFor(() => existsSync(path.join(runtimeDir, 'planted')), { what: 'the links to be planted' });
  // the real log (26 kB) is rotated; whatever the daemon did to runtime/.../logs, it did by now
  // the rotator looks at a log when, at the rate it grew, it could be half full; a log that was
  // still empty at its first look is looked at again within 30 s (docs/services.md, Logs)
  await waitFor(() => existsSync(logPath(d, c, 'stdout.log.1')) || existsSync(created), { what: 'a rotation', timeoutMs: 35_000 });
  t.false(existsSync(created), 'root created a file in a root-only dir through the planted link');
  t.is(readFileSync(path.join(runtimeDir, 'logs', 'stdout.log'), 'utf8').length, 20000, "the service's own file was not truncated by root");
  t.regex(readFileSync(logPath(d, c, 'stdout.log.1'), 'utf8'), /^y+$/m, 'the real log was rotated');
  const logs = await d.api('GET', `/v1/services/${c}/logs`);
  t.is(logs.status, 200);
  t.notRegex(logs.text, /xxx/, "the API served the service's planted file");
});

test('the logs API serves the service output, never a file the service linked in its place', async (t) => {
  const victim = await rootOnly(t);
  const d = await daemonWithScripts(t, {
    'bin/readattack': `#!/bin/sh
cd "$NODEE_RUNTIME_DIR"
mv logs logs.away && mkdir logs
ln -s "${victim.file}" logs/stdout.log
ln -s "${victim.file}" logs/stderr.log
echo real-output
echo real-error >&2
echo planted > planted
exec sleep 1000
`,
  });
  const c = '1.read.nodee-svc1.sec';
  const res = await d.api('POST', '/v1/services', serviceSpec(c, { command: ['bin/readattack'], user: USER.name }));
  t.is(res.status, 201, JSON.stringify(res.body));
  await waitFor(() => existsSync(path.join(res.body.runtimeDir, 'planted')), { what: 'the links to be planted' });
  const out = await d.api('GET', `/v1/services/${c}/logs`);
  const err = await d.api('GET', `/v1/services/${c}/logs?stream=stderr`);
  t.notRegex(out.text + err.text, /secret-hash/, 'root-only content reached the API');
  t.regex(out.text, /real-output/);
  t.regex(err.text, /real-error/);
});

test('files[]: a link planted at the temp name is never written through; rendered files are the user\'s, 0640', async (t) => {
  const victim = await rootOnly(t);
  const written = path.join(victim.dir, 'rendered-by-root');
  const d = await daemonWithScripts(t, {
    'conf/app.tmpl': 'password=${DB_PASSWORD}\n',
    // the first run plants the link where 0.1.0 wrote its temp file, then exits
    'bin/plant': `#!/bin/sh
cd "$NODEE_RUNTIME_DIR"
[ -e done ] && exec sleep 1000
ln -sf "${written}" conf/app.properties.nodee-tmp
echo > done
`,
  });
  const c = '1.files.nodee-svc1.sec';
  const spec = serviceSpec(c, {
    command: ['bin/plant'],
    user: USER.name,
    env: { DB_PASSWORD: 'pw-5e3b9' },
    files: [{ from: 'conf/app.tmpl', to: 'conf/app.properties', template: true }],
  });
  const first = await d.api('POST', '/v1/services', spec);
  t.is(first.status, 201, JSON.stringify(first.body));
  const runtimeDir = first.body.runtimeDir;
  await waitFor(async () => (await d.api('GET', `/v1/services/${c}`)).body.state === 'exited', { what: 'the planting run to end' });
  t.is((await d.api('DELETE', `/v1/services/${c}`)).status, 204);
  // a new service on the kept runtime dir renders its files again
  const again = await d.api('POST', '/v1/services', spec);
  t.is(again.status, 201, JSON.stringify(again.body));
  t.false(existsSync(written), 'root wrote the rendered secrets through the planted link');
  const rendered = path.join(runtimeDir, 'conf', 'app.properties');
  t.is(readFileSync(rendered, 'utf8'), 'password=pw-5e3b9\n');
  const st = lstatSync(rendered);
  t.is(st.mode & 0o777, 0o640);
  t.is(st.uid, USER.uid, 'written by the service user, not by root');
});

test('modes: state/ 0700 with 0600 records, runtime dir 0750 of the user\'s group, logs root:group 0640', async (t) => {
  const d = await daemonWithScripts(t, { 'conf/a.tmpl': 'x=${X}\n' });
  const c = '1.modes.nodee-svc1.sec';
  const res = await d.api('POST', '/v1/services', serviceSpec(c, { user: USER.name, env: { X: 'y' }, files: [{ from: 'conf/a.tmpl', to: 'a.conf', template: true }] }));
  t.is(res.status, 201, JSON.stringify(res.body));
  const mode = (p) => statSync(p).mode & 0o777;
  t.is(mode(path.join(d.prefix, 'state')), 0o700);
  t.is(mode(path.join(d.prefix, 'state', 'services')), 0o700);
  for (const f of readdirSync(path.join(d.prefix, 'state', 'services'))) t.is(mode(path.join(d.prefix, 'state', 'services', f)), 0o600, f);
  t.is(mode(path.join(d.prefix, 'state', 'artifacts.json')), 0o600);
  const rt = statSync(res.body.runtimeDir);
  t.is(rt.mode & 0o777, 0o750);
  t.is(rt.uid, USER.uid);
  t.is(rt.gid, USER.gid);
  t.is(mode(path.join(res.body.runtimeDir, 'a.conf')), 0o640);
  const logDir = statSync(logPath(d, c, ''));
  t.deepEqual([logDir.mode & 0o777, logDir.uid, logDir.gid], [0o750, 0, USER.gid]);
  const logFile = statSync(logPath(d, c, 'stdout.log'));
  t.deepEqual([logFile.mode & 0o777, logFile.uid, logFile.gid], [0o640, 0, USER.gid]);
  // the link in the runtime dir still shows the logs to a reader (once the service wrote: a 201 is the spawn, not its first line)
  const viaLink = () => readFileSync(path.join(res.body.runtimeDir, 'logs', 'stdout.log'), 'utf8');
  await waitFor(() => viaLink().includes('started'), { what: 'the service to write its first line' });
  t.regex(viaLink(), /started 1\.modes/);
});

test('a state dir left 0755/0644 by nodee 0.1.0 is sealed to 0700/0600 at start', async (t) => {
  const { mkdir, writeFile, chmod } = await import('node:fs/promises');
  const { tempDir } = await import('../helpers/tmp.mjs');
  const { startDaemon } = await import('../helpers/daemon.mjs');
  const prefix = await tempDir(t, 'nodee-sec-');
  await mkdir(path.join(prefix, 'state', 'services'), { recursive: true, mode: 0o755 });
  await chmod(path.join(prefix, 'state'), 0o755);
  await writeFile(path.join(prefix, 'state', 'node-drain.json'), '{"version":1,"data":{"draining":false}}\n', { mode: 0o644 });
  await startDaemon(t, { prefix });
  t.is(statSync(path.join(prefix, 'state')).mode & 0o777, 0o700);
  t.is(statSync(path.join(prefix, 'state', 'services')).mode & 0o777, 0o700);
  t.is(statSync(path.join(prefix, 'state', 'node-drain.json')).mode & 0o777, 0o600);
});

test('user: the service runs with the supplementary groups of its user (initgroups)', async (t) => {
  const user = ensureUser('nodee-grp1', { groups: ['nodee-extra1'] });
  const d = await daemonWithScripts(t, { 'bin/groups': '#!/bin/sh\necho "groups: $(id -G)"\nexec sleep 1000\n' });
  const c = '1.groups.nodee-grp1.sec';
  const res = await d.api('POST', '/v1/services', serviceSpec(c, { command: ['bin/groups'], user: user.name }));
  t.is(res.status, 201, JSON.stringify(res.body));
  const line = await waitFor(async () => /groups: .+/.exec((await d.api('GET', `/v1/services/${c}/logs`)).text)?.[0], { what: 'the groups line' });
  const ids = line.slice('groups: '.length).trim().split(/\s+/).map(Number);
  t.true(ids.includes(user.gid), line);
  t.true(ids.includes(gidOf('nodee-extra1')), `the supplementary group is kept: ${line}`);
  t.false(ids.includes(0), 'no root group');
});

test('purge never follows a directory the service user swaps for a link while root deletes the tree', async (t) => {
  const victim = await rootOnly(t);
  // the root-only dir holds the same names as the service's tree: a path walk that follows
  // the swapped link deletes them there
  const { writeFileSync } = await import('node:fs');
  for (let j = 0; j < 3000; j++) writeFileSync(path.join(victim.dir, `f${j}`), 'root\n', { mode: 0o600 });
  const d = await daemonWithScripts(t, {
    'bin/tree': `#!/bin/sh
cd "$NODEE_RUNTIME_DIR"
mkdir -p data/d0 && cd data/d0
j=0; while [ $j -lt 3000 ]; do : > f$j; j=$((j+1)); done
echo ready > "$NODEE_RUNTIME_DIR/ready"
exec sleep 1000
`,
  });
  const c = '1.purge.nodee-svc1.sec';
  const res = await d.api('POST', '/v1/services', serviceSpec(c, { command: ['bin/tree'], user: USER.name }));
  t.is(res.status, 201, JSON.stringify(res.body));
  const runtimeDir = res.body.runtimeDir;
  await waitFor(() => existsSync(path.join(runtimeDir, 'ready')), { what: 'the tree' });
  t.is((await d.api('POST', `/v1/services/${c}/stop`)).status, 200);
  // another process of the same user swaps the directory for a link into the root-only dir, and back
  const racer = runAs(
    t,
    USER,
    `cd "${runtimeDir}/data" || exit 0
: > ../racing
while [ -e "$PWD" ]; do mv d0 x0 2>/dev/null && ln -s "${victim.dir}" d0 2>/dev/null; rm -f d0; mv x0 d0 2>/dev/null; done`,
  );
  await waitFor(() => existsSync(path.join(runtimeDir, 'racing')), { what: 'the racer' });
  // a purge that the races keep failing is a PURGE_FAILED; it may be repeated
  let status;
  for (let i = 0; i < 5 && status !== 204; i++) {
    const del = await d.api('DELETE', `/v1/services/${c}?purge=true`);
    status = del.status;
    if (status !== 204) t.is(del.body.error.code, 'PURGE_FAILED');
  }
  racer.kill('SIGKILL');
  if (status !== 204) t.is((await d.api('DELETE', `/v1/services/${c}?purge=true`)).status, 204);
  t.is(readdirSync(victim.dir).length, 3001, 'root deleted files through a planted link');
  t.is(readFileSync(victim.file, 'utf8'), victim.content);
  t.false(existsSync(runtimeDir));
});

test('env values are masked in the API unless ?reveal=env, and never reach ZooKeeper, the daemon log or /metrics', async (t) => {
  const { randomBytes } = await import('node:crypto');
  const { writeFile, chmod } = await import('node:fs/promises');
  const { tempDir } = await import('../helpers/tmp.mjs');
  const { startDaemon } = await import('../helpers/daemon.mjs');
  const { startZookeeper } = await import('../helpers/zookeeper.mjs');
  const { observer } = await import('../registry/_zk.mjs');
  const { scriptsZip } = await import('../services/e2e-helpers.mjs');
  const zk = await startZookeeper(t);
  const conf = await tempDir(t, 'nodee-conf-');
  const token = randomBytes(16).toString('hex');
  await writeFile(path.join(conf, 'token'), token, { mode: 0o600 });
  const prefix = await tempDir(t, 'nodee-sec-');
  await chmod(prefix, 0o755);
  const d = await startDaemon(t, {
    prefix,
    config: { api: { tokenFile: path.join(conf, 'token') }, zookeeper: { connect: zk.connect, sessionTimeoutMs: 4000, nodesPath: '/sec/nodes' } },
  });
  const auth = { token };
  const zip = await scriptsZip(t);
  t.is((await d.api('PUT', '/v1/artifacts/com.example/e2e/1.0.0', { url: `file://${zip}` }, auth)).status, 201);

  const secret = `S3cr3t-${randomBytes(8).toString('hex')}`;
  const c = '1.secret.a.b';
  const created = await d.api('POST', '/v1/services', serviceSpec(c, { env: { DB_PASSWORD: secret, URL: 'db://u:${DB_PASSWORD}@h' } }), auth);
  t.is(created.status, 201, JSON.stringify(created.body));
  t.deepEqual(created.body.spec.env, { DB_PASSWORD: '***', URL: '***' });
  const list = await d.api('GET', '/v1/services', undefined, auth);
  t.false(list.text.includes(secret));
  t.is(list.body.services[0].spec.env.DB_PASSWORD, '***');
  const revealed = await d.api('GET', '/v1/services?reveal=env', undefined, auth);
  t.is(revealed.body.services[0].spec.env.DB_PASSWORD, secret);
  t.is((await d.api('GET', `/v1/services/${c}?reveal=env`, undefined, auth)).body.spec.env.URL, 'db://u:${DB_PASSWORD}@h');
  t.is((await d.api('GET', `/v1/services/${c}?reveal=env`)).status, 401, 'revealing needs the token');
  t.is((await d.api('GET', `/v1/services/${c}?reveal=all`, undefined, auth)).status, 400);

  // the service itself gets the value, nobody else sees it
  const obs = await observer(t, zk.connect);
  const record = await waitFor(async () => {
    const r = await obs.read('/sec/nodes/test-node');
    return r?.json.services?.some((s) => s.coordinate === c && s.state === 'running') && r;
  }, { what: 'the node record with the service' });
  t.false(JSON.stringify(record.json).includes(secret), 'the secret reached ZooKeeper');
  const metrics = await d.api('GET', '/metrics');
  t.false(metrics.text.includes(secret), 'the secret reached /metrics');
  t.false(d.logs().includes(secret) || d.stderr().includes(secret), 'the secret reached the daemon log');
});
