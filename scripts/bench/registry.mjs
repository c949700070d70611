#!/usr/bin/env node
// ZooKeeper presence benchmark: how fast the node appears, follows changes and comes back
// after a session expiry, against a raw node-zookeeper-client doing the same by hand.
// Starts its own ZooKeeper (and daemons) on 127.0.0.1, cleans up, prints a table, exits.
// Run after `npx tsc -p .`:  node scripts/bench/registry.mjs
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startZookeeper } from '../../test/helpers/zookeeper.mjs';
import { startProxy } from '../../test/helpers/tcp-proxy.mjs';
import { fakeStatus, fakeService, fakeArtifact } from '../../test/registry/_zk.mjs';
import registry from '../../dist/registry/index.js';
import logMod from '../../dist/lib/log.js';
import metricsMod from '../../dist/lib/metrics.js';
import { DAEMON_NODE_FLAGS } from '../../dist/daemon/node-flags.js';

const require = createRequire(import.meta.url);
const zookeeper = require('node-zookeeper-client');
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { Presence, buildRecord, encodeRecord } = registry;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);

const cleanups = [];
const t = { teardown: (fn) => cleanups.push(fn) };
async function cleanup() {
  for (const fn of cleanups.reverse()) await fn().catch?.(() => {});
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

function rawClient(connect) {
  const c = zookeeper.createClient(connect, { sessionTimeout: 10000, spinDelay: 100 });
  const up = new Promise((r) => c.once('connected', r));
  c.connect();
  return { c, up };
}
const cb = (fn) => new Promise((resolve, reject) => fn((err, ...res) => (err ? reject(err) : resolve(res))));

/**
 * Resolves (once the watch is set on the server, so no event can slip by) to a promise of
 * the moment `path` is created / changed, as a watching client sees it.
 */
async function watchFor(obs, p, type) {
  let fired;
  const seen = new Promise((resolve) => (fired = resolve));
  const w = (e) => (e.getName() === type ? fired(now()) : obs.exists(p, w, () => {}));
  await new Promise((resolve, reject) => obs.exists(p, w, (err) => (err ? reject(err) : resolve())));
  return { seen };
}

/** The moment a watching client sees the record at `p` satisfy `pred`. */
async function dataMatches(obs, p, pred) {
  for (;;) {
    let fired;
    const changed = new Promise((resolve) => (fired = resolve));
    const [data] = await cb((k) => obs.getData(p, () => fired(), k));
    if (pred(JSON.parse(data.toString('utf8')))) return now();
    await changed;
  }
}

function record(instance, services = 2) {
  return buildRecord(fakeStatus(instance), [fakeArtifact()], Array.from({ length: services }, (_, i) => fakeService(i + 1)));
}

function presence(connect, p, sessionTimeoutMs = 10000) {
  return new Presence({ connect, path: p, sessionTimeoutMs, log: logMod.silentLogger(), metrics: metricsMod.createMetricsRegistry(false) });
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (f) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { median: q(0.5), p95: q(0.95), n: s.length };
}

async function main() {
  const zk = await startZookeeper(t);
  const obs = rawClient(zk.connect);
  await obs.up;
  t.teardown(async () => obs.c.close());
  await cb((k) => obs.c.mkdirp('/bench/nodes', k));
  const rows = [];
  const step = (s) => process.env.BENCH_DEBUG && console.error(new Date().toISOString(), s);

  // 1. start → node visible
  step('1');
  const startNodee = [];
  const startRaw = [];
  for (let i = 0; i < ROUNDS; i++) {
    const p = `/bench/nodes/start-${i}`;
    let seen = (await watchFor(obs.c, p, 'NODE_CREATED')).seen;
    const t0 = now();
    const pr = presence(zk.connect, p);
    pr.start();
    pr.setData(record('start'));
    startNodee.push((await seen) - t0);
    await pr.close();

    const q = `/bench/nodes/raw-${i}`;
    seen = (await watchFor(obs.c, q, 'NODE_CREATED')).seen;
    const t1 = now();
    const raw = rawClient(zk.connect);
    await raw.up;
    await cb((k) => raw.c.create(q, encodeRecord(record('raw')), zookeeper.CreateMode.EPHEMERAL, k));
    startRaw.push((await seen) - t1);
    raw.c.close();
  }
  rows.push(['start → node visible (Presence vs raw connect+create)', stats(startNodee), stats(startRaw)]);

  // 2. setData → record visible to a watcher; changes a quiet second apart (a storm waits out
  //    the 950 ms write gap instead: see the burst rows), so only the 50 ms coalescing window
  step('2');
  const p = '/bench/nodes/data';
  const pr = presence(zk.connect, p);
  pr.start();
  let seen = (await watchFor(obs.c, p, 'NODE_CREATED')).seen;
  pr.setData(record('data'));
  await seen;
    const raw = rawClient(zk.connect);
  await raw.up;
  const q = '/bench/nodes/data-raw';
  await cb((k) => raw.c.create(q, encodeRecord(record('raw')), zookeeper.CreateMode.EPHEMERAL, k));
  const setNodee = [];
  const setRaw = [];
  for (let i = 0; i < ROUNDS; i++) {
    await sleep(1000);
    seen = (await watchFor(obs.c, p, 'NODE_DATA_CHANGED')).seen;
    const t0 = now();
    pr.setData(record('data', i % 5));
    setNodee.push((await seen) - t0);
        seen = (await watchFor(obs.c, q, 'NODE_DATA_CHANGED')).seen;
    const t1 = now();
    raw.c.setData(q, encodeRecord(record('raw', i % 5)), -1, () => {});
    setRaw.push((await seen) - t1);
  }
  rows.push(['setData after a quiet second → watcher sees it (50 ms coalescing)', stats(setNodee), stats(setRaw)]);

  // 3. a burst of 1,000 changes: how many writes, how long until the last is visible
  step('3');
  const m = metricsMod.createMetricsRegistry(false);
  const bp = new Presence({ connect: zk.connect, path: '/bench/nodes/burst', sessionTimeoutMs: 10000, log: logMod.silentLogger(), metrics: m });
  bp.start();
  seen = (await watchFor(obs.c, '/bench/nodes/burst', 'NODE_CREATED')).seen;
  bp.setData(record('burst', 0));
  await seen;
  await sleep(300);
  const b0 = now();
  for (let i = 1; i <= 1000; i++) bp.setData(record('burst', i % 50));
  const last = record('burst', 77);
  bp.setData(last);
  for (;;) {
    const [data] = await cb((k) => obs.c.getData('/bench/nodes/burst', k));
    if (JSON.parse(data.toString()).services.length === 77) break;
    await sleep(5);
  }
  const burstMs = now() - b0;
  const writes = (await m.getMetricsAsJSON()).find((x) => x.name === 'nodee_zk_writes_total').values.filter((v) => v.labels.op === 'set').reduce((a, v) => a + v.value, 0);
  await bp.close();

  // 4. session expiry (proxy cut for longer than the 1 s session) → node re-created
  step('4');
  const proxy = await startProxy(t, { targetPort: zk.port });
  const detect = [];
  const recreate = [];
  for (let i = 0; i < Math.min(ROUNDS, 8); i++) {
    const ep = `/bench/nodes/expiry-${i}`;
    const m2 = metricsMod.createMetricsRegistry(false);
    const e = new Presence({ connect: proxy.connect, path: ep, sessionTimeoutMs: 1000, log: logMod.silentLogger(), metrics: m2 });
    e.start();
    seen = (await watchFor(obs.c, ep, 'NODE_CREATED')).seen;
    e.setData(record('expiry'));
    await seen;
    const t0 = now();
    proxy.cut('reset');
    for (;;) {
      const v = (await m2.getMetricsAsJSON()).find((x) => x.name === 'nodee_zk_session_expiries_total').values[0]?.value ?? 0;
      if (v >= 1) break;
      await sleep(5);
    }
    detect.push(now() - t0);
    // wait for the server to drop the old node too, then heal the link
    for (;;) {
      const [st] = await cb((k) => obs.c.exists(ep, k));
      if (!st) break;
      await sleep(20);
    }
    seen = (await watchFor(obs.c, ep, 'NODE_CREATED')).seen;
    const t1 = now();
    proxy.restore();
    recreate.push((await seen) - t1);
    await e.close();
  }
  rows.push(['cut → expiry detected while cut off (1 s session)', stats(detect), null]);
  rows.push(['link back → node re-created (new session)', stats(recreate), null]);

  // raw client after the same expiry: it never comes back by itself
  const rp = '/bench/nodes/raw-expiry';
  const rc = zookeeper.createClient(proxy.connect, { sessionTimeout: 1000, spinDelay: 100 });
  let rawExpired = false;
  rc.on('expired', () => (rawExpired = true));
  const rcUp = new Promise((r) => rc.once('connected', r));
  rc.connect();
  await rcUp;
  await cb((k) => rc.create(rp, Buffer.from('{}'), zookeeper.CreateMode.EPHEMERAL, k));
  proxy.cut('reset');
  await sleep(2500);
  const rawDisconnectedOnly = !rawExpired;
  proxy.restore();
  await sleep(3000);
  const [rawBack] = await cb((k) => obs.c.exists(rp, k));
  rc.close();

  // 5. daemon start → node visible, and a node state change (drain) → record updated
  step('5');
  const dStart = [];
  const dDrain = [];
  for (let i = 0; i < 3; i++) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'nodee-bench-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const cfg = path.join(dir, 'nodee.yaml');
    const dp = `/bench/daemons/d${i}`;
    await writeFile(cfg, JSON.stringify({ prefix: path.join(dir, 'prefix'), instance: `d${i}`, api: { listen: '127.0.0.1:0' }, zookeeper: { connect: zk.connect, nodesPath: '/bench/daemons', sessionTimeoutMs: 4000 } }));
    seen = (await watchFor(obs.c, dp, 'NODE_CREATED')).seen;
    const t0 = now();
    const { proc, exited, started } = launchDaemon(cfg);
    dStart.push((await seen) - t0);
    const url = await started;
    const t1 = now();
    await fetch(new URL('/v1/drain', url), { method: 'POST' });
    dDrain.push((await dataMatches(obs.c, dp, (r) => r.state === 'draining')) - t1);
    proc.kill('SIGTERM');
    await exited;
  }
  rows.push(['daemon start → node visible (process spawn included)', stats(dStart), null]);
  rows.push(['POST /v1/drain → record updated (daemon)', stats(dDrain), null]);

  // 7. a real daemon, 1,000 services started by 16 concurrent POSTs (a deploy script): how
  //    many writes of the node record, and how long until the record shows them all
  step('7');
  const burst = await startBurstDaemon(zk.connect);
  rows.push(['1,000 API starts → record shows all running (daemon)', { median: burst.ms, p95: burst.ms }, null]);

  // 6. record size
  step('6');
  const services = Array.from({ length: 1000 }, (_, i) => {
    const s = fakeService(i + 1);
    s.coordinate = `${i + 1}.a-rather-long-service-name.team-name-here.production-cell`;
    s.ports = { http: 20000 + i, admin: 21000 + i, metrics: 22000 + i };
    return s;
  });
  const bytes = encodeRecord(buildRecord(fakeStatus('web-17'), Array.from({ length: 100 }, (_, i) => fakeArtifact(`com.example.platform:service-${i}:1.2.${i}`)), services)).length;

  const f = (x) => (x === undefined ? '-' : x.toFixed(1));
  console.log(`\nnodee registry benchmark (${ROUNDS} rounds; ms, median / p95)\n`);
  console.log('measure'.padEnd(56) + 'nodee'.padEnd(20) + 'raw client'.padEnd(20) + 'ratio');
  for (const [name, a, b] of rows) {
    console.log(name.padEnd(56) + `${f(a.median)} / ${f(a.p95)}`.padEnd(20) + (b ? `${f(b.median)} / ${f(b.p95)}` : 'n/a').padEnd(20) + (b ? (a.median / b.median).toFixed(2) + 'x' : ''));
  }
  console.log(`\nburst of 1,001 setData calls: ${writes} write${writes === 1 ? "" : "s"}, last record visible after ${burstMs.toFixed(0)} ms`);
  console.log(`raw client after the same cut: ${rawDisconnectedOnly ? 'no "expired" event while cut off' : 'expired event while cut off'}; node ${rawBack ? 're-created' : 'never re-created (the library does not recover from expiry)'}`);
  console.log(`1,000 services started through the API on a real daemon: ${burst.writes} writes of the node record (${burst.ms.toFixed(0)} ms to the last)`);
  console.log(`record with 1,000 services and 100 artifacts: ${bytes} bytes = ${((bytes / (1024 * 1024)) * 100).toFixed(1)} % of ZooKeeper's 1 MiB limit`);
}

/** The built daemon on `cfg`, killed at teardown; `started` resolves to its API URL. */
function launchDaemon(cfg) {
  const proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, path.join(ROOT, 'dist', 'cli.js'), 'daemon', '--config', cfg], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((r) => proc.once('exit', r));
  t.teardown(async () => {
    if (proc.exitCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  const started = (async () => {
    let url;
    while (!(url = /"url":"([^"]+)","msg":"nodee started"/.exec(out)?.[1])) await sleep(10);
    return url;
  })();
  return { proc, exited, started };
}

/** One daemon registered in `connect`; 1,000 `sleep` services POSTed 16 at a time. */
async function startBurstDaemon(connect) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nodee-bench-burst-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const art = path.join(dir, 'art');
  await mkdir(path.join(art, 'bin'), { recursive: true });
  await writeFile(path.join(art, 'bin', 'sleeper'), '#!/bin/sh\nexec sleep 100000\n', { mode: 0o755 });
  execFileSync('zip', ['-qr', path.join(dir, 'svc.zip'), '.'], { cwd: art });
  const cfg = path.join(dir, 'nodee.yaml');
  const prefix = path.join(dir, 'prefix');
  await writeFile(cfg, JSON.stringify({ prefix, instance: 'burst', api: { listen: '127.0.0.1:0' }, zookeeper: { connect, nodesPath: '/bench/burst', sessionTimeoutMs: 10000 } }));
  const { proc, exited, started } = launchDaemon(cfg);
  t.teardown(async () => {
    try {
      execFileSync('pkill', ['-KILL', '-f', 'sleep 100000']);
    } catch {}
  });
  const url = await started;
  const api = (method, p, body) => fetch(new URL(p, url), { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  await (await api('PUT', '/v1/artifacts/bench/svc/1.0.0', { url: `file://${path.join(dir, 'svc.zip')}` })).text();
  const setWrites = async () => {
    const text = await (await api('GET', '/metrics')).text();
    return Number(/^nodee_zk_writes_total\{op="set"\} (\d+)/m.exec(text)?.[1] ?? 0);
  };
  await sleep(1500); // the install's record update is out of the way
  const before = await setWrites();
  const t0 = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < 1000) {
        const i = next++;
        await (await api('POST', '/v1/services', { coordinate: `${i}.svc.bench.cell`, artifact: 'bench:svc:1.0.0', command: ['bin/sleeper'], restart: { policy: 'never' } })).text();
      }
    }),
  );
  const raw = rawClient(connect);
  await raw.up;
  await dataMatches(raw.c, '/bench/burst/burst', (r) => r.services.filter((x) => x.state === 'running').length === 1000);
  const ms = now() - t0;
  await sleep(1200); // a write still coalescing is counted too
  const writes = (await setWrites()) - before;
  raw.c.close();
  proc.kill('SIGTERM');
  await exited;
  return { writes, ms };
}

const deadline = setTimeout(() => {
  console.error('registry benchmark: over 5 minutes, giving up');
  cleanup().finally(() => process.exit(1));
}, 5 * 60_000);
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
