#!/usr/bin/env node
// Service supervisor benchmark: nodee vs supervisord 4 (and PM2 6 when `npm i pm2` works
// within a minute; --no-pm2 skips it), side by side in one run.
//   (a) restart latency after kill -9, zero backoff (supervisord: autorestart, startsecs=0), with
//       nodee twice: a cgroup per service (its default) and containment off (process groups only);
//       the four are measured interleaved
//   (b) 200 services from nothing to all running (nodee: POST /v1/services; supervisord: start all)
//   (c) 1,000 `sleep` services, each in its cgroup with usage collected: supervisor RSS, idle CPU
//       (one GET /metrics scrape in the idle window), GET /v1/services (nodee) latency
// Each service is a bash script that appends "$$ $EPOCHREALTIME" (no fork) to a stamp file and
// execs sleep, so a restart is timed from the kill to the new process's first instruction,
// the same way for both. Runs against dist/ (npm run build first), only on 127.0.0.1, and
// kills everything it started. As root, nodee daemons get cgroups under a parent of their own,
// /nodee-bench-<hex>, removed at the end. Usage: node scripts/bench/services.mjs [--quick] [--no-pm2] [--only restart,start,many]
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../../dist/daemon/node-flags.js';
import { benchParent, inCgroupUnder, removeCgroupParent, unusableParent } from './lib/cgroups.mjs';
import { cleanUpAtExit, daemonApi, killMarked } from './lib/run.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const QUICK = process.argv.includes('--quick');
const WITH_PM2 = !process.argv.includes('--no-pm2');
/** --only restart,start,many: a part of the run (a), (b), (c); default all. */
const onlyAt = process.argv.indexOf('--only');
const ONLY = new Set(onlyAt > 0 ? process.argv[onlyAt + 1].split(',') : ['restart', 'start', 'many']);
const RESTARTS = QUICK ? 5 : 15;
const MANY = QUICK ? 100 : 1000;
const START_N = QUICK ? 50 : 200;
// idle is what follows a burst, not its tail: the records of 1,000 new services are still being
// fsynced several seconds after the last start on a VM disk (nodee), likewise supervisord's logs,
// and V8's memory reducer runs its one-off mark-compacts (~300 ms of CPU, --trace-gc) about 40 s
// after the burst, once the heap has gone quiet: idle is measured after that
const IDLE_SETTLE_MS = QUICK ? 3000 : 60_000;
const ART = 'bench:svc:1.0.0';
const work = mkdtempSync(path.join(os.tmpdir(), 'nodee-bench-svc-'));
const cleanups = [];
const ROOT_USER = process.getuid() === 0;
/** Every nodee daemon here makes its service cgroups under CG_PARENT/<its name>. */
const CG_PARENT = benchParent();
if (ROOT_USER) cleanups.push(() => removeCgroupParent(CG_PARENT));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

cleanUpAtExit(cleanups, work);

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
 * Percent of one core used by pid in each of three windows of `ms` (one with --quick): the
 * median is the figure, so a one-off event (V8's memory reducer runs a full GC a while after a
 * burst) does not decide it.
 */
async function idleCpuWindows(pid, ms) {
  const hz = 100;
  const windows = [];
  for (let i = 0; i < (QUICK ? 1 : 3); i++) {
    const a = cpuTicks(pid);
    await sleep(ms);
    windows.push(((cpuTicks(pid) - a) / hz / (ms / 1000)) * 100);
  }
  return windows;
}

// ---- nodee -------------------------------------------------------------------------------------


/**
 * A nodee daemon on a prefix of its own. `cgroups`: true gives it a cgroup parent of its own (a
 * cgroup per service, nodee's default); false one it cannot make (a read-only bind mount), so it
 * falls back to process groups, as on a host without usable cgroups.
 */
async function startNodee(name, { cgroups = true } = {}) {
  const prefix = path.join(work, `nodee-${name}`);
  const config = path.join(work, `nodee-${name}.yaml`);
  let parent;
  if (ROOT_USER && cgroups) parent = `${CG_PARENT}/${name}`;
  else if (ROOT_USER) {
    const ro = unusableParent();
    cleanups.push(ro.undo);
    parent = ro.parent;
  }
  const cgroup = parent === undefined ? {} : { cgroup: { parent } };
  writeFileSync(config, JSON.stringify({ prefix, instance: 'bench', api: { listen: '127.0.0.1:0' }, ports: { from: 30000, to: 39999 }, ...cgroup }));
  const proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, 'daemon', '--config', config], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => {
    proc.kill('SIGKILL');
    killMarked(prefix);
  });
  const { url, api } = await daemonApi(proc);
  await api('PUT', `/v1/artifacts/${ART.split(':').join('/')}`, { url: `file://${zip}` });
  const { containment } = await api('GET', '/v1/status');
  const want = ROOT_USER && cgroups;
  if ((containment !== 'none') !== want) throw new Error(`nodee ${name}: containment ${containment}, wanted ${want ? 'cgroups' : 'none'}`);
  return { proc, prefix, api, url, containment, cgroupParent: want ? parent : undefined };
}

/** With containment on, a service's process must be in its cgroup, or the figures are not what they claim. */
function checkContained(n, pid) {
  if (n.cgroupParent !== undefined && !inCgroupUnder(pid, n.cgroupParent)) throw new Error(`pid ${pid} is not in a cgroup under ${n.cgroupParent}`);
  if (n.cgroupParent === undefined && readFileSync(`/proc/${pid}/cgroup`, 'utf8') !== readFileSync(`/proc/${n.proc.pid}/cgroup`, 'utf8')) {
    throw new Error(`pid ${pid} is not in the daemon's cgroups, containment was meant to be off`);
  }
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
/** Lines printed under the table. */
const notes = [];
/** What the (c) daemon reported in /v1/status. */
let CONTAINMENT = 'none';
/** Ratios say how many times better nodee is (lower is better for every figure here). */
const ratio = (nodee, other) => (typeof nodee === 'number' && typeof other === 'number' && nodee > 0 ? `${(other / nodee).toFixed(1)}x` : '-');
/** One line of the table: nodee (a cgroup per service), nodee with containment off, supervisord, PM2. */
const row = (what, { nodee, nodeeNone, sup, pm2 }, unit) => {
  rows.push([what, fmt(nodee, unit), fmt(nodeeNone, unit), fmt(sup, unit), ratio(nodee, sup), fmt(pm2, unit), ratio(nodee, pm2)]);
};
const fmt = (v, unit) => (typeof v === 'number' ? `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ${unit}` : String(v ?? '-'));

async function benchRestart() {
  // every subject runs one service; the kills go round them in turn, so load on this shared
  // machine falls on all of them alike
  const subjects = [];
  for (const [key, cgroups] of [['nodee', true], ['nodeeNone', false]]) {
    const n = await startNodee(`restart-${key}`, { cgroups });
    const file = path.join(work, `restart-${key}.stamps`);
    await n.api('POST', '/v1/services', nodeeSpec(1, file));
    await waitFor(() => stamps(file).length === 1, 10_000, `the first ${key} stamp`);
    checkContained(n, stamps(file)[0].pid);
    if (cgroups) CONTAINMENT = n.containment;
    subjects.push({ key, file, n, stop: () => (n.proc.kill('SIGKILL'), killMarked(n.prefix)) });
  }
  const ss = path.join(work, 'supervisord-restart.stamps');
  const s = await startSupervisord('restart', [{ name: 'svc', stamps: ss, autostart: true }]);
  await waitFor(() => stamps(ss).length === 1, 10_000, 'the first supervisord stamp');
  subjects.push({ key: 'sup', file: ss, stop: () => s.ctl('shutdown') });
  if (PM2) {
    const ps = path.join(work, 'pm2-restart.stamps');
    const p = await startPm2(PM2, 'restart', [{ name: 'svc', stamps: ps }]);
    p.pm2('start', p.eco);
    await waitFor(() => stamps(ps).length === 1, 10_000, 'the first PM2 stamp');
    subjects.push({ key: 'pm2', file: ps, stop: () => p.pm2('kill') });
  }
  const lat = Object.fromEntries(subjects.map((x) => [x.key, []]));
  for (let i = 0; i < RESTARTS; i++) {
    for (let k = 0; k < subjects.length; k++) {
      const x = subjects[(i + k) % subjects.length];
      lat[x.key].push(...(await restartLatencies(x.file, 1)));
    }
  }
  for (const x of subjects) if (x.n) checkContained(x.n, stamps(x.file).at(-1).pid); // the restarted one too
  for (const x of subjects) x.stop();
  const of = (key, f) => (lat[key]?.length ? f(lat[key]) : undefined);
  const med = (x) => pct(x, 50);
  const max = (x) => Math.max(...x);
  row(`(a) restart after kill -9, median of ${RESTARTS}`, { nodee: of('nodee', med), nodeeNone: of('nodeeNone', med), sup: of('sup', med), pm2: of('pm2', med) }, 'ms');
  row(`(a) restart after kill -9, max`, { nodee: of('nodee', max), nodeeNone: of('nodeeNone', max), sup: of('sup', max), pm2: of('pm2', max) }, 'ms');
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
  row(`(b) start ${START_N} services to all running (16 POSTs at a time)`, { nodee, sup, pm2: pm }, 'ms');
  row(`(b) start ${START_N} services to all running (one batch POST)`, { nodee: nodeeBatch, sup, pm2: pm }, 'ms');
}

/** GET /metrics once: ms, bytes, how many services have a memory gauge, the daemon's heap as it reports it. */
async function scrapeMetrics(url) {
  const t = now();
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  const ms = now() - t;
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
  const series = (name) => text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  const value = (l) => Number(l.slice(l.lastIndexOf(' ') + 1));
  const memory = series('nodee_service_memory_bytes');
  const heapUsed = series('nodee_nodejs_heap_size_used_bytes').map(value)[0];
  const heapTotal = series('nodee_nodejs_heap_size_total_bytes').map(value)[0];
  // a gauge of a service in its cgroup reads a number of bytes
  return { ms, bytes: Buffer.byteLength(text), memorySeries: memory.length, measured: memory.filter((l) => value(l) > 0).length, heapUsed, heapTotal };
}

/**
 * (c) for one nodee daemon: MANY services through the API, then idle. Usage is collected on
 * demand (a scrape, a listing), so the idle windows hold one GET /metrics, as a Prometheus
 * scraping every 15-60 s would make, 2 s into the first window: the median of the three still
 * says what idle costs between scrapes, and the first window's figure is the scrape's cost.
 */
async function manyNodee(cgroups) {
  const name = cgroups ? 'many' : 'many-nocg';
  const n = await startNodee(name, { cgroups });
  const file = path.join(work, `${name}.stamps`);
  const t0 = now();
  const specs = Array.from({ length: MANY }, (_, i) => nodeeSpec(i + 1, file, { restart: {} }));
  await inBatches(specs, 16, (spec) => n.api('POST', '/v1/services', spec));
  const startMs = now() - t0;
  for (const st of stamps(file).slice(0, 5)) checkContained(n, st.pid);
  await sleep(IDLE_SETTLE_MS);
  const rssBefore = rssMiB(n.proc.pid);
  let scrape;
  const scrapeAt = sleep(2000).then(async () => (scrape = await scrapeMetrics(n.url)));
  const cpuWindows = await idleCpuWindows(n.proc.pid, 10_000);
  await scrapeAt;
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
  if (n.cgroupParent !== undefined && scrape.measured < MANY) throw new Error(`GET /metrics: ${scrape.measured} of ${MANY} services have a memory figure`);
  return { n, startMs, rssBefore, rss, cpuWindows, scrape, lat };
}

async function benchMany() {
  const cg = await manyNodee(true);
  CONTAINMENT = cg.n.containment;
  const nocg = ROOT_USER ? await manyNodee(false) : undefined;

  const programs = Array.from({ length: MANY }, (_, i) => ({ name: `svc${i}`, stamps: path.join(work, `supervisord-many-${i}.stamps`), autostart: true }));
  const t1 = now();
  const s = await startSupervisord('many', programs);
  await waitFor(() => s.ctl('status').split('\n').filter((l) => /RUNNING/.test(l)).length === MANY, 240_000, 'supervisord to start all');
  const supStart = now() - t1;
  await sleep(IDLE_SETTLE_MS);
  const supCpu = pct(await idleCpuWindows(s.proc.pid, 10_000), 50);
  const supRss = rssMiB(s.proc.pid);
  const supLat = [];
  for (let i = 0; i < 20; i++) {
    const t = now();
    s.ctl('status');
    supLat.push(now() - t);
  }
  s.ctl('shutdown');
  // PM2 is left out of (c): a thousand PM2 apps would take most of the time budget alone
  const windows = cg.cpuWindows.length > 1 ? `median of ${cg.cpuWindows.length} × 10 s` : '10 s';
  const both = (f) => ({ nodee: f(cg), nodeeNone: nocg && f(nocg) });
  row(`(c) ${MANY} services: time to all running`, { ...both((x) => x.startMs), sup: supStart }, 'ms');
  row(`(c) ${MANY} services: supervisor RSS`, { ...both((x) => x.rss), sup: supRss }, 'MiB');
  row(`(c) RSS before the /metrics scrape`, both((x) => x.rssBefore), 'MiB');
  row(`(c) ${MANY} services: idle CPU (${windows})`, { ...both((x) => pct(x.cpuWindows, 50)), sup: supCpu }, '% core');
  row(`(c) idle CPU, the window with one /metrics scrape`, both((x) => x.cpuWindows[0]), '% core');
  row(`(c) GET /metrics (${(cg.scrape.bytes / 1024).toFixed(0)} KiB, ${cg.scrape.memorySeries} memory gauges)`, both((x) => x.scrape.ms), 'ms');
  row(`(c) list all: p50 (GET /v1/services | supervisorctl status)`, { ...both((x) => pct(x.lat, 50)), sup: pct(supLat, 50) }, 'ms');
  row(`(c) list all: p99`, { ...both((x) => pct(x.lat, 99)), sup: pct(supLat, 99) }, 'ms');
  const mib = (b) => (b / 1024 / 1024).toFixed(0);
  for (const [what, x] of [['nodee', cg], ['nodee, no cgroup', nocg]]) {
    if (x) notes.push(`(c) ${what}: idle CPU windows ${x.cpuWindows.map((w) => w.toFixed(1)).join(' / ')} % (the scrape in the first); V8 heap at the scrape ${mib(x.scrape.heapUsed)} MiB used of ${mib(x.scrape.heapTotal)} MiB`);
  }
}

const started = Date.now();
const PM2 = installPm2();
if (ONLY.has('restart')) await benchRestart();
if (ONLY.has('start')) await benchStart();
if (ONLY.has('many')) await benchMany();

const head = ['', 'nodee', 'nodee, no cgroup', 'supervisord 4', 'nodee vs supervisord', 'PM2 6', 'nodee vs PM2'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
for (const n of notes) console.log(n);
console.log(`\n(${os.cpus().length} cpus, ${ROOT_USER ? `root: nodee isolates services in a mount namespace; containment ${CONTAINMENT}` : 'not root, no cgroups'}, ${((Date.now() - started) / 1000).toFixed(0)} s)`);
process.exit(0);
