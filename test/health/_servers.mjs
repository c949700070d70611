import http from 'node:http';
import net from 'node:net';

/** A real HTTP server on a free loopback port, closed (connections included) after the test. */
export async function httpServer(t, handler) {
  const server = http.createServer(handler);
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(resolve));
  });
  return { server, port: server.address().port, sockets };
}

/** A real TCP listener; `close()` stops listening (and drops connections). */
export async function tcpServer(t) {
  const server = net.createServer((s) => s.on('error', () => {}).end());
  // a deep accept queue: 1,000 checks connect within 100 ms, and a full queue drops SYNs
  await new Promise((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
  const close = () => new Promise((resolve) => (server.listening ? server.close(resolve) : resolve()));
  t.teardown(close);
  return { server, port: server.address().port, close };
}

/** A check as the schema makes it. */
export function check(fields) {
  return { name: 'c', type: 'readiness', intervalMs: 1000, timeoutMs: 1000, failureThreshold: 3, graceMs: 0, ...fields };
}
