#!/usr/bin/env node
// Service supervisor benchmark: nodee vs supervisord 4 (and PM2 6 when `npm i pm2` works
// within a minute; --no-pm2 skips it), side by side in one run.
//   (a) restart latency after kill -9, zero backoff (supervisord: autorestart, startsecs=0)
//   (b) 200 services from nothing to all running (nodee: POST /v1/services; supervisord: start all)
//   (c) 1,000 `sleep` services: supervisor RSS, idle CPU, GET /v1/services (nodee) latency
// Each service is a bash script that appends "$$ $EPOCHREALTIME" (no fork) to a stamp file and
// execs sleep, so a restart is timed from the kill to the new process's first instruction,
// the same way for both. Runs against dist/ (npm run build first), only on 127.0.0.1, and
// kills everything it started. Usage: node scripts/bench/services.mjs [--quick]
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../../dist/daemon/node-flags.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const QUICK = process.argv.includes('--quick');
const WITH_PM2 = !process.argv.includes('--no-pm2');
const RESTARTS = QUICK ? 5 : 15;
const MANY = QUICK ? 100 : 1000;
const START_N = QUICK ? 50 : 200;
// idle is what follows a burst, not its tail: the records of 1,000 new services are still being
// fsynced several seconds after the last start on a VM disk (nodee), likewise supervisord's logs
const IDLE_SETTLE_MS = QUICK ? 3000 : 20_000;
const ART = 'bench:svc:1.0.0';
const work = mkdtempSync(path.join(os.tmpdir(), 'nodee-bench-svc-'));
const cleanups = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

process.on('exit', () => {
  for (const c of cleanups.reverse()) {
    try {
      c();
    } catch {}
  }
  try {
    execFileSync('chmod', ['-R', 'u+w', work], { stdio: 'ignore' });
  } catch {}
  rmSync(work, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

// ---- the service script and its artifact ---------------------------------------------------

const STAMP = '#!/bin/bash\necho "$$ $EPOCHREALTIME" >> "$STAMPS"\nexec sleep 100000\n';
const scriptDir = path.join(work, 'art');
mkdirSync(path.join(scriptDir, 'bin'), { recursive: true });
writeFileSync(path.join(scriptDir, 'bin', 'stamp'), STAMP);
chmodSync(path.join(scriptDir, 'bin', 'stamp'), 0o755);
const zip = path.join(work, 'svc.zip');
execFileSync('zip', ['-qr', zip, '.'], { cwd: scriptDir });

function stamps(file) {
  try {
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [pid, t] = l.split(' ');
        return { pid: Number(pid), at: Number(t) * 1000 };
      });
  } catch {
    return [];
  }
}

async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

/** kill -9 the newest stamped pid, wait for the next stamp: ms from kill to the new process. */
async function restartLatencies(file, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const before = stamps(file);
    const victim = before.at(-1);
    const killedAt = now();
    process.kill(victim.pid, 'SIGKILL');
    const next = await waitFor(() => stamps(file).length > before.length && stamps(file).at(-1), 10_000, 'a restart');
    out.push(next.at - killedAt);
    await sleep(50);
  }
  return out;
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/**
 * Percent of one core used by pid: the median of three windows of `ms`, so a one-off event
 * (V8's memory reducer runs a full GC a while after a burst) does not decide the figure.
 */
async function idleCpu(pid, ms) {
  const hz = 100;
  const windows = [];
  for (let i = 0; i < (QUICK ? 1 : 3); i++) {
    const a = cpuTicks(pid);
    await sleep(ms);
    windows.push(((cpuTicks(pid) - a) / hz / (ms / 1000)) * 100);
  }
  return pct(windows, 50);
}

// ---- nodee -------------------------------------------------------------------------------------

function killMarked(prefix) {
  const marker = `NODEE_RUNTIME_DIR=${path.join(prefix, 'runtime')}`;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').some((kv) => kv.startsWith(marker))) process.kill(Number(name), 'SIGKILL');
    } catch {}
  }
}

async function startNodee(name) {
  const prefix = path.join(work, `nodee-${name}`);
  const config = path.join(work, `nodee-${name}.yaml`);
  writeFileSync(config, JSON.stringify({ prefix, instance: 'bench', api: { listen: '127.0.0.1:0' }, ports: { from: 30000, to: 39999 } }));
  const proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, 'daemon', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => {
    proc.kill('SIGKILL');
    killMarked(prefix);
  });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => {
    if (out !== null) out += d;
  });
  const url = await waitFor(() => {
    const m = /"url":"(http:[^"]+)\/","msg":"nodee started"/.exec(out ?? '');
    return m?.[1];
  }, 20_000, 'the nodee daemon');
  out = null; // keep draining the log, stop keeping it
  const api = async (method, p, body) => {
    const res = await fetch(url + p, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  await api('PUT', `/v1/artifacts/${ART.split(':').join('/')}`, { url: `file://${zip}` });
  return { proc, prefix, api, url };
}

async function inBatches(items, width, fn) {
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

const nodeeSpec = (i, stampFile, extra = {}) => ({
  coordinate: `${i}.bench.svc.local`,
  artifact: ART,
  command: ['bin/stamp'],
  env: { STAMPS: stampFile },
  restart: { backoffMs: 0, limit: { restarts: 1000, windowSeconds: 60 } },
  ...extra,
});

// ---- supervisord -------------------------------------------------------------------------------

async function startSupervisord(name, programs) {
  const dir = path.join(work, `supervisord-${name}`);
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const sock = path.join(dir, 'supervisor.sock');
  const conf = path.join(dir, 'supervisord.conf');
  const lines = [
    '[unix_http_server]',
    `file=${sock}`,
    '[supervisord]',
    `logfile=${dir}/supervisord.log`,
    `pidfile=${dir}/supervisord.pid`,
    `childlogdir=${dir}/logs`,
    'minfds=16384',
    'loglevel=warn',
    '[rpcinterface:supervisor]',
    'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
    '[supervisorctl]',
    `serverurl=unix://${sock}`,
  ];
  for (const p of programs) {
    lines.push(
      `[program:${p.name}]`,
      `command=${path.join(scriptDir, 'bin', 'stamp')}`,
      `environment=STAMPS="${p.stamps}"`,
      `autostart=${p.autostart ? 'true' : 'false'}`,
      'autorestart=true',
      'startsecs=0',
      'startretries=1000',
      `stdout_logfile=${dir}/logs/${p.name}.out`,
      `stderr_logfile=${dir}/logs/${p.name}.err`,
    );
  }
  writeFileSync(conf, lines.join('\n') + '\n');
  const proc = spawn('supervisord', ['-n', '-c', conf], { stdio: 'ignore' });
  const ctl = (...args) => execFileSync('supervisorctl', ['-c', conf, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  cleanups.push(() => {
    try {
      ctl('shutdown');
    } catch {}
    proc.kill('SIGKILL');
    for (const p of programs) {
      for (const s of stamps(p.stamps)) {
        try {
          process.kill(s.pid, 'SIGKILL');
        } catch {}
      }
    }
  });
  await waitFor(() => {
    try {
      ctl('pid');
      return true;
    } catch {
      return false;
    }
  }, 30_000, 'supervisord');
  return { proc, ctl };
}

// ---- PM2 (optional) -----------------------------------------------------------------------------

/** PM2 installed into a temp dir, or undefined when the registry is out of reach. */
function installPm2() {
  if (!WITH_PM2) return undefined;
  const dir = path.join(work, 'pm2-install');
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('npm', ['i', '--prefix', dir, '--no-audit', '--no-fund', '--silent', 'pm2@6'], { stdio: 'ignore', timeout: 60_000 });
    return path.join(dir, 'node_modules', '.bin', 'pm2');
  } catch {
    console.log('(PM2 not measured: npm i pm2 failed or took over a minute)');
    return undefined;
  }
}

async function startPm2(bin, name, apps) {
  const home = path.join(work, `pm2-${name}`);
  mkdirSync(home, { recursive: true });
  const env = { ...process.env, PM2_HOME: home };
  const pm2 = (...args) => execFileSync(bin, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  const eco = path.join(home, 'ecosystem.json');
  writeFileSync(
    eco,
    JSON.stringify({
      apps: apps.map((a) => ({
        name: a.name,
        script: path.join(scriptDir, 'bin', 'stamp'),
        interpreter: 'none',
        env: { STAMPS: a.stamps },
        autorestart: true,
        restart_delay: 0,
        min_uptime: 0,
        max_restarts: 1000,
        out_file: path.join(home, `${a.name}.out`),
        error_file: path.join(home, `${a.name}.err`),
      })),
    }),
  );
  cleanups.push(() => {
    try {
      pm2('kill');
    } catch {}
    for (const a of apps) for (const st of stamps(a.stamps)) {
      try {
        process.kill(st.pid, 'SIGKILL');
      } catch {}
    }
  });
  pm2('ping'); // starts the PM2 daemon, so its start-up is not counted below
  const online = () => JSON.parse(pm2('jlist')).filter((p) => p.pm2_env?.status === 'online').length;
  return { pm2, eco, online, home };
}

// ---- the runs --------------------------------------------------------------------------------------

const rows = [];
/** Ratios say how many times better nodee is (lower is better for every figure here). */
const ratio = (nodee, other) => (typeof nodee === 'number' && typeof other === 'number' && nodee > 0 ? `${(other / nodee).toFixed(1)}x` : '-');
const row = (what, nodee, sup, pm2, unit) => {
  rows.push([what, fmt(nodee, unit), fmt(sup, unit), ratio(nodee, sup), fmt(pm2, unit), ratio(nodee, pm2)]);
};
const fmt = (v, unit) => (typeof v === 'number' ? `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ${unit}` : String(v ?? '-'));

async function benchRestart() {
  const n = await startNodee('restart');
  const ns = path.join(work, 'nodee-restart.stamps');
  await n.api('POST', '/v1/services', nodeeSpec(1, ns));
  await waitFor(() => stamps(ns).length === 1, 10_000, 'the first nodee stamp');
  const nodee = await restartLatencies(ns, RESTARTS);
  n.proc.kill('SIGKILL');
  killMarked(n.prefix);

  const ss = path.join(work, 'supervisord-restart.stamps');
  const s = await startSupervisord('restart', [{ name: 'svc', stamps: ss, autostart: true }]);
  await waitFor(() => stamps(ss).length === 1, 10_000, 'the first supervisord stamp');
  const sup = await restartLatencies(ss, RESTARTS);
  s.ctl('shutdown');

  let pm = [];
  if (PM2) {
    const ps = path.join(work, 'pm2-restart.stamps');
    const p = await startPm2(PM2, 'restart', [{ name: 'svc', stamps: ps }]);
    p.pm2('start', p.eco);
    await waitFor(() => stamps(ps).length === 1, 10_000, 'the first PM2 stamp');
    pm = await restartLatencies(ps, RESTARTS);
    p.pm2('kill');
  }
  const pmOr = (f) => (pm.length ? f(pm) : undefined);
  row(`(a) restart after kill -9, median of ${RESTARTS}`, pct(nodee, 50), pct(sup, 50), pmOr((x) => pct(x, 50)), 'ms');
  row(`(a) restart after kill -9, max`, Math.max(...nodee), Math.max(...sup), pmOr((x) => Math.max(...x)), 'ms');
}

async function benchStart() {
  const n = await startNodee('start');
  const t0 = now();
  const specs = Array.from({ length: START_N }, (_, i) => nodeeSpec(i + 1, path.join(work, `nodee-start-${i}.stamps`)));
  await inBatches(specs, 16, (spec) => n.api('POST', '/v1/services', spec));
  const nodee = now() - t0;
  const { services } = await n.api('GET', '/v1/services');
  if (services.filter((s) => s.state === 'running').length !== START_N) throw new Error('nodee: not all running');
  n.proc.kill('SIGKILL');
  killMarked(n.prefix);

  // the same services in one batch request, as `supervisorctl start all` is one command
  const nb = await startNodee('start-batch');
  const tb = now();
  const batchSpecs = Array.from({ length: START_N }, (_, i) => nodeeSpec(i + 1, path.join(work, `nodee-batch-${i}.stamps`)));
  const answer = await nb.api('POST', '/v1/services', { services: batchSpecs });
  const nodeeBatch = now() - tb;
  if (answer.services?.filter((x) => x.state === 'running').length !== START_N) throw new Error('nodee batch: not all running');
  nb.proc.kill('SIGKILL');
  killMarked(nb.prefix);

  const programs = Array.from({ length: START_N }, (_, i) => ({ name: `svc${i}`, stamps: path.join(work, `supervisord-start-${i}.stamps`), autostart: false }));
  const s = await startSupervisord('start', programs);
  const t1 = now();
  s.ctl('start', 'all');
  const sup = now() - t1;
  const running = s.ctl('status').split('\n').filter((l) => /RUNNING/.test(l)).length;
  if (running !== START_N) throw new Error(`supervisord: ${running} of ${START_N} running`);
  s.ctl('shutdown');

  let pm;
  if (PM2) {
    const apps = Array.from({ length: START_N }, (_, i) => ({ name: `svc${i}`, stamps: path.join(work, `pm2-start-${i}.stamps`) }));
    const p = await startPm2(PM2, 'start', apps);
    const t2 = now();
    p.pm2('start', p.eco);
    await waitFor(() => p.online() === START_N, 120_000, 'PM2 to start all');
    pm = now() - t2;
    p.pm2('kill');
  }
  row(`(b) start ${START_N} services to all running (16 POSTs at a time)`, nodee, sup, pm, 'ms');
  row(`(b) start ${START_N} services to all running (one batch POST)`, nodeeBatch, sup, pm, 'ms');
}

async function benchMany() {
  const n = await startNodee('many');
  const t0 = now();
  const specs = Array.from({ length: MANY }, (_, i) => nodeeSpec(i + 1, path.join(work, 'nodee-many.stamps'), { restart: {} }));
  await inBatches(specs, 16, (spec) => n.api('POST', '/v1/services', spec));
  const startMs = now() - t0;
  await sleep(IDLE_SETTLE_MS);
  const cpu = await idleCpu(n.proc.pid, 10_000);
  const rss = rssMiB(n.proc.pid);
  const lat = [];
  for (let i = 0; i < 200; i++) {
    const t = now();
    const body = await n.api('GET', '/v1/services');
    lat.push(now() - t);
    if (body.services.length !== MANY) throw new Error('nodee: wrong count');
  }
  n.proc.kill('SIGKILL');
  killMarked(n.prefix);

  const programs = Array.from({ length: MANY }, (_, i) => ({ name: `svc${i}`, stamps: path.join(work, `supervisord-many-${i}.stamps`), autostart: true }));
  const t1 = now();
  const s = await startSupervisord('many', programs);
  await waitFor(() => s.ctl('status').split('\n').filter((l) => /RUNNING/.test(l)).length === MANY, 240_000, 'supervisord to start all');
  const supStart = now() - t1;
  await sleep(IDLE_SETTLE_MS);
  const supCpu = await idleCpu(s.proc.pid, 10_000);
  const supRss = rssMiB(s.proc.pid);
  const supLat = [];
  for (let i = 0; i < 20; i++) {
    const t = now();
    s.ctl('status');
    supLat.push(now() - t);
  }
  s.ctl('shutdown');
  // PM2 is left out of (c): a thousand PM2 apps would take most of the time budget alone
  row(`(c) ${MANY} services: time to all running`, startMs, supStart, undefined, 'ms');
  row(`(c) ${MANY} services: supervisor RSS`, rss, supRss, undefined, 'MiB');
  row(`(c) ${MANY} services: idle CPU (median of 3 × 10 s)`, cpu, supCpu, undefined, '% core');
  row(`(c) list all: p50 (GET /v1/services | supervisorctl status)`, pct(lat, 50), pct(supLat, 50), undefined, 'ms');
  row(`(c) list all: p99`, pct(lat, 99), pct(supLat, 99), undefined, 'ms');
}

const started = Date.now();
const PM2 = installPm2();
await benchRestart();
await benchStart();
await benchMany();

const head = ['', 'nodee', 'supervisord 4', 'nodee vs supervisord', 'PM2 6', 'nodee vs PM2'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
console.log(`\n(${os.cpus().length} cpus, ${process.getuid() === 0 ? 'root: nodee isolates services in a mount namespace' : 'not root'}, ${((Date.now() - started) / 1000).toFixed(0)} s)`);
process.exit(0);
