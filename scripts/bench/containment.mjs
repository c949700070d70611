#!/usr/bin/env node
// Containment benchmark: stopping a 50-process tree, side by side in one run (interleaved).
//   (a) nodee's ServiceCgroup.kill(): cgroup.kill on the cgroup (here the hybrid host's unified
//       mirror), then wait until the cgroup is empty;
//   (b) process group: kill(-pgid, SIGKILL), then a /proc scan for processes that left the group
//       but kept the service's NODEE_RUNTIME_DIR (what nodee without cgroups does,
//       src/services/process-table.ts), SIGKILL those, wait until all are gone, scan again to confirm;
//   (c) tree-kill 1.2.2 (npm; PM2 ships a copy of it): walks the tree with `ps --ppid`, SIGKILLs
//       every pid found, then we wait until all of those are gone.
// The tree: a shell (group and session leader, as a supervisor spawns a service) that forks 49
// `sleep`s: 34 plain children, 5 `setsid sleep` (own session, still its children), 5 double-forked
// through `setsid sh -c 'sleep &'` (own session, reparented to init, environment kept) and 5 the
// same with `env -i` (no NODEE_RUNTIME_DIR left). Every tree runs in a cgroup of its own, made by
// nodee's Cgroups under a unique parent /nodee-bench-<hex>, whichever method stops it: that is how
// the benchmark counts what a method left alive (and kills it afterwards). Time is from the kill
// call until the method is done and every process it ended is gone (zombies count as gone: the
// reaper is not the method's business). Needs root and cgroups; otherwise it says so and exits 0.
// Run after `npx tsc -p .`:  node scripts/bench/containment.mjs [--quick] [--runs N]
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import treeKill from 'tree-kill';
import { Cgroups } from '../../dist/cgroups/index.js';
import { parseStat } from '../../dist/lib/proc.js';
import { benchParent, removeCgroupParent } from './lib/cgroups.mjs';

const QUICK = process.argv.includes('--quick');
const runsAt = process.argv.indexOf('--runs');
const RUNS = runsAt > 0 ? Number(process.argv[runsAt + 1]) : QUICK ? 5 : 15;
const TREE = { plain: 34, setsidChild: 5, setsidOrphan: 5, setsidOrphanNoEnv: 5 };
const TOTAL = 1 + TREE.plain + TREE.setsidChild + TREE.setsidOrphan + TREE.setsidOrphanNoEnv; // 50
/** After a method is done: how long deaths are still watched for, before what is alive counts as left alive. */
const AFTER_MS = 300;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

if (process.getuid?.() !== 0) {
  console.log('containment: not run (needs root to make cgroups)');
  process.exit(0);
}

const parent = benchParent();
const warnings = [];
const log = { info() {}, debug() {}, error() {}, warn: (o, msg) => warnings.push(`${msg}: ${o?.reason ?? ''}`) };
const cgroups = await Cgroups.detect({ parent, instance: 'bench', log });
// whatever happens, nothing is left: every tree is in a cgroup under `parent`
process.on('exit', () => removeCgroupParent(parent));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
if (cgroups.containment === 'none') {
  console.log(`containment: not run (no cgroups: ${cgroups.reason ?? warnings.join('; ')})`);
  process.exit(0);
}

// ---- the tree -------------------------------------------------------------------------------------

const TREE_SCRIPT = [
  `i=0; while [ $i -lt ${TREE.plain} ]; do sleep 1000 & i=$((i+1)); done`,
  `i=0; while [ $i -lt ${TREE.setsidChild} ]; do setsid sleep 1000 & i=$((i+1)); done`,
  // foreground: setsid (not a group leader here, so it does not fork) execs sh, which forks
  // sleep and exits: the sleep ends up in a session of its own, a child of init
  `i=0; while [ $i -lt ${TREE.setsidOrphan} ]; do setsid sh -c 'sleep 1000 &'; i=$((i+1)); done`,
  `i=0; while [ $i -lt ${TREE.setsidOrphanNoEnv} ]; do setsid sh -c 'env -i sleep 1000 &'; i=$((i+1)); done`,
  'wait',
].join('\n');

/** Live, non-zombie: the pid still names the process that started at `start`. */
function alive(pid, start) {
  try {
    const st = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return st.state !== 'Z' && st.startTime === start;
  } catch {
    return false;
  }
}

/**
 * A service as a supervisor spawns it: its own session and process group (detached), with a
 * NODEE_RUNTIME_DIR marker, entering its cgroup before exec the way nodee's runner does.
 */
async function spawnTree(run, method) {
  const cg = await cgroups.create(`run-${run}-${method}`, {});
  const marker = `/bench/${parent}/${run}/${method}`;
  const child = spawn('/bin/sh', ['-c', 'for f in $NODEE_PROCS; do echo $$ > "$f" || exit 99; done; exec sh -c "$TREE"'], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH, NODEE_PROCS: cg.procsFiles.join(' '), TREE: TREE_SCRIPT, NODEE_RUNTIME_DIR: marker },
  });
  child.on('error', () => {});
  const exited = new Promise((r) => child.once('exit', r));
  // ready: 50 processes in the cgroup, 49 of them sleeping (the intermediate shells are gone)
  const deadline = Date.now() + 10_000;
  let procs;
  for (;;) {
    const pids = await cg.pids();
    procs = pids.map((pid) => {
      try {
        const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return { pid, start: parseStat(text).startTime, comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')) };
      } catch {
        return { pid, start: NaN, comm: '?' };
      }
    });
    if (procs.length === TOTAL && procs.filter((p) => p.comm === 'sleep').length === TOTAL - 1) break;
    if (Date.now() > deadline) throw new Error(`tree not ready: ${procs.length} processes, ${procs.filter((p) => p.comm === 'sleep').length} sleeping`);
    await sleep(5);
  }
  return { cg, root: child.pid, marker, procs, exited };
}

// ---- the three ways to stop it -----------------------------------------------------------------------

async function byCgroup(tree) {
  await tree.cg.kill();
}

/** The directory with cgroup.kill: the unified mirror on a hybrid host, the one directory on cgroup2. */
const killDir = (cg) => (cg.procsFiles.find((f) => f.includes('/unified/')) ?? cg.procsFiles[0]).replace(/cgroup\.procs$/, '');

/**
 * Reference, not a competitor: cgroup.kill, then nothing but reads of cgroup.events until it says
 * `populated 0`. What the kernel takes; the gap to (a) is ServiceCgroup.kill()'s own checking.
 */
async function byCgroupFloor(tree) {
  const dir = killDir(tree.cg);
  await writeFile(`${dir}cgroup.kill`, '1');
  while (!/^populated 0$/m.test(await readFile(`${dir}cgroup.events`, 'utf8')));
}

/** /proc, the way src/services/process-table.ts reads it (without its 50 ms shared-scan cache). */
async function scanProc(marker) {
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number).filter((p) => p !== process.pid);
  const out = [];
  for (let i = 0; i < pids.length; i += 64) {
    const got = await Promise.all(
      pids.slice(i, i + 64).map(async (pid) => {
        try {
          const st = parseStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
          let marked = false;
          try {
            const env = await readFile(`/proc/${pid}/environ`, 'utf8');
            const at = env.indexOf(`NODEE_RUNTIME_DIR=${marker}\0`);
            marked = at === 0 || (at > 0 && env[at - 1] === '\0');
          } catch {}
          return { pid, pgid: st.pgid, zombie: st.state === 'Z', start: st.startTime, marked };
        } catch {
          return undefined;
        }
      }),
    );
    for (const e of got) if (e) out.push(e);
  }
  return out;
}

async function waitGone(procs) {
  while (procs.some((p) => alive(p.pid, p.start))) await sleep(1);
}

function sigkill(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {} // gone already
}

async function byProcessGroup(tree) {
  const pgid = tree.root; // the service is its group's leader
  sigkill(-pgid);
  for (;;) {
    // members still dying, a late fork, and whatever left the group but kept the marker
    const live = (await scanProc(tree.marker)).filter((e) => !e.zombie && (e.pgid === pgid || e.marked));
    if (live.length === 0) return;
    for (const e of live) sigkill(e.pid);
    await waitGone(live);
  }
}

async function byTreeKill(tree) {
  const signalled = [];
  const kill = process.kill;
  process.kill = (pid, sig) => {
    signalled.push(Number(pid));
    return kill.call(process, pid, sig);
  };
  try {
    await new Promise((resolve, reject) => treeKill(tree.root, 'SIGKILL', (err) => (err ? reject(err) : resolve())));
  } finally {
    process.kill = kill;
  }
  const byPid = new Map(tree.procs.map((p) => [p.pid, p]));
  await waitGone(signalled.map((pid) => byPid.get(pid) ?? { pid, start: NaN }).filter((p) => Number.isFinite(p.start)));
}

const METHODS = [
  { key: 'cgroup', name: "nodee: ServiceCgroup.kill() (cgroup.kill)", fn: byCgroup },
  { key: 'pgroup', name: 'process group + /proc scan for the marker', fn: byProcessGroup },
  { key: 'treekill', name: 'tree-kill 1.2.2 (PM2)', fn: byTreeKill },
  { key: 'floor', name: 'reference: cgroup.kill + read cgroup.events until empty', fn: byCgroupFloor },
];
{
  // the reference needs cgroup.kill (cgroup2 or the hybrid mirror, kernel >= 5.14)
  const probe = await cgroups.create('probe', {});
  if (!existsSync(`${killDir(probe)}cgroup.kill`)) METHODS.pop();
  await probe.remove();
}

/** One stop: ms until done and every process it ended gone; how many of the 50 it left alive. */
async function measure(method, run) {
  const tree = await spawnTree(run, method.key);
  await sleep(20); // let the tree settle (the last forks' exits)
  const t0 = now();
  await method.fn(tree);
  let end = now();
  // deaths after the method said done still count against it
  let alive0 = tree.procs.filter((p) => alive(p.pid, p.start)).length;
  const until = now() + AFTER_MS;
  while (now() < until) {
    const a = tree.procs.filter((p) => alive(p.pid, p.start)).length;
    if (a < alive0) {
      alive0 = a;
      end = now();
    }
    await sleep(2);
  }
  const left = tree.procs.filter((p) => alive(p.pid, p.start));
  await tree.cg.kill(); // what the method missed
  await tree.exited;
  await tree.cg.remove();
  return { ms: end - t0, left: left.length };
}

const started = Date.now();
const results = Object.fromEntries(METHODS.map((m) => [m.key, { ms: [], left: [] }]));
for (let run = 0; run < RUNS; run++) {
  // interleaved, and the order rotates so no method always goes first
  for (let k = 0; k < METHODS.length; k++) {
    const m = METHODS[(run + k) % METHODS.length];
    const r = await measure(m, run);
    results[m.key].ms.push(r.ms);
    results[m.key].left.push(r.left);
  }
}

const f = (v) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
const base = pct(results.cgroup.ms, 50);
const head = ['method', 'median', 'p90', 'max', `left alive (of ${TOTAL})`, 'nodee vs it'];
const rows = METHODS.map((m) => {
  const r = results[m.key];
  const leftMin = Math.min(...r.left);
  const leftMax = Math.max(...r.left);
  const med = pct(r.ms, 50);
  return [m.name, f(med), f(pct(r.ms, 90)), f(Math.max(...r.ms)), leftMin === leftMax ? String(leftMin) : `${leftMin}-${leftMax}`, m.key === 'cgroup' ? '' : `${(med / base).toFixed(1)}x`];
});
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(`\nstop a ${TOTAL}-process tree (${RUNS} runs each, interleaved): ${TREE.plain} plain children, ${TREE.setsidChild} setsid children, ${TREE.setsidOrphan} setsid + double fork (marker kept), ${TREE.setsidOrphanNoEnv} setsid + double fork + env -i\n`);
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
console.log(`\n("nodee vs it": the method's median over nodee's; ${os.cpus().length} cpus, ${cgroups.containment}, ${((Date.now() - started) / 1000).toFixed(0)} s)`);
process.exit(0);
