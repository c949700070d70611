#!/usr/bin/env node
// Artifact install benchmark: nodee (download + sha256 + unpack through the real daemon's
// REST API) against `curl -o` + `sha256sum` + `unzip -q`, side by side, from one loopback
// HTTP server. Data is generated under /tmp and deleted afterwards.
//
//   node scripts/bench/artifacts.mjs [--runs N] [--only small|large] [--rate MBps]
//
// --rate paces the server's bodies (e.g. 100 for a gigabit link), for a network-bound
// download instead of a loopback one.
//
// Needs dist/ (npm run build), zip, unzip, curl, sha256sum.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../../dist/daemon/node-flags.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const args = process.argv.slice(2);
const RUNS = Number(args[args.indexOf('--runs') + 1] || 0) || 3;
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const RATE = args.includes('--rate') ? Number(args[args.indexOf('--rate') + 1]) * 1e6 : undefined;

/** Sends a file, paced to RATE bytes per second when one is given. */
function send(file, res, start = 0) {
  const stream = createReadStream(file, { start, highWaterMark: RATE ? 256 * 1024 : 1024 * 1024 });
  if (!RATE) return stream.pipe(res);
  const t0 = Date.now();
  let sent = 0;
  stream.on('data', (chunk) => {
    sent += chunk.length;
    res.write(chunk);
    const ahead = (sent / RATE) * 1000 - (Date.now() - t0);
    if (ahead > 1) {
      stream.pause();
      setTimeout(() => stream.resume(), ahead);
    }
  });
  stream.on('end', () => res.end());
  res.on('close', () => stream.destroy());
}

const DATASETS = [
  { name: 'small', label: '3,000 small files', files: 3000, totalBytes: 120 * 1024 ** 2 },
  { name: 'large', label: '300 large files', files: 300, totalBytes: 500 * 1024 ** 2 },
].filter((d) => !ONLY || d.name === ONLY);

const WORDS = 'the quick brown fox jumps over lazy dog service artifact node daemon supervisor config java class method return value public static void main string int long package import'.split(' ');

/** Half text-like (compresses ~4x, like sources and configs), half random (like jars and images). */
function content(size, seed) {
  if (seed % 2 === 0) return randomBytes(size);
  let s = '';
  let x = seed;
  while (s.length < size) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += WORDS[x % WORDS.length] + (x % 7 === 0 ? '\n' : ' ');
  }
  return Buffer.from(s.slice(0, size));
}

function makeDataset(base, d) {
  const src = path.join(base, `${d.name}-src`);
  const per = Math.floor(d.totalBytes / d.files);
  for (let i = 0; i < d.files; i++) {
    const dir = path.join(src, 'app', `pkg${i % 40}`, `sub${i % 7}`);
    mkdirSync(dir, { recursive: true });
    // sizes vary around the mean, as real trees do
    const size = Math.max(1, Math.floor(per * (0.5 + ((i * 7919) % 100) / 100)));
    writeFileSync(path.join(dir, `file${i}.dat`), content(size, i));
  }
  const repo = path.join(base, 'repo', 'bench', d.name, '1');
  mkdirSync(repo, { recursive: true });
  const zip = path.join(repo, `${d.name}-1.zip`);
  execFileSync('zip', ['-q', '-r', zip, 'app'], { cwd: src });
  rmSync(src, { recursive: true, force: true });
  const unpacked = Number(execFileSync('unzip', ['-Zt', zip]).toString().match(/(\d+) bytes uncompressed/)[1]);
  return { zip, zipBytes: statSync(zip).size, unpacked };
}

function serve(root) {
  const server = http.createServer((req, res) => {
    // /range/... answers suffix ranges (as nginx, S3 or a repository manager do), /plain/... does not
    const [, mode, ...rest] = decodeURIComponent(new URL(req.url, 'http://x').pathname).split('/');
    const file = path.join(root, ...rest);
    let st;
    try {
      st = statSync(file);
    } catch {
      res.writeHead(404).end();
      return;
    }
    const suffix = mode === 'range' && /^bytes=-(\d+)$/.exec(req.headers.range ?? '');
    if (suffix) {
      const start = Math.max(0, st.size - Number(suffix[1]));
      res.writeHead(206, { 'content-length': st.size - start, 'content-range': `bytes ${start}-${st.size - 1}/${st.size}` });
      send(file, res, start);
      return;
    }
    res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/zip' });
    send(file, res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function startDaemon(prefix, repoUrl, daemons) {
  const configFile = path.join(prefix, 'nodee.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({ prefix, instance: 'bench', api: { listen: '127.0.0.1:0' }, repositories: [{ url: repoUrl + '/{groupId}/bench/{artifactId}/{version}/{artifactId}-{version}.zip', checksum: 'ignore' }] }),
  );
  const proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, CLI, 'daemon', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODEE_LOG_LEVEL: 'info' } });
  daemons.push({ proc });
  let out = '';
  let err = '';
  proc.stderr.on('data', (c) => (err += c));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('daemon did not start: ' + err + out)), 20000);
    const poll = setInterval(async () => {
      for (const line of out.split('\n')) {
        if (line.includes('"nodee started"')) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve(JSON.parse(line).url.replace(/\/$/, ''));
        }
      }
    }, 20);
    proc.stdout.on('data', (c) => (out += c));
    proc.once('exit', (code) => reject(new Error(`daemon exited ${code}: ${err}`)));
  });
  return { proc, url };
}

function peakRssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmHWM:\s+(\d+)/)[1]) / 1024;
}

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmRSS:\s+(\d+)/)[1]) / 1024;
}

async function timeNodee(daemon, name, mode = 'range') {
  const p = `/v1/artifacts/${mode}/${name}/1`;
  const t0 = process.hrtime.bigint();
  const res = await fetch(daemon.url + p, { method: 'PUT' });
  const body = await res.json();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (res.status !== 201) throw new Error(`PUT ${p}: ${res.status} ${JSON.stringify(body)}`);
  const del = await fetch(daemon.url + p, { method: 'DELETE' });
  if (del.status !== 204) throw new Error(`DELETE ${p}: ${del.status}`);
  return secs;
}

async function timeCurlUnzip(url, work) {
  const t0 = process.hrtime.bigint();
  // async: the HTTP server lives in this process and must keep answering
  await new Promise((resolve, reject) => {
    const p = spawn('bash', ['-c', 'set -e; curl -sf -o "$2/a.zip" "$1"; sha256sum "$2/a.zip" >/dev/null; unzip -q "$2/a.zip" -d "$2/out"', 'bench', url, work], { stdio: 'inherit' });
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`curl+unzip exited ${code}`))));
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(path.join(work), { recursive: true, force: true });
  mkdirSync(work);
  return secs;
}

/** Where the daemon's time went, from its own histogram. */
async function phaseSeconds(url) {
  const text = await (await fetch(url + '/metrics')).text();
  return ['download', 'unpack', 'total']
    .map((p) => `${p} ${Number(text.match(new RegExp(`nodee_artifact_install_duration_seconds_sum\\{phase="${p}"\\} ([0-9.e+-]+)`))?.[1] ?? NaN).toFixed(2)}s`)
    .join(', ');
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const base = mkdtempSync(path.join(os.tmpdir(), 'nodee-bench-'));
  let server;
  const daemons = [];
  try {
    process.stderr.write(`generating data under ${base} ...\n`);
    const data = DATASETS.map((d) => ({ ...d, ...makeDataset(base, d) }));
    server = await serve(path.join(base, 'repo'));
    const repoUrl = `http://127.0.0.1:${server.address().port}`;
    const rows = [];
    for (const d of data) {
      // a fresh daemon per dataset, so its peak RSS belongs to that archive alone
      const prefix = mkdtempSync(path.join(base, 'prefix-'));
      const daemon = await startDaemon(prefix, repoUrl, daemons);
      const idleRss = rssMiB(daemon.proc.pid);
      const work = path.join(base, 'work');
      mkdirSync(work, { recursive: true });
      const url = `${repoUrl}/plain/bench/${d.name}/1/${d.name}-1.zip`;
      // one warm-up each so both read the archive from the page cache
      await timeNodee(daemon, d.name);
      await timeCurlUnzip(url, work);
      const ours = [];
      const plain = [];
      const theirs = [];
      // interleaved, in a rotating order, so a noisy neighbour hurts all three alike
      const steps = [
        async () => ours.push(await timeNodee(daemon, d.name, 'range')),
        async () => plain.push(await timeNodee(daemon, d.name, 'plain')),
        async () => theirs.push(await timeCurlUnzip(url, work)),
      ];
      for (let i = 0; i < RUNS; i++) {
        process.stderr.write(`${d.name}: run ${i + 1}/${RUNS}\n`);
        for (let k = 0; k < steps.length; k++) await steps[(i + k) % steps.length]();
      }
      const phases = await phaseSeconds(daemon.url);
      const show = (xs) => xs.map((x) => x.toFixed(2)).join(' ');
      process.stderr.write(`${d.name}: nodee ${show(ours)} | nodee, no ranges ${show(plain)} | curl+unzip ${show(theirs)} | nodee phases (sum of ${2 * RUNS + 1}): ${phases}\n`);
      rows.push({ d, ours: median(ours), plain: median(plain), theirs: median(theirs), idleRss, peakRss: peakRssMiB(daemon.proc.pid) });
      daemon.proc.kill('SIGTERM');
    }
    const mib = (n) => (n / 1024 ** 2).toFixed(0);
    console.log(`\nartifact install, median of ${RUNS} runs (${os.cpus().length} cpus, node ${process.version}, ${RATE ? `server paced to ${RATE / 1e6} MB/s` : 'loopback at full speed'})\n`);
    console.log('| archive | zip MiB | unpacked MiB | curl+sha256sum+unzip s | nodee s (ratio) | nodee, server without ranges s (ratio) | daemon RSS idle → peak MiB |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    const ratio = (x, base) => `${x.toFixed(2)} (${(x / base).toFixed(2)}x)`;
    for (const r of rows) {
      console.log(`| ${r.d.label} | ${mib(r.d.zipBytes)} | ${mib(r.d.unpacked)} | ${r.theirs.toFixed(2)} | ${ratio(r.ours, r.theirs)} | ${ratio(r.plain, r.theirs)} | ${r.idleRss.toFixed(0)} → ${r.peakRss.toFixed(0)} |`);
    }
    console.log('\ntarget: ratio ≤ 0.80x on both; peak RSS independent of archive size');
  } finally {
    for (const d of daemons) if (d.proc.exitCode === null) d.proc.kill('SIGKILL');
    server?.close();
    server?.closeAllConnections?.();
    execFileSync('chmod', ['-R', 'u+w', base]);
    rmSync(base, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
