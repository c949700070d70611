import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { cli, startDaemon } from '../helpers/daemon.mjs';
import { tempDir } from '../helpers/tmp.mjs';

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`${signal} closes the API and exits 0`, async (t) => {
    const d = await startDaemon(t);
    t.is((await d.api('GET', '/healthz')).status, 200);
    t.is(await d.stop(signal), 0);
    await t.throwsAsync(() => d.api('GET', '/healthz'));
    t.false(existsSync(path.join(d.prefix, 'state', 'daemon.lock')), 'the prefix lock is released');
    t.true(d.logs().includes('"nodee stopped"'));
  });
}

test('a request in flight finishes during a graceful stop', async (t) => {
  const d = await startDaemon(t);
  const { port } = new URL(d.url);
  // a client that sends its request slowly: the stop must wait for it
  const answer = new Promise((resolve) => {
    const sock = net.connect(Number(port), '127.0.0.1');
    let out = '';
    sock.on('data', (c) => (out += c));
    sock.on('close', () => resolve(out));
    sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    setTimeout(() => sock.write('Connection: close\r\n\r\n'), 300);
  });
  await new Promise((r) => setTimeout(r, 100));
  const code = d.stop('SIGTERM');
  t.regex(await answer, /^HTTP\/1\.1 200[\s\S]*\{"ok":true\}/);
  t.is(await code, 0);
});

test('a second daemon on the same prefix is refused; a lock left by kill -9 is not', async (t) => {
  const first = await startDaemon(t);
  const second = await startDaemon(t, { prefix: first.prefix, expectFailure: true });
  t.not(second.code, 0);
  t.regex(second.stderr, /another nodee daemon \(pid \d+\) is running on this prefix/);

  await first.kill9();
  t.true(existsSync(path.join(first.prefix, 'state', 'daemon.lock')));
  const third = await startDaemon(t, { prefix: first.prefix });
  t.is((await third.api('GET', '/healthz')).status, 200);
});

test('a listen address already taken stops start-up with a clear message', async (t) => {
  const blocker = net.createServer();
  await new Promise((r) => blocker.listen(0, '127.0.0.1', r));
  t.teardown(() => blocker.close());
  const { port } = blocker.address();
  const r = await startDaemon(t, { config: { api: { listen: `127.0.0.1:${port}` } }, expectFailure: true });
  t.not(r.code, 0);
  t.true(r.stderr.includes(`api.listen: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`), r.stderr);
  t.false(existsSync(path.join(r.prefix, 'state', 'daemon.lock')), 'a failed start releases the prefix lock');
});

test('HTTPS when api.tls is set; the CLI trusts a CA given with --ca', async (t) => {
  const dir = await tempDir(t);
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const d = await startDaemon(t, { config: { api: { listen: '127.0.0.1:0', tls: { cert, key } } } });
  t.true(d.url.startsWith('https://'));
  // without the CA the certificate is not trusted: the CLI says so and exits non-zero
  const untrusted = await cli(['--url', d.url, 'status']);
  t.is(untrusted.code, 1);
  t.regex(untrusted.stderr, /cannot reach the nodee daemon/);
  const ok = await cli(['--url', d.url, '--ca', cert, '--json', 'status']);
  t.is(ok.code, 0, ok.stderr);
  t.is(JSON.parse(ok.stdout).console.url, d.url + '/');
});

test('a TLS key that cannot be read stops start-up naming the key', async (t) => {
  const r = await startDaemon(t, { config: { api: { listen: '127.0.0.1:0', tls: { cert: '/nonexistent/c.pem', key: '/nonexistent/k.pem' } } }, expectFailure: true });
  t.not(r.code, 0);
  t.regex(r.stderr, /api\.tls\.cert: cannot read \/nonexistent\/c\.pem/);
});

test('the log is JSON lines with time, level and message', async (t) => {
  const d = await startDaemon(t);
  await d.api('GET', '/v1/nothing');
  t.is(await d.stop(), 0);
  const lines = d.logs().split('\n').filter(Boolean);
  t.true(lines.length >= 3);
  for (const line of lines) {
    const e = JSON.parse(line);
    t.is(typeof e.msg, 'string');
    t.true(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(e.level), line);
    t.false(Number.isNaN(Date.parse(e.time)), line);
  }
  t.true(lines.some((l) => JSON.parse(l).msg === 'standalone: no zookeeper configured, this node is not registered'));
});

test('the API listens on IPv6 loopback when asked; the console URL brackets the address', async (t) => {
  const d = await startDaemon(t, { config: { api: { listen: '[::1]:0' } } });
  t.regex(d.url, /^http:\/\/\[::1\]:\d+$/);
  const { body } = await d.api('GET', '/v1/status');
  t.is(body.console.url, d.url + '/');
});
