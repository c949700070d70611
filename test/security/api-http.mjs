import http from 'node:http';
import net from 'node:net';

/**
 * One real HTTP request with the path and headers exactly as given (fetch would normalise
 * "/./v1" or "//v1" and refuses to set Host/Origin): `headers.host` defaults to the
 * daemon's own "127.0.0.1:<port>", `host: null` sends none. Resolves { status, headers,
 * text, body } (body: parsed JSON when the answer is JSON).
 */
export function rawRequest(base, { method = 'GET', path, headers = {}, body } = {}) {
  const { hostname, port } = new URL(base);
  const h = { host: `${hostname}:${port}`, ...headers };
  if (h.host === null) delete h.host;
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: hostname.replace(/^\[|\]$/g, ''), port: Number(port), method, path, headers: h, agent: false, setHost: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d) => (text += d));
        res.on('end', () => {
          const json = (res.headers['content-type'] ?? '').includes('json') && text;
          resolve({ status: res.statusCode, headers: res.headers, text, body: json ? JSON.parse(text) : text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Writes `request` (raw HTTP/1.x text) on one connection and resolves everything the daemon
 * sends back until it closes the connection.
 */
export function rawExchange(base, request) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), hostname.replace(/^\[|\]$/g, ''));
    let out = '';
    sock.setEncoding('utf8').on('data', (d) => (out += d));
    sock.on('close', () => resolve(out));
    sock.on('error', reject);
    sock.write(request);
  });
}

/** The API's JSON error, with its status and code. */
export function isError(t, res, status, code, what = '') {
  t.is(res.status, status, `${what} ${res.text}`);
  t.is(res.body?.error?.code, code, what);
}

/** nodee_http_requests_total by "METHOD status" from the daemon's own /metrics. */
export async function requestCounts(base) {
  const res = await rawRequest(base, { path: '/metrics' });
  const counts = {};
  for (const m of res.text.matchAll(/^nodee_http_requests_total\{method="(\w+)",status="(\d+)"\} (\d+)/gm)) {
    counts[`${m[1]} ${m[2]}`] = Number(m[3]);
  }
  return counts;
}
