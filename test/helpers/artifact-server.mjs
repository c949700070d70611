import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

/**
 * A real HTTP repository on 127.0.0.1 serving files under `rootDir` (URL path = relative
 * file path), with faults on demand:
 *
 *   opts.throttle    bytes per second for bodies (sent in small slices)
 *   opts.fail503     answer 503 to this many requests first (counted across all paths,
 *                    or per path when opts.failPaths lists which paths fail)
 *   opts.truncate    send only this many body bytes, then cut the connection (the
 *                    Content-Length still announces the whole file)
 *   opts.hang        accept requests but never answer (for timeouts)
 *   opts.delayMs     wait before answering
 *   opts.noRange     ignore Range headers (answer 200 with the whole file)
 *   opts.onRequest   (record) => void, called first for each request: may change opts
 *   opts.map         (path, record) => path: serve another file for this request
 *   opts.tls         { cert, key } (PEM): serve https instead of http
 *
 * Range requests ("bytes=a-b", "bytes=a-", "bytes=-n") are answered 206 like a real server;
 * faults apply to them as to any request.
 * The returned `opts` object is live: change it between requests. `requests` records
 * { method, path, status, range } of each one (range: the Range header, if any). close() is safe twice and runs at teardown.
 */
export async function startArtifactServer(t, rootDir, opts = {}) {
  const requests = [];
  const sockets = new Set();
  const live = { ...opts };
  let failures = 0;
  const handler = async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const rel = decodeURIComponent(url.pathname);
    const record = { method: req.method, path: rel, status: 0, range: req.headers.range };
    requests.push(record);
    live.onRequest?.(record);
    const answer = (status, body = '') => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    };
    if (live.hang) return;
    if (live.delayMs) await new Promise((r) => setTimeout(r, live.delayMs));
    const failing = !live.failPaths || live.failPaths.some((p) => rel.endsWith(p));
    if (live.fail503 && failing && failures < live.fail503) {
      failures++;
      return answer(503, 'try later');
    }
    const file = path.join(rootDir, live.map ? live.map(rel, record) : rel);
    if (!file.startsWith(path.resolve(rootDir) + path.sep)) return answer(400);
    let st;
    try {
      st = await stat(file);
    } catch {
      return answer(404, 'not found');
    }
    if (!st.isFile()) return answer(404, 'not found');
    let from = 0;
    let to = st.size - 1;
    const range = !live.noRange && /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && (range[1] || range[2])) {
      if (range[1] === '') from = Math.max(0, st.size - Number(range[2]));
      else {
        from = Number(range[1]);
        if (range[2]) to = Math.min(to, Number(range[2]));
      }
      if (from > to) {
        record.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${st.size}` });
        return res.end();
      }
      record.status = 206;
      res.writeHead(206, { 'content-type': 'application/octet-stream', 'content-length': to - from + 1, 'content-range': `bytes ${from}-${to}/${st.size}` });
    } else {
      record.status = 200;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size });
    }
    if (req.method === 'HEAD') return res.end();
    const length = to - from + 1;
    const limit = live.truncate !== undefined ? Math.min(live.truncate, length) : length;
    if (!live.throttle && limit === length) return createReadStream(file, { start: from, end: to }).pipe(res);
    const perTick = live.throttle ? Math.max(1, Math.floor(live.throttle / 20)) : Infinity;
    const stream = createReadStream(file, { start: from, end: from + limit - 1, highWaterMark: Math.min(16 * 1024, perTick) });
    let sentThisTick = 0;
    const ticker = live.throttle ? setInterval(() => { sentThisTick = 0; stream.resume(); }, 50) : undefined;
    stream.on('data', (chunk) => {
      if (res.destroyed) return stream.destroy();
      res.write(chunk);
      sentThisTick += chunk.length;
      if (sentThisTick >= perTick) stream.pause();
    });
    const done = () => {
      if (ticker) clearInterval(ticker);
      if (limit < length) res.destroy();
      else res.end();
    };
    stream.on('end', done);
    stream.on('error', () => res.destroy());
    res.on('close', () => {
      if (ticker) clearInterval(ticker);
      stream.destroy();
    });
  };
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : http.createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  let closing;
  const close = () => {
    closing ??= new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
    return closing;
  };
  t.teardown(close);
  return { url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`, port, requests, opts: live, close };
}
