import test from 'ava';
import { readFileSync } from 'node:fs';
import { writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { probe, CAPTURE_MAX } from '../../dist/health/index.js';
import { freePort, tempDir, waitFor } from '../helpers/tmp.mjs';
import { livePidsWhere } from '../services/helpers.mjs';
import { ensureUser, isRoot } from '../security/_users.mjs';
import { check, httpServer, tcpServer } from './_servers.mjs';

const target = (ports = {}, more = {}) => ({ ports, cwd: '/', env: { PATH: process.env.PATH }, ...more });

test('http: 2xx and 3xx pass, 5xx fails with its status, a named port is looked up', async (t) => {
  const { port } = await httpServer(t, (req, res) => {
    const code = { '/ok': 200, '/moved': 302, '/down': 503 }[req.url] ?? 404;
    res.writeHead(code).end('body');
  });
  t.deepEqual(await probe(check({ http: { port: 'web', path: '/ok' } }), target({ web: port })), { ok: true, output: 'HTTP 200' });
  t.deepEqual(await probe(check({ http: { port, path: '/moved' } }), target()), { ok: true, output: 'HTTP 302' });
  t.deepEqual(await probe(check({ http: { port, path: '/down' } }), target()), { ok: false, output: 'HTTP 503' });
  t.deepEqual(await probe(check({ http: { port, path: '/nope' } }), target()), { ok: false, output: 'HTTP 404' });
  t.deepEqual(await probe(check({ http: { port: 'other', path: '/ok' } }), target({ web: port })), { ok: false, output: 'no port named "other"' });
});

test('http: a server that never answers times out, and its connection is closed', async (t) => {
  const { port, sockets } = await httpServer(t, () => {});
  const r = await probe(check({ http: { port, path: '/' }, timeoutMs: 300 }), target());
  t.deepEqual(r, { ok: false, output: 'timed out after 300 ms' });
  await waitFor(() => sockets.size === 0, { what: 'the hung connection closed by the prober', timeoutMs: 3000 });
});

test('http: an endless body is cut off, the verdict is the status, nothing stays open', async (t) => {
  let written = 0;
  const { port, sockets } = await httpServer(t, (req, res) => {
    res.writeHead(200);
    const chunk = Buffer.alloc(16 * 1024, 'x');
    const pump = () => {
      while (!res.destroyed && res.write(chunk)) written += chunk.length;
      if (!res.destroyed) res.once('drain', pump);
    };
    res.on('error', () => {});
    pump();
  });
  // a timeout far beyond the time to read the cap: the cut must come from the body cap, not from the clock
  const r = await probe(check({ http: { port, path: '/' }, timeoutMs: 10_000 }), target());
  t.deepEqual(r, { ok: true, output: 'HTTP 200' });
  await waitFor(() => sockets.size === 0, { what: 'the endless connection closed', timeoutMs: 3000 });
  t.true(written < 64 * CAPTURE_MAX, `server wrote ${written} bytes before the cut`);
});

test('http: a refused connection fails at once with the errno', async (t) => {
  const port = await freePort();
  t.deepEqual(await probe(check({ http: { port, path: '/' } }), target()), { ok: false, output: 'connect ECONNREFUSED' });
});

test('http: an abort ends the probe and closes the connection', async (t) => {
  const { port, sockets } = await httpServer(t, () => {});
  const ac = new AbortController();
  const p = probe(check({ http: { port, path: '/' }, timeoutMs: 60_000 }), target(), ac.signal);
  await waitFor(() => sockets.size === 1, { what: 'the connection' });
  ac.abort();
  t.deepEqual(await p, { ok: false, output: 'aborted' });
  await waitFor(() => sockets.size === 0, { what: 'the connection closed', timeoutMs: 3000 });
});

test('tcp: a listening port passes, a closed one fails with connect ECONNREFUSED', async (t) => {
  const srv = await tcpServer(t);
  const c = check({ tcp: { port: 'svc' } });
  t.true((await probe(c, target({ svc: srv.port }))).ok);
  await srv.close();
  t.deepEqual(await probe(c, target({ svc: srv.port })), { ok: false, output: 'connect ECONNREFUSED' });
});

test('exec: exit 0 passes, exit 1 fails with the last stderr line, cwd and env are the target\'s', async (t) => {
  const dir = await tempDir(t);
  const ok = await probe(check({ exec: ['sh', '-c', 'echo "$PWD $GREETING"'] }), target({}, { cwd: dir, env: { PATH: process.env.PATH, GREETING: 'hi' } }));
  t.deepEqual(ok, { ok: true, output: `exit 0: ${dir} hi` });
  const bad = await probe(check({ exec: ['sh', '-c', 'echo first >&2; echo "db down" >&2; exit 1'] }), target());
  t.deepEqual(bad, { ok: false, output: 'exit 1: db down' });
  t.deepEqual(await probe(check({ exec: ['false'] }), target()), { ok: false, output: 'exit 1' });
  const missing = await probe(check({ exec: ['/nonexistent/check'] }), target());
  t.false(missing.ok);
  t.regex(missing.output, /ENOENT/);
});

test('exec: resolveArgv decides what is spawned', async (t) => {
  const dir = await tempDir(t);
  const script = path.join(dir, 'check');
  await writeFile(script, '#!/bin/sh\necho resolved "$@"\n');
  await chmod(script, 0o755);
  const r = await probe(check({ exec: ['check', '--quick'] }), target({}, { resolveArgv: (argv) => [script, ...argv.slice(1)] }));
  t.deepEqual(r, { ok: true, output: 'exit 0: resolved --quick' });
});

test('exec: past the timeout the whole process group is killed, forked children included', async (t) => {
  const dir = await tempDir(t);
  const pids = path.join(dir, 'pids');
  const r = await probe(check({ exec: ['sh', '-c', `sleep 300 & echo $$ $! > ${pids}; wait`], timeoutMs: 500 }), target());
  t.deepEqual(r, { ok: false, output: 'timed out after 500 ms' });
  const [sh, child] = readFileSync(pids, 'utf8').trim().split(' ').map(Number);
  const inGroup = (pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2] === String(sh);
  };
  await waitFor(() => livePidsWhere(inGroup).length === 0, { what: `no live process in group ${sh}`, timeoutMs: 3000 });
  t.deepEqual(livePidsWhere((pid) => pid === sh || pid === child), []);
});

test('exec: a background child left by a passing check is killed too', async (t) => {
  const dir = await tempDir(t);
  const pids = path.join(dir, 'pids');
  const r = await probe(check({ exec: ['sh', '-c', `sleep 300 >/dev/null 2>&1 & echo $! > ${pids}`] }), target());
  t.true(r.ok);
  const child = Number(readFileSync(pids, 'utf8'));
  await waitFor(() => livePidsWhere((pid) => pid === child).length === 0, { what: 'the background sleep killed', timeoutMs: 3000 });
});

test('exec: a flood of output is drained and capped, the output stays short', async (t) => {
  // 20 MiB on each stream: a prober that stopped reading would block the check until the timeout
  const r = await probe(check({ exec: ['sh', '-c', 'head -c 20000000 /dev/zero | tr "\\0" x; head -c 20000000 /dev/zero | tr "\\0" y >&2; exit 3'], timeoutMs: 20_000 }), target());
  t.false(r.ok);
  t.true(r.output.startsWith('exit 3: yyy'), r.output.slice(0, 40));
  t.true(r.output.length <= 256);
});

test('exec: runs as the target\'s uid and gid', async (t) => {
  if (!isRoot) return t.pass('not root: cannot switch users');
  const u = ensureUser('nodee-svc1');
  const dir = await tempDir(t);
  await chmod(dir, 0o755);
  const r = await probe(check({ exec: ['sh', '-c', 'echo "$(id -u) $(id -g) $(id -G)"'] }), target({}, { cwd: dir, uid: u.uid, gid: u.gid }));
  // id -G: the primary group only, root's supplementary groups dropped
  t.deepEqual(r, { ok: true, output: `exit 0: ${u.uid} ${u.gid} ${u.gid}` });
  // a uid alone would leave the check in root's group: refused
  t.deepEqual(await probe(check({ exec: ['true'] }), target({}, { cwd: dir, uid: u.uid })), { ok: false, output: 'exec: uid and gid must be given together' });
});
