// Shared pieces of the health tests that run real services under a real daemon: the
// service programs (bin/ of the scripts artifact) and small waits on the API.
import { chmod } from 'node:fs/promises';
import { startDaemon } from '../helpers/daemon.mjs';
import { portBlock } from '../helpers/ports.mjs';
import { tempDir, waitFor } from '../helpers/tmp.mjs';
import { ensureUser } from '../security/_users.mjs';
import { installScripts, E2E_ART } from '../services/e2e-helpers.mjs';

export { E2E_ART, waitFor };

/** The unprivileged user services of these tests run as. */
export const serviceUser = () => ensureUser('nodee-svc1');

/** Python is /usr/bin/python3 itself (a pyenv shim would fork first). */
export const PROGRAMS = {
  // an HTTP server on $NODEE_PORT_HTTP: /healthz is 503 for READY_AFTER_MS after it starts,
  // then 200; with HANG_AFTER_MS, every request after that time hangs (a wedged server that
  // still holds its port: only an HTTP check with a timeout can tell)
  'bin/web': `#!/usr/bin/python3
import http.server, os, sys, time
t0 = time.monotonic()
ready_after = int(os.environ.get("READY_AFTER_MS", "0")) / 1000
hang_after = int(os.environ.get("HANG_AFTER_MS", "-1")) / 1000
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        up = time.monotonic() - t0
        if hang_after >= 0 and up >= hang_after:
            time.sleep(3600)
        code = 200 if up >= ready_after else 503
        self.send_response(code); self.send_header("Content-Length", "0"); self.end_headers()
s = http.server.HTTPServer(("127.0.0.1", int(os.environ["NODEE_PORT_HTTP"])), H)
print("listening", flush=True)
s.serve_forever()
`,
  // sd_notify from Python's socket module, as a service written for systemd's Type=notify:
  // READY=1 after READY_AFTER_MS, then WATCHDOG=1 every WATCHDOG_EVERY_MS, WATCHDOG_PINGS times (-1: for ever)
  'bin/notifier': `#!/usr/bin/python3
import os, socket, time
def notify(msg):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.connect(os.environ["NOTIFY_SOCKET"])
    s.sendall(msg.encode())
    s.close()
print("watchdog usec", os.environ.get("WATCHDOG_USEC"), flush=True)
notify("STATUS=warming up")
time.sleep(int(os.environ.get("READY_AFTER_MS", "0")) / 1000)
notify("READY=1\\nSTATUS=serving")
every = int(os.environ.get("WATCHDOG_EVERY_MS", "0")) / 1000
pings = int(os.environ.get("WATCHDOG_PINGS", "-1"))
while every > 0 and pings != 0:
    time.sleep(every)
    notify("WATCHDOG=1")
    pings -= 1
print("stopped pinging", flush=True)
time.sleep(3600)
`,
  // systemd's own client: systemd-notify --ready --status=...
  'bin/sd-ready': `#!/bin/sh
sleep 0.3
systemd-notify --ready --status="ready by systemd-notify"
exec sleep 3600
`,
};

/** A daemon with the scripts artifact installed (as 1.0.0 and, when `v2` is given, 2.0.0). */
export async function healthDaemon(t, { v2, config } = {}) {
  // a prefix others may traverse: services of an unprivileged user run under it
  const prefix = await tempDir(t, 'nodee-health-');
  await chmod(prefix, 0o755);
  const d = await startDaemon(t, { prefix, config: { ports: portBlock(10000, 20000), ...config } });
  await installScripts(t, d, PROGRAMS);
  if (v2) await installScripts(t, d, { ...PROGRAMS, ...v2 }, '2.0.0');
  return d;
}

export function spec(coordinate, command, over = {}) {
  return { coordinate, artifact: E2E_ART, command: [command], ports: ['http'], restart: { policy: 'always', backoffMs: 50 }, stop: { timeoutSeconds: 2 }, ...over };
}

export async function create(d, s) {
  const res = await d.api('POST', '/v1/services', s);
  if (res.status !== 201) throw new Error(`create ${s.coordinate}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function get(d, coordinate) {
  const res = await d.api('GET', `/v1/services/${coordinate}`);
  if (res.status !== 200) throw new Error(`get ${coordinate}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Polls the service until `pred(service)` holds; resolves the service. */
export async function until(d, coordinate, pred, what, timeoutMs = 15_000) {
  let last;
  try {
    return await waitFor(async () => {
      last = await get(d, coordinate);
      return pred(last) ? last : false;
    }, { what: `${coordinate}: ${what}`, timeoutMs });
  } catch (err) {
    // what the service was doing instead, and what the daemon said of it
    const said = d.events().filter((e) => JSON.stringify(e).includes(coordinate)).slice(-8).map((e) => `${e.level} ${e.msg}`);
    err.message += `\nlast seen: ${JSON.stringify({ state: last?.state, ready: last?.ready, checks: last?.checks, lastExit: last?.lastExit, restarts: last?.restarts })}\nlog: ${said.join(' | ')}`;
    throw err;
  }
}
