#!/usr/bin/env node
// Fleet scheduler benchmark (docs/scheduler.md, contract "Fleet scheduling over ZooKeeper"), on a
// real ZooKeeper (the Debian jar, started as test/helpers/zookeeper.mjs does) and real daemons:
//   (1) placement throughput: 1,000 simulated nodes (ephemeral records written by this script
//       from one plain node-zookeeper-client session; they never run anything) and ONE real
//       daemon, the only election candidate, which leads. Jobs totalling 10,000 instances (10
//       of 1,000: a job has at most MAX_COUNT), constrained to a label only the simulated nodes
//       carry, are written in one multi; the
//       figure is assignments per second from the jobs' ctime to the last assignment's ctime
//       (ZooKeeper's own clock), beside the anchor (Nomad's C2M, about 1,500/s) and the target
//       (2,000/s), with the leader's CPU and RSS while it placed.
//   (2) end to end: 10 daemons (lostAfterMs 5 s), a job of 200 `sleep` instances from a file://
//       repository → all running; then kill -9 of one node's daemon and its services (a host
//       dying) → every instance running on the other nodes again, also less lostAfterMs.
//   (3) leader failover: kill -9 of the leader (daemon and services), a new job written at once
//       → its assignment written by the new leader.
// Runs against dist/ (npx tsc -p tsconfig.json first), only on 127.0.0.1, and removes every
// daemon, service, cgroup (/nodee-bench-<hex>), temp dir and ZooKeeper it started, also on an
// error, SIGINT or SIGTERM. Usage: node scripts/bench/scheduler.mjs [--quick]
//   --quick: 100 simulated nodes / 1,000 instances; 3 daemons / 30 instances.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fourLetter, startZookeeper } from '../../test/helpers/zookeeper.mjs';
import { tempDir } from '../../test/helpers/tmp.mjs';
import { fakeStatus } from '../../test/registry/_zk.mjs';
import { ensureUser } from '../../test/security/_users.mjs';
import registry from '../../dist/registry/index.js';
import scheduler from '../../dist/scheduler/index.js';
import { DAEMON_NODE_FLAGS } from '../../dist/daemon/node-flags.js';
import { benchParent, removeCgroupParent } from './lib/cgroups.mjs';
import { killMarked } from './lib/run.mjs';

const require = createRequire(import.meta.url);
const zookeeper = require('node-zookeeper-client');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const QUICK = process.argv.includes('--quick');
/** --only placement|cell: one part, (1) or (2)+(3); default both. */
const onlyAt = process.argv.indexOf('--only');
const ONLY = new Set(onlyAt > 0 ? process.argv[onlyAt + 1].split(',') : ['placement', 'cell']);

const SIM_NODES = QUICK ? 100 : 1000;
const INSTANCES = QUICK ? 1000 : 10_000;
const DAEMONS = QUICK ? 3 : 10;
const E2E = QUICK ? 30 : 200;
const LOST_AFTER_MS = 5000;
/** zookeeper.sessionTimeoutMs of the daemons in (2) and (3), as in test/fleet (the record and the election node go with the session). */
const SESSION_MS = 2000;
/** Nomad's C2M challenge: about 1,500 placements a second; the issue's target. */
const ANCHOR_PER_S = 1500;
const TARGET_PER_S = 2000;
/** The longest (1) may take before it counts as stuck: no write at all (not even a failed one) for this long. */
const STALL_MS = 120_000;

const CELL = '/meta/cell';
const NODES = `${CELL}/nodes`;
const JOBS = `${CELL}/jobs`;
const ASSIGNMENTS = `${CELL}/assignments`;
const ART = 'com.example:sched:1.0.0';
const TEMPLATE = '/{groupPath}/{artifactId}/{version}/{artifactId}-{version}.zip';
const HZ = 100;
const ROOT_USER = process.getuid() === 0;
const CG_PARENT = benchParent();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();
const debug = (...a) => console.error(new Date().toISOString().slice(11, 23), ...a);

// ---- cleanup: every start registers its undo, run in reverse, once, whatever happens -----------

const teardowns = [];
/** The `t` the test helpers take (startZookeeper, tempDir): their teardowns join ours. */
const t = { teardown: (fn) => teardowns.push(fn) };
let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    for (const fn of teardowns.reverse()) {
      try {
        await fn();
      } catch {}
    }
  })();
  return cleaning;
}
if (ROOT_USER) t.teardown(() => removeCgroupParent(CG_PARENT));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => cleanup().finally(() => process.exit(130)));

// ---- measuring ------------------------------------------------------------------------------------

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function rssMiB(pid) {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return NaN;
  }
}

/** Samples a process's RSS every 100 ms until stop(); resolves {peak, cpuSeconds, cpuPercent} over the span. */
function watchProcess(pid) {
  const t0 = now();
  const ticks0 = cpuTicks(pid);
  let peak = rssMiB(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 100);
  return () => {
    clearInterval(timer);
    peak = Math.max(peak, rssMiB(pid));
    const cpuSeconds = (cpuTicks(pid) - ticks0) / HZ;
    return { peak, cpuSeconds, cpuPercent: (cpuSeconds / ((now() - t0) / 1000)) * 100 };
  };
}

async function idleCpu(pid, ms) {
  const a = cpuTicks(pid);
  await sleep(ms);
  return ((cpuTicks(pid) - a) / HZ / (ms / 1000)) * 100;
}

async function waitFor(check, timeoutMs, what, intervalMs = 20) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last: ${last.message})` : ''}`);
    await sleep(intervalMs);
  }
}

/** The java process of a ZooKeeper started by startZookeeper (its zoo.cfg is on its command line). */
function zookeeperPid(zk) {
  const cfg = path.join(path.dirname(zk.dataDir), 'zoo.cfg');
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').split('\0').includes(cfg)) return Number(name);
    } catch {}
  }
  return undefined;
}

async function znodeCount(zk) {
  return Number(/zk_znode_count\s+(\d+)/.exec(await fourLetter(zk.port, 'mntr'))?.[1] ?? NaN);
}

/** The server's last zxid: it moves with every write, a failed multi included. */
async function lastZxid(zk) {
  return /Zxid: (0x[0-9a-f]+)/.exec(await fourLetter(zk.port, 'srvr'))?.[1];
}

// ---- a plain ZooKeeper client (the observer, and the simulated nodes' session) ---------------------

async function client(connect, sessionTimeout = 30_000) {
  const c = zookeeper.createClient(connect, { sessionTimeout, spinDelay: 100 });
  const up = new Promise((resolve) => c.once('connected', resolve));
  c.connect();
  await up;
  t.teardown(async () => c.close());
  const p = (fn, ...args) => new Promise((resolve, reject) => fn.call(c, ...args, (err, ...res) => (err ? reject(err) : resolve(res))));
  const noNode = (err) => err?.getCode?.() === zookeeper.Exception.NO_NODE;
  return {
    c,
    close: () => c.close(),
    mkdirp: (q) => p(c.mkdirp, q),
    create: (q, data, mode) => p(c.create, q, data, zookeeper.ACL.OPEN_ACL_UNSAFE, mode),
    async children(q) {
      try {
        return (await p(c.getChildren, q))[0];
      } catch (err) {
        if (noNode(err)) return [];
        throw err;
      }
    },
    async stat(q) {
      return (await p(c.exists, q))[0] ?? null;
    },
    async json(q) {
      try {
        return JSON.parse((await p(c.getData, q))[0].toString('utf8'));
      } catch (err) {
        if (noNode(err)) return null;
        throw err;
      }
    },
    /** Creates (or overwrites) jobs/<name> for each job, all in one transaction: they appear at once. */
    async putJobs(jobs) {
      await p(c.mkdirp, JOBS);
      const tx = c.transaction();
      for (const job of jobs) {
        const q = `${JOBS}/${job.name}`;
        const data = Buffer.from(JSON.stringify(job));
        if (await this.stat(q)) tx.setData(q, data, -1);
        else tx.create(q, data, zookeeper.ACL.OPEN_ACL_UNSAFE, zookeeper.CreateMode.PERSISTENT);
      }
      await new Promise((resolve, reject) => tx.commit((err, res) => (err ? reject(err) : resolve(res))));
    },
  };
}

/** A znode's ctime/mtime (ms since the epoch, ZooKeeper's clock). */
const ctime = (stat) => Number(stat.ctime.readBigInt64BE());
const mtime = (stat) => Number(stat.mtime.readBigInt64BE());

/** Runs `fn` over `items`, `width` at a time (the client pipelines them on its one connection). */
async function inBatches(items, width, fn) {
  const out = [];
  let i = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (i < items.length) {
        const k = i++;
        out[k] = await fn(items[k], k);
      }
    }),
  );
  return out;
}

/** How many assignments there are (children only, no stats). */
async function countAssignments(obs) {
  const nodes = await obs.children(ASSIGNMENTS);
  return (await inBatches(nodes, 64, async (node) => (await obs.children(`${ASSIGNMENTS}/${node}`)).length)).reduce((a, b) => a + b, 0);
}

/** Every assignment under assignments/: [{node, coordinate, ctime}]. */
async function assignmentsOf(obs) {
  const nodes = await obs.children(ASSIGNMENTS);
  const per = await inBatches(nodes, 64, async (node) => (await obs.children(`${ASSIGNMENTS}/${node}`)).map((coordinate) => ({ node, coordinate })));
  const all = per.flat();
  await inBatches(all, 256, async (a) => {
    const st = await obs.stat(`${ASSIGNMENTS}/${a.node}/${a.coordinate}`);
    a.ctime = st ? ctime(st) : NaN;
  });
  return all;
}

// ---- nodee daemons ---------------------------------------------------------------------------------


/**
 * A daemon of the cell on a prefix of its own (service users may traverse it) and, as root, a
 * cgroup parent of its own. kill() is a host dying: the daemon and every service, at once.
 */
async function startNodee(name, zk, config) {
  const prefix = await tempDir(t, `nodee-bench-sched-${name}-`);
  await chmod(prefix, 0o755);
  const file = path.join(prefix, 'nodee.yaml');
  const parent = ROOT_USER ? `${CG_PARENT}/${name}` : undefined;
  await writeFile(
    file,
    JSON.stringify({
      prefix: path.join(prefix, 'p'),
      instance: name,
      api: { listen: '127.0.0.1:0' },
      zookeeper: { connect: zk.connect, sessionTimeoutMs: SESSION_MS, nodesPath: NODES },
      scheduler: { enabled: true, lostAfterMs: LOST_AFTER_MS },
      ...config,
      ...(parent ? { cgroup: { parent } } : {}),
    }),
  );
  await mkdir(path.join(prefix, 'p'), { mode: 0o755 });
  const proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, 'daemon', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((r) => proc.once('exit', r));
  // the log is drained all along (a leader placing 10,000 logs a lot); its tail is kept for errors
  let tail = '';
  /** Leader writes that failed ("scheduler: ... not written"), counted over the whole log, and the first one. */
  const failed = { count: 0, first: undefined };
  const keeper = () => {
    let partial = '';
    return (d) => {
      tail = (tail + d).slice(-16384);
      const lines = (partial + d).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        if (!line.includes('not written"')) continue;
        failed.count++;
        failed.first ??= line.slice(0, 400);
      }
    };
  };
  proc.stdout.setEncoding('utf8').on('data', keeper());
  proc.stderr.setEncoding('utf8').on('data', keeper());
  const killDaemon = () => {
    try {
      proc.kill('SIGKILL');
    } catch {}
  };
  const killServices = () => {
    if (parent) removeCgroupParent(parent);
    killMarked(path.join(prefix, 'p'));
  };
  const kill = () => {
    killDaemon();
    killServices();
  };
  t.teardown(async () => {
    kill();
    await Promise.race([exited, sleep(5000)]);
  });
  const url = await waitFor(() => {
    if (proc.exitCode !== null) throw new Error(`nodee ${name} exited (${proc.exitCode}):\n${tail}`);
    return /"url":"(http:[^"]+?)\/?","msg":"nodee started"/.exec(tail)?.[1];
  }, 30_000, `nodee ${name} to start`).catch((err) => {
    throw new Error(`${err.message}\n${tail}`);
  });
  const api = async (method, p, body) => {
    const res = await fetch(url + p, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${name}: ${method} ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  return {
    name,
    proc,
    pid: proc.pid,
    api,
    kill,
    killDaemon,
    killServices,
    exited,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    scheduler: async () => (await api('GET', '/v1/status')).scheduler,
    tail: () => tail,
    failed,
  };
}

// ---- (1) placement throughput ------------------------------------------------------------------------

/** A node record as a daemon writes it: active, labelled pool=sim, room for far more than it gets, no services. */
function simRecord(name) {
  const status = fakeStatus(name, {
    labels: { pool: 'sim', zone: `z${Number(name.slice(4)) % 4}` },
    resources: { capacity: { memoryMB: 64_000, cpu: 64, diskMB: 500_000 }, reserved: { memoryMB: 0, cpu: 0, diskMB: 0 } },
  });
  return registry.encodeRecord(registry.buildRecord(status, [], []));
}

async function benchPlacement() {
  const zk = await startZookeeper(t);
  const zkPid = zookeeperPid(zk);
  const obs = await client(zk.connect);
  await obs.mkdirp(NODES);

  // the simulated nodes: one session holds all their ephemeral records
  const sims = await client(zk.connect, 30_000);
  const names = Array.from({ length: SIM_NODES }, (_, i) => `sim-${String(i).padStart(4, '0')}`);
  const r0 = now();
  await inBatches(names, 100, (n) => sims.create(`${NODES}/${n}`, simRecord(n), zookeeper.CreateMode.EPHEMERAL));
  debug(`(1) ${SIM_NODES} simulated node records written in ${(now() - r0).toFixed(0)} ms (${simRecord(names[0]).length} bytes each)`);

  // the one real daemon: no pool label, so nothing is placed on it; it leads (the only candidate)
  const leader = await startNodee('leader', zk, { capacity: { memoryMB: 100, cpu: 1, diskMB: 100 } });
  await waitFor(async () => (await leader.scheduler()).leader, 30_000, 'the daemon to lead');
  await sleep(QUICK ? 2000 : 4000); // its first passes over the simulated nodes are done
  const idleBefore = await idleCpu(leader.pid, QUICK ? 3000 : 10_000);
  const rssBefore = rssMiB(leader.pid);

  // the jobs: no job may have more than MAX_COUNT instances, so 10,000 are 10 jobs of 1,000
  const jobs = [];
  for (let left = INSTANCES, i = 0; left > 0; i++) {
    const count = Math.min(scheduler.MAX_COUNT, left);
    left -= count;
    jobs.push({
      name: `place${i}.bench.cell`,
      type: 'service',
      version: 1,
      count,
      constraints: { labels: { pool: 'sim' } },
      spec: { artifact: ART, command: ['bin/sleeper'], user: 'nodee-svc1', resources: { memoryMB: 64, cpu: 0.1 } },
    });
  }
  for (const j of jobs) scheduler.parseJob(j); // valid as `nodee cluster run` would have it

  const base = await znodeCount(zk);
  const stopLeader = watchProcess(leader.pid);
  const stopZk = zkPid ? watchProcess(zkPid) : undefined;
  const w0 = now();
  await obs.putJobs(jobs);
  const written = now();
  debug(`(1) ${jobs.length} job(s) of ${INSTANCES} instances written`);

  // done when all INSTANCES assignments exist (counted exactly once ZooKeeper holds enough new
  // znodes); the statuses are watched too, as a person would, but they are no proof: the leader
  // writes them from its plan, whether or not each assignment write landed
  const statusAt = new Map();
  const statusVersion = new Map();
  let doneAt;
  let lastZxidSeen;
  let lastChange = now();
  let lastReport = now();
  for (;;) {
    for (const j of jobs) {
      if (statusAt.has(j.name)) continue;
      // read again only when written again (a status of 1,000 instances is ~90 KB)
      const st = await obs.stat(`${JOBS}/${j.name}/status`);
      if (!st || statusVersion.get(j.name) === st.version) continue;
      statusVersion.set(j.name, st.version);
      const s = await obs.json(`${JOBS}/${j.name}/status`);
      if (s && s.instances.length === j.count && s.instances.every((i) => i.node !== null)) statusAt.set(j.name, now());
    }
    const n = await znodeCount(zk);
    const zxid = await lastZxid(zk);
    if (zxid !== lastZxidSeen) (lastZxidSeen = zxid), (lastChange = now());
    if (n - base >= INSTANCES + jobs.length && (await countAssignments(obs)) >= INSTANCES) {
      doneAt = now();
      if (statusAt.size === jobs.length) break;
    }
    if (now() - lastReport > 10_000) {
      lastReport = now();
      debug(`(1) placing: ${n - base} new znodes (${INSTANCES} assignments, their parents, jobs, statuses) after ${((now() - w0) / 1000).toFixed(0)} s; leader ${rssMiB(leader.pid).toFixed(0)} MiB`);
    }
    if (now() - lastChange > STALL_MS) throw new Error(`(1) no write for ${STALL_MS / 1000} s: ${n - base} made, ${statusAt.size} of ${jobs.length} statuses complete\n${leader.tail()}`);
    await sleep(50);
  }
  const statusMs = Math.max(...statusAt.values()) - w0;
  const seenMs = doneAt - w0;
  const leaderUse = stopLeader();
  const zkUse = stopZk?.();

  // what was written, by ZooKeeper's clock
  const jobCtime = Math.min(...(await Promise.all(jobs.map(async (j) => ctime(await obs.stat(`${JOBS}/${j.name}`))))));
  const all = await assignmentsOf(obs);
  const coordinates = new Set(all.map((a) => a.coordinate));
  if (all.length !== INSTANCES || coordinates.size !== INSTANCES) throw new Error(`(1) ${all.length} assignments for ${coordinates.size} coordinates, wanted ${INSTANCES}`);
  if (all.some((a) => !a.node.startsWith('sim-'))) throw new Error('(1) an instance was placed on the real daemon');
  const ctimes = all.map((a) => a.ctime).sort((a, b) => a - b);
  const first = ctimes[0] - jobCtime;
  const last = ctimes.at(-1) - jobCtime;
  const perNode = new Map();
  for (const a of all) perNode.set(a.node, (perNode.get(a.node) ?? 0) + 1);
  // how many passes wrote them: assignments made in bursts more than 200 ms apart
  let bursts = 1;
  for (let i = 1; i < ctimes.length; i++) if (ctimes[i] - ctimes[i - 1] > 200) bursts++;
  const idleAfter = await idleCpu(leader.pid, QUICK ? 3000 : 10_000);
  const rssAfter = rssMiB(leader.pid);

  leader.kill();
  await leader.exited;
  const reference = await referenceWrites(obs, jobs[0]);
  const reads = await referenceReads(obs);
  const planned = planAlone(jobs, names);
  sims.close();
  await zk.kill9();
  return {
    reference,
    reads,
    planned,
    jobs: jobs.length,
    firstMs: first,
    lastMs: last,
    perSecond: INSTANCES / (last / 1000),
    writePerSecond: INSTANCES / ((ctimes.at(-1) - ctimes[0]) / 1000 || 1e-3),
    statusMs,
    seenMs,
    clientWriteMs: written - w0,
    leaderUse,
    zkUse,
    idleBefore,
    idleAfter,
    rssBefore,
    rssAfter,
    spread: [Math.min(...perNode.values()), Math.max(...perNode.values())],
    nodesUsed: perNode.size,
    bursts,
    failedWrites: leader.failed.count,
    firstFailed: leader.failed.first,
  };
}

/**
 * What this ZooKeeper allows, by the leader's own kind of write (a multi: a check of a fence
 * node, then a create of an assignment-sized znode) from a plain client with nothing else
 * running: one at a time, each awaited (as the leader writes), and 256 in flight.
 */
async function referenceWrites(obs, job) {
  const data = Buffer.from(JSON.stringify(scheduler.assignmentFor(job, 999, Date.now())));
  await obs.mkdirp('/bench/fence');
  await obs.mkdirp('/bench/seq');
  await obs.mkdirp('/bench/pipe');
  const one = (dir, i) =>
    new Promise((resolve, reject) =>
      obs.c
        .transaction()
        .check('/bench/fence')
        .create(`${dir}/${i}`, data, zookeeper.ACL.OPEN_ACL_UNSAFE, zookeeper.CreateMode.PERSISTENT)
        .commit((err) => (err ? reject(err) : resolve())),
    );
  const sequential = Math.min(INSTANCES, QUICK ? 500 : 2000);
  const s0 = now();
  for (let i = 0; i < sequential; i++) await one('/bench/seq', i);
  const seqPerSecond = sequential / ((now() - s0) / 1000);
  const p0 = now();
  await inBatches(Array.from({ length: INSTANCES }, (_, i) => i), 256, (i) => one('/bench/pipe', i));
  const pipePerSecond = INSTANCES / ((now() - p0) / 1000);
  return { bytes: data.length, sequential, seqPerSecond, pipePerSecond };
}

/** One pass's reads as the leader makes them (each awaited): every node record, every assignment's data. */
async function referenceReads(obs) {
  const r0 = now();
  let n = 0;
  for (const name of await obs.children(NODES)) n += (await obs.json(`${NODES}/${name}`)) ? 1 : 0;
  for (const node of await obs.children(ASSIGNMENTS)) {
    for (const c of await obs.children(`${ASSIGNMENTS}/${node}`)) n += (await obs.json(`${ASSIGNMENTS}/${node}/${c}`)) ? 1 : 0;
  }
  return { znodes: n, ms: now() - r0 };
}

/**
 * plan() alone, in this process, on the cell of (1): the first pass (nothing assigned) and the
 * next one (everything assigned, nothing to do: what every tick costs after). Median of 3 each
 * (--quick; the full run times each once, it takes seconds).
 */
function planAlone(jobs, names) {
  const t0 = Date.now();
  const records = names.map((name) => registry.decodeRecord(simRecord(name)).record);
  const nodes = names.map((name, i) => ({ name, record: records[i], lostSince: null }));
  const observed = Object.fromEntries(names.map((n) => [n, {}]));
  const parsed = jobs.map((j) => scheduler.parseJob(j));
  const view = { jobs: parsed, nodes, assignments: {}, observed, history: scheduler.EMPTY_HISTORY, lostAfterMs: LOST_AFTER_MS };
  const time = (v) => {
    const ms = [];
    let out;
    for (let i = 0; i < (QUICK ? 3 : 1); i++) {
      const a = performance.now();
      out = scheduler.plan(v, t0);
      ms.push(performance.now() - a);
    }
    return { ms: ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)], out };
  };
  const first = time(view);
  if (first.out.put.length !== INSTANCES) throw new Error(`plan() placed ${first.out.put.length} of ${INSTANCES}`);
  const assignments = {};
  for (const p of first.out.put) (assignments[p.node] ??= {})[p.coordinate] = p.assignment;
  const steady = time({ ...view, assignments });
  if (steady.out.put.length + steady.out.remove.length !== 0) throw new Error('plan(): a settled cell is not left alone');
  return { firstMs: first.ms, steadyMs: steady.ms };
}

// ---- (2) end to end, and (3) failover -----------------------------------------------------------------

/** A file:// repository holding the `sleep` artifact. */
async function repository() {
  const root = await tempDir(t, 'nodee-bench-sched-repo-');
  const src = path.join(root, 'src');
  await mkdir(path.join(src, 'bin'), { recursive: true });
  await writeFile(path.join(src, 'bin', 'sleeper'), '#!/bin/sh\nexec sleep 100000\n', { mode: 0o755 });
  const [group, artifactId, version] = ART.split(':');
  const dir = path.join(root, ...group.split('.'), artifactId, version);
  await mkdir(dir, { recursive: true });
  execFileSync('zip', ['-qr', path.join(root, 'a.zip'), '.'], { cwd: src });
  await copyFile(path.join(root, 'a.zip'), path.join(dir, `${artifactId}-${version}.zip`));
  await chmod(root, 0o755);
  return { url: `file://${root}${TEMPLATE}` };
}

async function leaderOf(ds) {
  const all = await Promise.all(ds.filter((d) => d.alive()).map(async (d) => ({ d, s: await d.scheduler().catch(() => undefined) })));
  const leaders = all.filter((x) => x.s?.leader);
  return leaders.length === 1 ? leaders[0].d : undefined;
}

async function benchCell() {
  const user = ensureUser('nodee-svc1');
  const zk = await startZookeeper(t);
  const obs = await client(zk.connect);
  const repo = await repository();
  const names = Array.from({ length: DAEMONS }, (_, i) => `node-${String(i).padStart(2, '0')}`);
  const s0 = now();
  const ds = await Promise.all(
    names.map((name, i) =>
      startNodee(name, zk, {
        capacity: { memoryMB: 1000, cpu: 2, diskMB: 1000 },
        ports: { from: 31000 + i * 10, to: 31009 + i * 10 },
        repositories: [repo],
      }),
    ),
  );
  await waitFor(async () => (await obs.children(NODES)).length === DAEMONS, 30_000, `${DAEMONS} node records`);
  const first = await waitFor(() => leaderOf(ds), 30_000, 'one leader');
  debug(`(2) ${DAEMONS} daemons up in ${((now() - s0) / 1000).toFixed(1)} s; ${first.name} leads`);

  const spec = { artifact: ART, command: ['bin/sleeper'], user: user.name, stop: { timeoutSeconds: 2 }, resources: { memoryMB: 16 } };
  const job = { name: 'e2e.bench.cell', type: 'service', version: 1, count: E2E, spec };
  scheduler.parseJob(job);
  const status = () => obs.json(`${JOBS}/${job.name}/status`);
  const j0 = now();
  await obs.putJobs([job]);
  const running = await waitFor(async () => {
    const s = await status();
    return s?.counts?.running === E2E && s;
  }, 180_000, `${E2E} instances running`);
  const allRunningMs = now() - j0;
  const jobCtime = ctime(await obs.stat(`${JOBS}/${job.name}`));
  const placedMs = Math.max(...(await assignmentsOf(obs)).map((a) => a.ctime)) - jobCtime;
  // the figure is the status; check the nodes agree
  const held = (await Promise.all(ds.map(async (d) => (await d.api('GET', '/v1/services')).services.filter((s) => s.state === 'running').length))).reduce((a, b) => a + b, 0);
  if (held !== E2E) throw new Error(`(2) the status says ${E2E} running, the nodes run ${held}`);
  debug(`(2) ${E2E} running after ${(allRunningMs / 1000).toFixed(1)} s`);

  // a node that is not the leader dies with its services
  const victim = ds.find((d) => d !== first && running.instances.some((i) => i.node === d.name));
  const onVictim = running.instances.filter((i) => i.node === victim.name).map((i) => i.coordinate);
  await sleep(1000);
  const k0 = now();
  victim.kill();
  let goneAt;
  const gone = (async () => {
    await waitFor(async () => !(await obs.stat(`${NODES}/${victim.name}`)), 60_000, `${victim.name}'s record to go`, 10);
    goneAt = now() - k0;
  })();
  const moved = await waitFor(async () => {
    const s = await status();
    return s?.counts?.running === E2E && s.instances.every((i) => i.node !== victim.name && i.state === 'running') && s;
  }, 120_000, `every instance running off ${victim.name}`);
  const recoveredMs = now() - k0;
  await gone;
  const movedTo = (await assignmentsOf(obs)).filter((a) => onVictim.includes(a.coordinate));
  const reassignedMs = Math.max(...movedTo.map((a) => a.ctime)) - k0; // now() is ms since the epoch, as ctime
  if (moved.instances.length !== E2E) throw new Error('(2) instances went missing');
  debug(`(2) ${onVictim.length} instances of ${victim.name} running elsewhere after ${(recoveredMs / 1000).toFixed(1)} s`);

  // (3) the leader dies; a new job is written at once
  const rest = ds.filter((d) => d !== victim);
  const leader = await waitFor(() => leaderOf(rest), 30_000, 'the leader');
  await sleep(1000);
  const fjob = { name: 'failover.bench.cell', type: 'service', version: 1, count: 1, spec };
  const f0 = now();
  const f0wall = Date.now();
  // the host dies; the job is written between the daemon's SIGKILL and the reaping of its services
  leader.killDaemon();
  await obs.putJobs([fjob]);
  leader.killServices();
  let newLeader;
  let newLeaderMs;
  const elected = (async () => {
    newLeader = await waitFor(() => leaderOf(rest.filter((d) => d !== leader)), 60_000, 'a new leader', 10);
    newLeaderMs = now() - f0;
  })();
  const coordinate = `0.${fjob.name}`;
  const found = await waitFor(async () => {
    for (const n of await obs.children(ASSIGNMENTS)) {
      const st = await obs.stat(`${ASSIGNMENTS}/${n}/${coordinate}`);
      if (st) return { node: n, ctime: ctime(st) };
    }
    return undefined;
  }, 60_000, `${coordinate} to be assigned`, 10);
  const assignedSeenMs = now() - f0;
  await elected;
  if (found.node === leader.name) throw new Error(`(3) ${coordinate} was assigned to the dead leader`);
  const failoverMs = found.ctime - f0wall;
  debug(`(3) ${leader.name} killed; ${newLeader.name} leads after ${(newLeaderMs / 1000).toFixed(2)} s; ${coordinate} assigned to ${found.node} after ${(failoverMs / 1000).toFixed(2)} s`);

  for (const d of ds) d.kill();
  await zk.kill9();
  return { allRunningMs, placedMs, victim: victim.name, moved: onVictim.length, goneAt, reassignedMs, recoveredMs, oldLeader: leader.name, newLeader: newLeader.name, newLeaderMs, failoverMs, assignedSeenMs };
}

// ---- the run ----------------------------------------------------------------------------------------------

function table(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  const line = (r) => r.map((c, i) => String(c ?? '').padEnd(widths[i])).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

async function main() {
  const started = Date.now();
  const load = [os.loadavg()[0]];
  const p = ONLY.has('placement') ? await benchPlacement() : undefined;
  load.push(os.loadavg()[0]);
  const c = ONLY.has('cell') ? await benchCell() : undefined;
  load.push(os.loadavg()[0]);

  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const pct = (v) => `${v.toFixed(0)} % core`;
  const mib = (v) => `${v.toFixed(0)} MiB`;
  const floorE2E = SESSION_MS + LOST_AFTER_MS;
  const rows = [];
  const notes = [];
  if (p) {
    rows.push(
      [`(1) placements/s: ${INSTANCES} instances (${p.jobs} job${p.jobs > 1 ? 's' : ''}) on ${SIM_NODES} simulated nodes, job write → last assignment`, `${p.perSecond.toFixed(0)} /s`, `Nomad C2M ≈ ${ANCHOR_PER_S}/s`, `${(p.perSecond / ANCHOR_PER_S).toFixed(2)}x`],
      ['', '', `target ≥ ${TARGET_PER_S}/s`, `${(p.perSecond / TARGET_PER_S).toFixed(2)}x`],
      ['(1) job write → first assignment', s(p.firstMs), '', ''],
      ['(1) job write → last assignment', s(p.lastMs), '', ''],
      ['(1) job write → every status shows each instance with a node', s(p.statusMs), '', ''],
      ['(1) job write → a polling client counts them all', s(p.seenMs), '', ''],
      ['(1) assignments/s between the first and the last', `${p.writePerSecond.toFixed(0)} /s`, '', ''],
      ['(1) leader CPU while placing (mean)', `${pct(p.leaderUse.cpuPercent)} (${p.leaderUse.cpuSeconds.toFixed(1)} s CPU)`, '', ''],
      ['(1) leader RSS: before / peak while placing / after', `${mib(p.rssBefore)} / ${mib(p.leaderUse.peak)} / ${mib(p.rssAfter)}`, '', ''],
      [`(1) leader idle CPU: ${SIM_NODES} nodes, no job / ${INSTANCES} assignments held`, `${pct(p.idleBefore)} / ${pct(p.idleAfter)}`, '', ''],
      ['(1) ZooKeeper CPU while placing (mean)', p.zkUse ? `${pct(p.zkUse.cpuPercent)} (${p.zkUse.cpuSeconds.toFixed(1)} s CPU)` : '-', '', ''],
      [`(1) plan() alone, in this process: first pass (${INSTANCES} to place) / settled cell`, `${p.planned.firstMs.toFixed(0)} ms / ${p.planned.steadyMs.toFixed(0)} ms`, '', ''],
      [`(1) reference: a pass's reads, one at a time (${p.reads.znodes} records and assignments)`, s(p.reads.ms), '', ''],
      [`(1) reference: a plain client's fenced creates (${p.reference.bytes} B), one at a time`, `${p.reference.seqPerSecond.toFixed(0)} /s`, 'nodee vs it:', `${(p.perSecond / p.reference.seqPerSecond).toFixed(2)}x`],
      ['(1) reference: the same, 256 in flight', `${p.reference.pipePerSecond.toFixed(0)} /s`, 'nodee vs it:', `${(p.perSecond / p.reference.pipePerSecond).toFixed(2)}x`],
    );
    notes.push(
      `(1) spread: ${p.nodesUsed} nodes used, ${p.spread[0]}–${p.spread[1]} instances each; assignments written in ${p.bursts} burst(s) more than 200 ms apart; the jobs multi took ${p.clientWriteMs.toFixed(0)} ms`,
      `(1) leader writes that failed ("not written" in its log): ${p.failedWrites}${p.firstFailed ? `, the first: ${p.firstFailed}` : ''}`,
    );
  }
  if (c) {
    rows.push(
      [`(2) job of ${E2E} on ${DAEMONS} daemons → all running`, s(c.allRunningMs), '', ''],
      ['(2)   of which: job write → last assignment', s(c.placedMs), '', ''],
      [`(2) kill -9 of a node (${c.moved} instances) → all ${E2E} running elsewhere`, s(c.recoveredMs), `session ${SESSION_MS / 1000} s + lostAfterMs ${LOST_AFTER_MS / 1000} s`, `${(c.recoveredMs / floorE2E).toFixed(2)}x`],
      ['(2)   less lostAfterMs', s(c.recoveredMs - LOST_AFTER_MS), '', ''],
      ['(2)   of which: its record gone (session expiry)', s(c.goneAt), '', ''],
      ['(2)   of which: its instances reassigned (last assignment)', s(c.reassignedMs), '', ''],
      ["(3) kill -9 of the leader → a new job's assignment written", s(c.failoverMs), `session timeout ${SESSION_MS / 1000} s`, `${(c.failoverMs / SESSION_MS).toFixed(2)}x`],
      ['(3)   less the session timeout', s(c.failoverMs - SESSION_MS), '', ''],
      ['(3)   of which: a new leader in GET /v1/status', s(c.newLeaderMs), '', ''],
    );
    notes.push(`(2) killed ${c.victim}; (3) killed ${c.oldLeader} (leading), ${c.newLeader} took over; the new assignment was seen by a polling client after ${s(c.assignedSeenMs)}`);
  }
  console.log(`\nnodee fleet scheduler benchmark${QUICK ? ' (--quick)' : ''}: a real ZooKeeper on 127.0.0.1, real daemons\n`);
  table(['measure', 'nodee', 'anchor', 'ratio'], rows);
  console.log();
  for (const n of notes) console.log(n);
  console.log(`(times by ZooKeeper's ctime where "assignment" is said; ${os.cpus().length} cpus, ${ROOT_USER ? 'root, a cgroup parent per daemon' : 'not root, no cgroups'}, load average ${load.map((l) => l.toFixed(1)).join(' → ')}, ${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

const deadline = setTimeout(() => {
  console.error(`scheduler benchmark: over ${QUICK ? 10 : 40} minutes, giving up`);
  cleanup().finally(() => process.exit(1));
}, (QUICK ? 10 : 40) * 60_000);
main()
  .then(cleanup, async (err) => {
    console.error(err);
    await cleanup();
    process.exitCode = 1;
  })
  .finally(() => {
    clearTimeout(deadline);
    setImmediate(() => process.exit());
  });
