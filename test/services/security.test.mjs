import test from 'ava';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { chmod } from 'node:fs/promises';
import { readText, scriptsArtifact, spec, startSupervisor, tempDir, waitFor } from './helpers.mjs';

const PROBE = `#!/bin/sh
id -u
touch "$NODEE_SOFTWARE_DIR/written-by-service" 2>/dev/null && echo software-writable || echo software-readonly
touch "$NODEE_RUNTIME_DIR/mine" && echo runtime-writable
exec sleep 1000
`;

const isRoot = process.getuid() === 0;

async function probe(t, options, extra) {
  const { sup, prefix, artifacts } = await startSupervisor(t, options);
  await scriptsArtifact(prefix, artifacts, { 'bin/probe': PROBE });
  const s = await sup.create(spec('1.probe.b.c', { command: ['bin/probe'], ...extra }));
  const out = await waitFor(async () => {
    const text = await readText(path.join(s.runtimeDir, 'logs', 'stdout.log'));
    return text.includes('runtime-writable') && text;
  });
  return { s, prefix, out: out.trim().split('\n') };
}

test('a root service cannot write the software tree (read-only bind mount in a private mount namespace)', async (t) => {
  if (!isRoot) {
    // without root nodee cannot switch users or mount: mode bits alone protect software/
    const { out } = await probe(t, {}, {});
    t.is(out[1], 'software-readonly');
    return;
  }
  const { prefix, out } = await probe(t, {}, {});
  t.deepEqual(out, ['0', 'software-readonly', 'runtime-writable']);
  // the mount is the service's own: the host's mount table is unchanged
  t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes(`${prefix}/software`));
});

test('user: the service runs as that user and owns its runtime dir; non-root daemons refuse with 400', async (t) => {
  if (!isRoot) {
    const { sup, prefix, artifacts } = await startSupervisor(t);
    await scriptsArtifact(prefix, artifacts);
    const err = await t.throwsAsync(sup.create(spec('1.user.b.c', { user: 'nobody' })));
    t.is(err.code, 'BAD_REQUEST');
    t.regex(err.message, /root/);
    return;
  }
  // like /var/lib/nodee: others may traverse the prefix (mkdtemp makes it 0700)
  const prefix = await tempDir(t, 'nodee-svc-');
  await chmod(prefix, 0o755);
  const { s, out } = await probe(t, { prefix }, { user: 'nobody' });
  t.deepEqual(out, ['65534', 'software-readonly', 'runtime-writable']);
  t.is(statSync(s.runtimeDir).uid, 65534);
});

test('a service cannot make the daemon write through a link it planted in place of logs/', async (t) => {
  if (!isRoot) return t.pass('only meaningful when the daemon is root and the service is not');
  const prefix = await tempDir(t, 'nodee-svc-');
  await chmod(prefix, 0o755);
  const target = await tempDir(t, 'nodee-target-');
  await chmod(target, 0o777);
  const { sup, artifacts } = await startSupervisor(t, { prefix });
  const HIJACK = `#!/bin/sh\ncd "$NODEE_RUNTIME_DIR"\nmv logs logs.old && ln -s ${target} logs && echo planted > planted\nexec sleep 1000\n`;
  await scriptsArtifact(prefix, artifacts, { 'bin/hijack': HIJACK });
  const s = await sup.create(spec('1.hijack.b.c', { command: ['bin/hijack'], user: 'nobody' }));
  await waitFor(() => existsSync(path.join(s.runtimeDir, 'planted')), { what: 'the link to be planted' });
  const again = await sup.restart('1.hijack.b.c');
  t.is(again.state, 'running');
  // the logs are not in the runtime dir at all: the daemon never opens a path the service controls
  t.is(readlinkSync(path.join(s.runtimeDir, 'logs')), target, "the service's own link is left as it made it");
  t.deepEqual(readdirSync(target), [], 'nothing was written through the link');
  const logDir = path.join(prefix, 'logs', 'c', 'b', 'hijack', '1');
  t.is(lstatSync(logDir).uid, 0);
  t.regex(readFileSync(path.join(logDir, 'stdout.log'), 'utf8'), /^$/, 'the restarted service logs to the log dir');
});

test('the namespace holder is replaced if it dies; services started after still see software read-only', async (t) => {
  if (!isRoot) return t.pass('no namespace without root');
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts, { 'bin/probe': PROBE });
  const holders = () =>
    readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .filter((n) => {
        try {
          const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          return ppid === process.pid && readFileSync(`/proc/${n}/cmdline`, 'utf8') === 'sleep\0infinity\0';
        } catch {
          return false;
        }
      })
      .map(Number);
  const [holder] = holders();
  t.truthy(holder, 'a holder process keeps the namespace');
  process.kill(holder, 'SIGKILL');
  await waitFor(() => !holders().includes(holder));
  const s = await sup.create(spec('1.after.b.c', { command: ['bin/probe'] }));
  const out = await waitFor(async () => {
    const text = await readText(path.join(s.runtimeDir, 'logs', 'stdout.log'));
    return text.includes('runtime-writable') && text;
  });
  t.is(out, '0\nsoftware-readonly\nruntime-writable\n');
});

test('user: root gets the read-only software tree too', async (t) => {
  if (!isRoot) return t.pass('only root can name root');
  const { out } = await probe(t, {}, { user: 'root' });
  t.deepEqual(out, ['0', 'software-readonly', 'runtime-writable']);
});
