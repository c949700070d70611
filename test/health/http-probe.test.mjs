import test from 'ava';
import net from 'node:net';
import { probe } from '../../dist/health/index.js';
import { check } from './_servers.mjs';

const target = (ports) => ({ ports, cwd: '/', env: { PATH: process.env.PATH } });

// The http check's own HTTP/1.1 reader against raw servers that answer exactly what each test
// writes: chunked and sized bodies, HTTP/1.0 read to the end, an interim 100, garbage, and one
// kept connection serving check after check.

/** A raw TCP server answering every request (each "\r\n\r\n") with `reply(n)`; counts connections and requests. */
async function raw(t, reply, { closeAfter = false } = {}) {
  const stats = { connections: 0, requests: 0, sockets: new Set() };
  const server = net.createServer((s) => {
    stats.connections++;
    stats.sockets.add(s);
    s.on('error', () => {});
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      while (buf.includes('\r\n\r\n')) {
        buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
        stats.requests++;
        s.write(reply(stats.requests));
        if (closeAfter) s.end();
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of stats.sockets) s.destroy();
    server.close();
  });
  return { port: server.address().port, stats };
}

const http = (port, o = {}) => probe(check({ http: { port: 'p', path: '/' }, timeoutMs: 1000, ...o }), target({ p: port }));

test('one kept connection serves check after check (sized bodies)', async (t) => {
  const s = await raw(t, () => 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
  for (let i = 0; i < 5; i++) t.deepEqual(await http(s.port), { ok: true, output: 'HTTP 200' });
  t.is(s.stats.requests, 5);
  t.is(s.stats.connections, 1);
});

test('chunked bodies (with extensions and a trailer) end where they end, and the connection is kept', async (t) => {
  const s = await raw(t, () => 'HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n');
  t.deepEqual(await http(s.port), { ok: false, output: 'HTTP 503' });
  t.deepEqual(await http(s.port), { ok: false, output: 'HTTP 503' });
  t.is(s.stats.connections, 1);
});

test('HTTP/1.0 without a length is read to the close; Connection: close is honoured', async (t) => {
  const a = await raw(t, () => 'HTTP/1.0 204 No Content\r\n\r\n');
  t.deepEqual(await http(a.port), { ok: true, output: 'HTTP 204' });
  const b = await raw(t, () => 'HTTP/1.0 200 OK\r\n\r\nbody until close', { closeAfter: true });
  t.deepEqual(await http(b.port), { ok: true, output: 'HTTP 200' });
  t.deepEqual(await http(b.port), { ok: true, output: 'HTTP 200' });
  t.is(b.stats.connections, 2, 'a connection read to its close is not reused');
  const c = await raw(t, () => 'HTTP/1.1 301 Moved\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  t.deepEqual(await http(c.port), { ok: true, output: 'HTTP 301' });
  await http(c.port);
  t.is(c.stats.connections, 2);
});

test('an interim 100 is skipped; the final status decides', async (t) => {
  const s = await raw(t, () => 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n');
  t.deepEqual(await http(s.port), { ok: false, output: 'HTTP 500' });
});

test('garbage is a failed check, never a crash: not HTTP, a bad length, a bad chunk, a head over 16 KiB', async (t) => {
  const cases = [
    ['SSH-2.0-OpenSSH\r\n\r\n', /not an HTTP/],
    ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /Content-Length/],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx', /Content-Length/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /chunk/],
    [`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(20000)}\r\n\r\n`, /16 KiB/],
    ['HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', /malformed/],
  ];
  for (const [reply, why] of cases) {
    const s = await raw(t, () => reply);
    const r = await http(s.port);
    t.false(r.ok, reply.slice(0, 40));
    t.regex(r.output, why);
  }
});

test('a kept connection the server closed while idle: the next check opens another and passes', async (t) => {
  const s = await raw(t, () => 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  t.true((await http(s.port)).ok);
  for (const sock of s.stats.sockets) sock.destroy();
  await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(await http(s.port), { ok: true, output: 'HTTP 200' });
  t.is(s.stats.connections, 2);
});

test('a body past 64 KiB: the status is the verdict and that connection is dropped', async (t) => {
  const big = 'x'.repeat(100 * 1024);
  const s = await raw(t, () => `HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n${big}`);
  t.deepEqual(await http(s.port), { ok: true, output: 'HTTP 200' });
  t.deepEqual(await http(s.port), { ok: true, output: 'HTTP 200' });
  t.is(s.stats.connections, 2);
});
