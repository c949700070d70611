import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
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
 *
 * The returned `opts` object is live: change it between requests. `requests` records
 * { method, path, status } of each one. close() is safe twice and runs at teardown.
 */
export async function startArtifactServer(t, rootDir, opts = {}) {
  const requests = [];
  const sockets = new Set();
  const live = { ...opts };
  let failures = 0;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    const rel = decodeURIComponent(url.pathname);
    const record = { method: req.method, path: rel, status: 0 };
    requests.push(record);
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
    const file = path.join(rootDir, rel);
    if (!file.startsWith(path.resolve(rootDir) + path.sep)) return answer(400);
    let st;
    try {
      st = await stat(file);
    } catch {
      return answer(404, 'not found');
    }
    if (!st.isFile()) return answer(404, 'not found');
    record.status = 200;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size });
    if (req.method === 'HEAD') return res.end();
    const limit = live.truncate !== undefined ? Math.min(live.truncate, st.size) : st.size;
    if (!live.throttle && limit === st.size) return createReadStream(file).pipe(res);
    const perTick = live.throttle ? Math.max(1, Math.floor(live.throttle / 20)) : Infinity;
    const stream = createReadStream(file, { start: 0, end: limit - 1, highWaterMark: Math.min(16 * 1024, perTick) });
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
      if (limit < st.size || limit === 0 && st.size > 0) res.destroy();
      else res.end();
    };
    stream.on('end', done);
    stream.on('error', () => res.destroy());
    res.on('close', () => {
      if (ticker) clearInterval(ticker);
      stream.destroy();
    });
  });
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
  return { url: `http://127.0.0.1:${port}`, port, requests, opts: live, close };
}
