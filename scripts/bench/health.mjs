#!/usr/bin/env node
// Health checks and readiness benchmark (docs/health.md, docs/notify.md):
//   (a) what checks cost the daemon: 1,000 `sleep` services, first without checks, then (a fresh
//       daemon, never both at once) each with an http readiness check every second against ONE
//       shared HTTP server (a child process of this script, answering 200), so the figure is
//       the daemon's checking (1,000 probes a second over loopback), not 1,000 servers. After all
//       are ready and a settle: daemon idle CPU (median of 3 × 10 s, % of a core) and RSS, the
//       difference, and the CPU per probe (extra CPU / probes per second counted by the server),
//       beside a bare Node process making the same probes at the same rate (the floor).
//   (b) how soon readiness shows: a `notify.ready` service (Python, socket module only) sends
//       READY=1 and records when; this script polls GET /v1/services/<c> every 1 ms and takes the
//       first response with `ready: true`; latency = seen − sent. Beside it, interleaved, the
//       polling alternative: a service whose http readiness check runs every 100 ms and which
//       starts listening at a recorded time. POST /restart between samples (it re-arms both).
// Runs against dist/ (npx tsc -p tsconfig.json first), only on 127.0.0.1, and kills everything
// it started, also on failure. As root, each daemon gets cgroups under a parent of its own,
// /nodee-bench-<hex>/<name>, removed at the end. Usage: node scripts/bench/health.mjs [--quick]
import { execFileSync, fork, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../../dist/daemon/node-flags.js';
import { benchParent, inCgroupUnder, removeCgroupParent } from './lib/cgroups.mjs';
import { cleanUpAtExit, daemonApi, killMarked } from './lib/run.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const QUICK = process.argv.includes('--quick');
const MANY = QUICK ? 100 : 1000;
const SAMPLES = QUICK ? 10 : 30;
/** Services per batch POST: 1,000 specs are ~250 KB, under the 1 MiB body limit, but a batch
 * of 100 keeps each answer short and the daemon's event loop free between them. */
const BATCH = 100;
// as in services.mjs: idle is measured after the burst's fsyncs and V8's one-off memory reducer
// (~40 s after the heap goes quiet), so the full run settles 60 s
const IDLE_SETTLE_MS = QUICK ? 3000 : 60_000;
const WINDOWS = QUICK ? 1 : 3;
const WINDOW_MS = 10_000;
const CHECK_INTERVAL_MS = 1000;
const POLL_CHECK_INTERVAL_MS = 100;
const ART = 'bench:health:1.0.0';
const work = mkdtempSync(path.join(os.tmpdir(), 'nodee-bench-health-'));
const cleanups = [];
const ROOT_USER = process.getuid() === 0;
const CG_PARENT = benchParent();
if (ROOT_USER) cleanups.push(() => removeCgroupParent(CG_PARENT));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** CLOCK_MONOTONIC in ns, the clock Python's time.monotonic_ns() reads. */
const mono = () => process.hrtime.bigint();
/** Wall clock in ms with sub-ms resolution (for the cross-check against time.time_ns()). */
const wall = () => performance.timeOrigin + performance.now();

cleanUpAtExit(cleanups, work);

// ---- the artifact: three services ------------------------------------------------------------

/** A cheap service: one `sleep` process. */
const SLEEP = '#!/bin/sh\nexec sleep 100000\n';

/** A moment of 200–300 ms (random, so the 100 ms probe schedule is met at every phase). */
const PY_MOMENT = 'time.sleep(0.2 + int.from_bytes(os.urandom(2), "big") / 65536 * 0.1)';

/**
 * notify.ready: after a moment, READY=1 to $NOTIFY_SOCKET; the clocks are read just before the
 * send, the file (`<pid> <monotonic ns> <wall ns>`) written after it, so the file costs nothing
 * in the figure.
 */
const READY = `#!/usr/bin/python3
import os, socket, time
${PY_MOMENT}
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(addr)
mono, wall = time.monotonic_ns(), time.time_ns()
s.send(b"READY=1")
with open(os.path.join(os.environ["NODEE_RUNTIME_DIR"], "sent.tmp"), "w") as f:
    f.write("%d %d %d\\n" % (os.getpid(), mono, wall))
os.rename(os.path.join(os.environ["NODEE_RUNTIME_DIR"], "sent.tmp"), os.path.join(os.environ["NODEE_RUNTIME_DIR"], "sent"))
time.sleep(100000)
`;

/**
 * The polling alternative: after a moment, listen on NODEE_PORT_HTTP (clocks read just before
 * listen(), from which a probe's connect succeeds) and answer every request 200.
 */
const LISTEN = `#!/usr/bin/python3
import os, socket, time
${PY_MOMENT}
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ["NODEE_PORT_HTTP"])))
mono, wall = time.monotonic_ns(), time.time_ns()
s.listen(64)
with open(os.path.join(os.environ["NODEE_RUNTIME_DIR"], "sent.tmp"), "w") as f:
    f.write("%d %d %d\\n" % (os.getpid(), mono, wall))
os.rename(os.path.join(os.environ["NODEE_RUNTIME_DIR"], "sent.tmp"), os.path.join(os.environ["NODEE_RUNTIME_DIR"], "sent"))
while True:
    c, _ = s.accept()
    try:
        c.settimeout(1)
        c.recv(4096)
        c.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n")
    except OSError:
        pass
    c.close()
`;

const artDir = path.join(work, 'art');
mkdirSync(path.join(artDir, 'bin'), { recursive: true });
for (const [name, text] of [['sleep', SLEEP], ['ready', READY], ['listen', LISTEN]]) {
  writeFileSync(path.join(artDir, 'bin', name), text);
  chmodSync(path.join(artDir, 'bin', name), 0o755);
}
const zip = path.join(work, 'health.zip');
execFileSync('zip', ['-qr', zip, '.'], { cwd: artDir });

// ---- the shared HTTP server of (a), in a process of its own -----------------------------------

const SERVER = `import http from 'node:http';
let count = 0;
const srv = http.createServer((req, res) => {
  count++;
  res.writeHead(200, { 'content-length': '0' });
  res.end();
});
srv.listen(0, '127.0.0.1', 4096, () => process.send({ port: srv.address().port }));
process.on('message', () => process.send({ count }));
process.on('disconnect', () => process.exit(0));
`;

/** The one server every check of (a) probes: {port, pid, count(), stop()}. */
async function startServer() {
  const file = path.join(work, 'server.mjs');
  writeFileSync(file, SERVER);
  const child = fork(file, [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  cleanups.push(() => child.kill('SIGKILL'));
  const port = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`the shared HTTP server exited (${code})`)));
  });
  const count = () =>
    new Promise((resolve) => {
      child.once('message', (m) => resolve(m.count));
      child.send('count');
    });
  return { port, pid: child.pid, count, stop: () => child.kill('SIGKILL') };
}

/**
 * The reference for the per-probe figure: a bare Node process (no nodee) making the same
 * probe as src/health/probes.ts (http.request, agent: false, Connection: close, body read to
 * its end) against the same server at `rate` a second, spread over 10 ms ticks. It prints the
 * CPU it used in each window (its own /proc/self/stat) and the probes it completed.
 */
const REFERENCE = `import http from 'node:http';
import { readFileSync } from 'node:fs';
const [port, rate, windows, windowMs, settleMs] = process.argv.slice(2).map(Number);
const ticks = () => {
  const s = readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
};
let done = 0;
const probe = () => {
  const req = http.request({ host: '127.0.0.1', port, path: '/', method: 'GET', agent: false, headers: { 'user-agent': 'nodee-health', connection: 'close' } });
  req.on('response', (res) => {
    res.on('data', () => {});
    res.on('end', () => done++);
  });
  req.on('error', () => {});
  req.end();
};
// owed by the clock, not by the tick: a late tick (a busy machine) makes up what it missed
let owed = 0;
let last = performance.now();
setInterval(() => {
  const t = performance.now();
  owed += ((t - last) * rate) / 1000;
  last = t;
  for (; owed >= 1; owed--) probe();
}, 10);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
await sleep(settleMs);
const out = [];
for (let w = 0; w < windows; w++) {
  const a = ticks();
  const d = done;
  await sleep(windowMs);
  out.push({ ticks: ticks() - a, probes: done - d });
}
console.log(JSON.stringify(out));
process.exit(0);
`;

/** Runs REFERENCE: {cpu (% core, median window), probesPerSecond, usPerProbe}. */
async function referenceProbes(server, rate) {
  const file = path.join(work, 'reference.mjs');
  writeFileSync(file, REFERENCE);
  const child = spawn(process.execPath, [file, server.port, rate, WINDOWS, WINDOW_MS, 3000], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  const code = await new Promise((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`the reference prober exited ${code}`);
  const windows = JSON.parse(out);
  const cpus = windows.map((w) => (w.ticks / HZ / (WINDOW_MS / 1000)) * 100);
  const probes = windows.reduce((a, w) => a + w.probes, 0);
  const ticks = windows.reduce((a, w) => a + w.ticks, 0);
  return { cpu: pct(cpus, 50), probesPerSecond: probes / ((WINDOWS * WINDOW_MS) / 1000), usPerProbe: ((ticks / HZ) * 1e6) / probes };
}

// ---- measuring ---------------------------------------------------------------------------------

async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

/** utime + stime of pid (all its threads), in clock ticks. */
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

const HZ = 100;

// ---- nodee ---------------------------------------------------------------------------------------


/** A nodee daemon on a prefix of its own (and, as root, a cgroup parent of its own). */
async function startNodee(name) {
  const prefix = path.join(work, `nodee-${name}`);
  const config = path.join(work, `nodee-${name}.yaml`);
  const parent = ROOT_USER ? `${CG_PARENT}/${name}` : undefined;
  const cgroup = parent === undefined ? {} : { cgroup: { parent } };
  writeFileSync(config, JSON.stringify({ prefix, instance: 'bench', api: { listen: '127.0.0.1:0' }, ports: { from: 30000, to: 39999 }, ...cgroup }));
  const proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, 'daemon', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = () => {
    proc.kill('SIGKILL');
    killMarked(prefix);
    if (parent !== undefined) removeCgroupParent(parent);
  };
  cleanups.push(stop);
  const { url, api } = await daemonApi(proc);
  await api('PUT', `/v1/artifacts/${ART.split(':').join('/')}`, { url: `file://${zip}` });
  const { containment } = await api('GET', '/v1/status');
  if (ROOT_USER && containment === 'none') throw new Error(`nodee ${name}: containment none, wanted cgroups`);
  return { proc, prefix, api, url, containment, cgroupParent: parent, stop };
}

function checkContained(n, pid) {
  if (n.cgroupParent !== undefined && !inCgroupUnder(pid, n.cgroupParent)) throw new Error(`pid ${pid} is not in a cgroup under ${n.cgroupParent}`);
}

const sleepSpec = (i, checks) => ({
  coordinate: `${i}.bench.health.local`,
  artifact: ART,
  command: ['bin/sleep'],
  ...(checks ? { checks } : {}),
});

/**
 * (a) for one daemon: MANY sleep services (with `checks` or without), all ready, a settle, then
 * idle CPU windows and RSS. With a server, its request count over the windows gives the probes
 * per second actually made.
 */
async function manyServices(name, checks, server) {
  const n = await startNodee(name);
  const t0 = performance.now();
  for (let i = 0; i < MANY; i += BATCH) {
    const specs = Array.from({ length: Math.min(BATCH, MANY - i) }, (_, k) => sleepSpec(i + k + 1, checks));
    const answer = await n.api('POST', '/v1/services', { services: specs });
    if (answer.services?.length !== specs.length) throw new Error(`${name}: a batch created ${answer.services?.length} of ${specs.length}`);
  }
  const createdMs = performance.now() - t0;
  const readyCount = async () => (await n.api('GET', '/v1/services')).services.filter((s) => s.ready).length;
  await waitFor(async () => (await readyCount()) === MANY || (await sleep(500), false), 300_000, `${name}: all ${MANY} ready`);
  const readyMs = performance.now() - t0;
  const { services } = await n.api('GET', '/v1/services');
  for (const s of services.slice(0, 5)) checkContained(n, s.pid);
  if (checks && services.some((s) => s.checks?.length !== checks.length)) throw new Error(`${name}: a service without its checks`);
  await sleep(IDLE_SETTLE_MS);
  const windows = [];
  let probes = 0;
  let serverTicks = 0;
  for (let w = 0; w < WINDOWS; w++) {
    const a = cpuTicks(n.proc.pid);
    const sa = server ? cpuTicks(server.pid) : 0;
    const ca = server ? await server.count() : 0;
    await sleep(WINDOW_MS);
    windows.push(((cpuTicks(n.proc.pid) - a) / HZ / (WINDOW_MS / 1000)) * 100);
    if (server) {
      probes += (await server.count()) - ca;
      serverTicks += cpuTicks(server.pid) - sa;
    }
  }
  const rss = rssMiB(n.proc.pid);
  const readyAfter = await readyCount(); // a probe that failed (a full backlog, a timeout) would show here
  n.stop();
  const seconds = (WINDOWS * WINDOW_MS) / 1000;
  return {
    createdMs,
    readyMs,
    windows,
    cpu: pct(windows, 50),
    rss,
    readyAfter,
    probesPerSecond: server ? probes / seconds : 0,
    serverCpu: server ? (serverTicks / HZ / seconds) * 100 : 0,
    containment: n.containment,
  };
}

// ---- (b) time from READY=1 (or listening) to `ready: true` in the API ----------------------------

function readSent(file) {
  try {
    const [pid, mono, wall] = readFileSync(file, 'utf8').trim().split(' ');
    return { pid: Number(pid), mono: BigInt(mono), wall: Number(wall) / 1e6 };
  } catch {
    return undefined;
  }
}

/**
 * One sample: restart the service (its record goes back to not ready), poll its GET every 1 ms
 * until `ready: true`, then read when the service said it was ready. ms, monotonic and wall.
 */
async function readySample(n, coordinate) {
  const before = await n.api('GET', `/v1/services/${coordinate}`);
  const file = path.join(before.runtimeDir, 'sent');
  rmSync(file, { force: true });
  const restarted = await n.api('POST', `/v1/services/${coordinate}/restart`);
  if (restarted.ready) throw new Error(`${coordinate}: ready straight after a restart`);
  const rtts = [];
  const deadline = Date.now() + 10_000;
  let seen;
  for (;;) {
    const t0 = mono();
    const s = await n.api('GET', `/v1/services/${coordinate}`);
    const t1 = mono();
    rtts.push(Number(t1 - t0) / 1e6);
    if (s.ready) {
      seen = { mono: t1, wall: wall(), pid: s.pid };
      break;
    }
    if (Date.now() > deadline) throw new Error(`${coordinate}: not ready 10 s after a restart`);
    await sleep(1);
  }
  const sent = await waitFor(() => readSent(file), 5000, `${coordinate}: the time it became ready`);
  if (sent.pid !== seen.pid) throw new Error(`${coordinate}: the time was written by pid ${sent.pid}, the service is ${seen.pid}`);
  return { ms: Number(seen.mono - sent.mono) / 1e6, wallMs: seen.wall - sent.wall, rtts };
}

async function benchReady() {
  const n = await startNodee('ready');
  const notify = '1.ready.health.local';
  const polled = '1.polled.health.local';
  await n.api('POST', '/v1/services', {
    services: [
      { coordinate: notify, artifact: ART, command: ['bin/ready'], notify: { ready: true } },
      {
        coordinate: polled,
        artifact: ART,
        command: ['bin/listen'],
        ports: ['http'],
        checks: [{ name: 'web', type: 'readiness', http: { port: 'http', path: '/' }, intervalMs: POLL_CHECK_INTERVAL_MS }],
      },
    ],
  });
  for (const c of [notify, polled]) {
    const s = await waitFor(async () => {
      const s = await n.api('GET', `/v1/services/${c}`);
      return s.ready && s;
    }, 20_000, `${c} to be ready the first time`);
    checkContained(n, s.pid);
  }
  const out = { notify: [], polled: [] };
  for (let i = 0; i < SAMPLES; i++) {
    // interleaved, the order alternating, so load on a shared machine falls on both alike
    const order = i % 2 ? [['polled', polled], ['notify', notify]] : [['notify', notify], ['polled', polled]];
    for (const [key, c] of order) {
      out[key].push(await readySample(n, c));
      await sleep(50);
    }
  }
  n.stop();
  return { ...out, containment: n.containment };
}

// ---- the run ---------------------------------------------------------------------------------------

const started = Date.now();
const load = [os.loadavg()[0]];
const checks = (port) => [{ name: 'web', type: 'readiness', http: { port, path: '/' }, intervalMs: CHECK_INTERVAL_MS }];

const server = await startServer();
const without = await manyServices('plain', undefined, undefined);
const withChecks = await manyServices('checked', checks(server.port), server);
const reference = await referenceProbes(server, MANY);
server.stop();
load.push(os.loadavg()[0]);
const ready = await benchReady();
load.push(os.loadavg()[0]);

const fmt = (v, unit, digits) => `${v.toFixed(digits ?? (Math.abs(v) < 10 ? 2 : 1))} ${unit}`;
const signed = (v, unit, digits) => `${v >= 0 ? '+' : '−'}${fmt(Math.abs(v), unit, digits)}`;
function table(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

const windowsLabel = WINDOWS > 1 ? `median of ${WINDOWS} × ${WINDOW_MS / 1000} s` : `one ${WINDOW_MS / 1000} s window`;
const extraCpu = withChecks.cpu - without.cpu; // % of a core
const usPerProbe = withChecks.probesPerSecond > 0 ? ((extraCpu / 100) * 1e6) / withChecks.probesPerSecond : NaN;
console.log(`(a) ${MANY} sleep services, without checks | each with an http readiness check every ${CHECK_INTERVAL_MS} ms (one shared server)\n`);
table(
  ['', 'without checks', 'with checks', 'difference'],
  [
    [`created (batch POSTs of ${BATCH})`, fmt(without.createdMs / 1000, 's'), fmt(withChecks.createdMs / 1000, 's'), signed((withChecks.createdMs - without.createdMs) / 1000, 's')],
    [`all ${MANY} ready (GET /v1/services)`, fmt(without.readyMs / 1000, 's'), fmt(withChecks.readyMs / 1000, 's'), signed((withChecks.readyMs - without.readyMs) / 1000, 's')],
    [`daemon idle CPU (${windowsLabel}, after ${IDLE_SETTLE_MS / 1000} s)`, fmt(without.cpu, '% core'), fmt(withChecks.cpu, '% core'), signed(extraCpu, '% core')],
    ['daemon RSS', fmt(without.rss, 'MiB', 0), fmt(withChecks.rss, 'MiB', 0), signed(withChecks.rss - without.rss, 'MiB', 0)],
    ['probes per second (counted by the server)', '-', fmt(withChecks.probesPerSecond, '/s', 0), ''],
    ['daemon CPU per probe (extra CPU / probes per s)', '-', Number.isFinite(usPerProbe) ? fmt(usPerProbe, 'µs', 0) : '-', ''],
    [`reference: a bare Node process probing ${reference.probesPerSecond.toFixed(0)}/s`, '-', `${fmt(reference.cpu, '% core')}, ${fmt(reference.usPerProbe, 'µs', 0)}/probe`, ''],
    ['ready at the end', `${without.readyAfter} of ${MANY}`, `${withChecks.readyAfter} of ${MANY}`, ''],
  ],
);
const ws = (x) => x.windows.map((w) => w.toFixed(2)).join(' / ');
console.log(`daemon CPU windows: without ${ws(without)} %, with ${ws(withChecks)} %; the shared server (not in the daemon's figure) used ${withChecks.serverCpu.toFixed(1)} % of a core`);

const stat = (xs) => ({ med: pct(xs, 50), p90: pct(xs, 90), min: Math.min(...xs), max: Math.max(...xs) });
const n = stat(ready.notify.map((s) => s.ms));
const p = stat(ready.polled.map((s) => s.ms));
const rtt = pct([...ready.notify, ...ready.polled].flatMap((s) => s.rtts), 50);
const ms = (v) => fmt(v, 'ms');
console.log(`\n(b) time until GET /v1/services/<c> shows ready: true, ${SAMPLES} samples each, interleaved (POST /restart between)\n`);
table(
  ['', 'median', 'p90', 'min', 'max'],
  [
    ['READY=1 sent → ready: true (notify.ready)', ms(n.med), ms(n.p90), ms(n.min), ms(n.max)],
    [`listening → ready: true (http check every ${POLL_CHECK_INTERVAL_MS} ms)`, ms(p.med), ms(p.p90), ms(p.min), ms(p.max)],
    ['READY=1 vs polling (median)', `${(p.med / n.med).toFixed(0)}× sooner`, '', '', ''],
  ],
);
const wallMed = (xs) => pct(xs.map((s) => s.wallMs), 50).toFixed(2);
console.log(
  `poll: one GET every 1 ms, its round trip ${rtt.toFixed(2)} ms (median; "seen" is when the first ready answer arrived); ` +
    `times on CLOCK_MONOTONIC (time.monotonic_ns / hrtime), on the wall clock (time.time_ns) the medians are ${wallMed(ready.notify)} / ${wallMed(ready.polled)} ms`,
);
console.log(
  `\n(${os.cpus().length} cpus, ${ROOT_USER ? `root, containment ${ready.containment}` : 'not root, no cgroups'}, load average ${load.map((l) => l.toFixed(1)).join(' → ')}, ${((Date.now() - started) / 1000).toFixed(0)} s${QUICK ? ', --quick' : ''})`,
);
process.exit(0);
