import net from 'node:net';
import { gzipSync } from 'node:zlib';

/**
 * An artifact server that misbehaves on purpose, on raw TCP (node:net) so every byte and
 * every close is the test's choice. It serves one `body` (a ZIP) at any path, in the way
 * the path's first segment names:
 *
 *   /ok/...               200 with Content-Length; honours `Range: bytes=-n` (206)
 *   /no-range/...         200 with the whole body whatever Range asks, Connection: close, FIN
 *   /fin-mid-body/...     Content-Length of the whole body, half of it, then FIN
 *   /long-length/...      Content-Length 1000 bytes more than the body, the body, then FIN
 *   /short-length/...     Content-Length 1000 bytes less than the body, the whole body, then FIN
 *   /drip/...             headers, then one byte a second for as long as the client listens
 *   /redirect-loop/...    302 to itself, forever
 *   /flaky/...            500 to the first request for the path, then as /no-range
 *   /huge-headers/...     200 whose headers are 1 MB (one header line)
 *   /gzip/...             the body gzipped, with Content-Encoding: gzip (no Content-Length)
 *   /endless/...          200 without Content-Length, bytes until the client goes away
 *   /endless-declared/... as /endless, announcing Content-Length: 1 TB
 *   /status-403/...       403
 *
 * Paths ending in .sha256 or .sha1 (checksum sidecars) are 404 everywhere.
 * `requests` records { path, range } of each request. Closed at teardown.
 */
export async function startHostileServer(t, { body }) {
  const requests = [];
  const sockets = new Set();
  const flaky = new Set();

  const head = (status, headers) =>
    `HTTP/1.1 ${status} X\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

  /** Writes until the peer goes away, honouring backpressure. */
  const forever = (sock) => {
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    const more = () => {
      while (!sock.destroyed && sock.write(chunk));
    };
    sock.on('drain', more);
    more();
  };

  const answer = (sock, reqPath, range) => {
    const mode = reqPath.split('/')[1];
    if (/\.(sha256|sha1)$/.test(reqPath)) return sock.end(head(404, { 'content-length': 0, connection: 'close' }));
    switch (mode) {
      case 'ok': {
        const m = /^bytes=-(\d+)$/.exec(range ?? '');
        if (m) {
          const start = Math.max(0, body.length - Number(m[1]));
          const part = body.subarray(start);
          return sock.end(Buffer.concat([Buffer.from(head(206, { 'content-length': part.length, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, connection: 'close' })), part]));
        }
        return sock.end(Buffer.concat([Buffer.from(head(200, { 'content-length': body.length, connection: 'close' })), body]));
      }
      case 'flaky':
        if (!flaky.has(reqPath)) {
          flaky.add(reqPath);
          return sock.end(head(500, { 'content-length': 0, connection: 'close' }));
        }
      // falls through: the second answer is a good one
      case 'no-range':
        return sock.end(Buffer.concat([Buffer.from(head(200, { 'content-length': body.length, connection: 'close' })), body]));
      case 'fin-mid-body':
        sock.write(head(200, { 'content-length': body.length, connection: 'close' }));
        return sock.end(body.subarray(0, body.length >> 1));
      case 'long-length':
        sock.write(head(200, { 'content-length': body.length + 1000, connection: 'close' }));
        return sock.end(body);
      case 'short-length':
        sock.write(head(200, { 'content-length': body.length - 1000, connection: 'close' }));
        return sock.end(body);
      case 'drip': {
        sock.write(head(200, { 'content-length': body.length, connection: 'close' }));
        let at = 0;
        const timer = setInterval(() => (sock.destroyed || at >= body.length ? clearInterval(timer) : sock.write(body.subarray(at, ++at))), 1000);
        sock.on('close', () => clearInterval(timer));
        return;
      }
      case 'redirect-loop':
        return sock.end(head(302, { location: reqPath, 'content-length': 0, connection: 'close' }));
      case 'huge-headers':
        return sock.end(Buffer.concat([Buffer.from(head(200, { 'x-padding': 'a'.repeat(1024 * 1024), 'content-length': body.length, connection: 'close' })), body]));
      case 'gzip':
        return sock.end(Buffer.concat([Buffer.from(head(200, { 'content-encoding': 'gzip', connection: 'close' })), gzipSync(body)]));
      case 'endless':
        sock.write(head(200, { connection: 'close' }));
        return forever(sock);
      case 'endless-declared':
        sock.write(head(200, { 'content-length': 1024 ** 4, connection: 'close' }));
        return forever(sock);
      case 'status-403':
        return sock.end(head(403, { 'content-length': 0, connection: 'close' }));
      default:
        return sock.end(head(404, { 'content-length': 0, connection: 'close' }));
    }
  };

  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    // the client hangs up on most of these answers: that is the point, not an error
    sock.on('error', () => undefined);
    let buf = '';
    const onData = (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      const [line, ...lines] = buf.slice(0, end).split('\r\n');
      const reqPath = line.split(' ')[1] ?? '/';
      const range = lines.find((l) => /^range:/i.test(l))?.replace(/^range:\s*/i, '');
      requests.push({ path: reqPath, range });
      answer(sock, reqPath, range);
    };
    sock.on('data', onData);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closing;
  const close = () =>
    (closing ??= new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }));
  t.teardown(close);
  return { url: `http://127.0.0.1:${server.address().port}`, requests, close };
}
