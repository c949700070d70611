// Shared pieces of the registry tests: an independent ZooKeeper client to check what is
// really on the server, Presences with captured logs, and records shaped like the daemon's.
import { createRequire } from 'node:module';
import os from 'node:os';
import { waitFor } from '../helpers/tmp.mjs';
import registry from '../../dist/registry/index.js';
import logMod from '../../dist/lib/log.js';
import metricsMod from '../../dist/lib/metrics.js';

const require = createRequire(import.meta.url);
export const zookeeper = require('node-zookeeper-client');
export const { Presence, buildRecord, ClusterReader } = registry;
export { waitFor };

/** A plain node-zookeeper-client, connected, with promise-returning calls; closed at teardown. */
export async function observer(t, connect, { auth } = {}) {
  const c = zookeeper.createClient(connect, { sessionTimeout: 10000, spinDelay: 100 });
  if (auth) c.addAuthInfo('digest', Buffer.from(auth));
  const up = new Promise((resolve) => c.once('connected', resolve));
  c.connect();
  await up;
  t.teardown(() => c.close());
  const p = (fn) => (...args) => new Promise((resolve, reject) => fn.call(c, ...args, (err, ...res) => (err ? reject(err) : resolve(res))));
  const o = {
    client: c,
    sessionId: () => c.getSessionId().toString('hex'),
    async stat(path) {
      const [stat] = await p(c.exists)(path);
      return stat ? { version: stat.version, owner: stat.ephemeralOwner.toString('hex'), dataLength: stat.dataLength } : null;
    },
    async read(path) {
      try {
        const [data, stat] = await p(c.getData)(path);
        return { json: JSON.parse(data.toString('utf8')), owner: stat.ephemeralOwner.toString('hex'), version: stat.version };
      } catch (err) {
        if (err.getCode?.() === zookeeper.Exception.NO_NODE) return null;
        throw err;
      }
    },
    create: (path, data, mode = zookeeper.CreateMode.EPHEMERAL) => p(c.create)(path, Buffer.from(data), mode),
    mkdirp: (path) => p(c.mkdirp)(path),
    setData: (path, data) => p(c.setData)(path, Buffer.from(data), -1),
    remove: (path) => p(c.remove)(path, -1),
    children: async (path) => (await p(c.getChildren)(path))[0],
    data: async (path) => (await p(c.getData)(path))[0],
    close: () => c.close(),
  };
  return o;
}

/** A Presence with its own metrics registry and a captured JSON log; closed at teardown. */
export function makePresence(t, o) {
  const lines = [];
  const log = logMod.createLogger({ level: 'debug', destination: { write: (s) => lines.push(s) } });
  const metrics = metricsMod.createMetricsRegistry(false);
  const presence = new Presence({ sessionTimeoutMs: 2000, log, metrics, ...o });
  t.teardown(() => presence.close());
  return {
    presence,
    metrics,
    logs: () => lines.join(''),
    events: () => lines.map((l) => JSON.parse(l)),
    async metric(name, labels = {}) {
      const m = (await metrics.getMetricsAsJSON()).find((x) => x.name === name);
      const v = m?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
      return v?.value ?? 0;
    },
  };
}

/** NodeStatus/Service shapes as the daemon has them. */
export function fakeStatus(instance = 'web-17', over = {}) {
  return {
    instance,
    hostname: os.hostname(),
    version: '0.1.0',
    pid: process.pid,
    state: 'active',
    startedAt: new Date().toISOString(),
    console: { url: 'http://127.0.0.1:7070/', port: 7070 },
    zookeeper: { state: 'connected', path: '/x' },
    machine: { cpus: 2, memoryBytes: 8e9, freeMemoryBytes: 4e9, loadavg: [0.5, 0.25, 0.125], diskFreeBytes: 1e10 },
    counts: { artifacts: 0, services: 0, byState: {} },
    labels: { zone: 'eu-1a', ssd: 'true' },
    resources: { capacity: { memoryMB: 7000, cpu: 2, diskMB: 50000 }, reserved: { memoryMB: 512, cpu: 0.5, diskMB: 1024 } },
    containment: 'cgroup2',
    ...over,
  };
}

export function fakeService(i, state = 'running') {
  return {
    coordinate: `${i}.myservice.borud.fbu`,
    artifact: 'com.example:myservice:1.2.0',
    state,
    pid: 10000 + i,
    startedAt: new Date().toISOString(),
    restarts: 0,
    lastExit: null,
    runtimeDir: `/var/lib/nodee/runtime/fbu/borud/myservice/${i}`,
    ports: { http: 20000 + i },
    usage: { memoryBytes: null, cpuSeconds: null, pids: null },
    ready: state === 'running',
    statusText: null,
    checks: [],
    spec: { coordinate: `${i}.myservice.borud.fbu`, artifact: 'com.example:myservice:1.2.0', command: ['bin/myservice'] },
  };
}

export function fakeArtifact(id = 'com.example:myservice:1.2.0') {
  const [groupId, artifactId, version] = id.split(':');
  return { id, groupId, artifactId, version, state: 'installed', path: '/x', sizeBytes: 1, fileCount: 1, sha256: null, source: null, installedAt: null, progress: { bytes: 1, totalBytes: 1 } };
}

export function record(instance = 'web-17', services = 1, over = {}) {
  const svcs = Array.from({ length: services }, (_, i) => fakeService(i + 1));
  return buildRecord(fakeStatus(instance, over), [fakeArtifact()], svcs);
}

let seq = 0;
/** A fresh nodes path per test so tests can share one server. */
export function uniquePath(t) {
  return `/meta/t${process.pid}-${++seq}/nodes`;
}

/** Waits until the node at `path` exists with owner and (optionally) data matching. */
export function nodeOf(obs, path, check = () => true, what = `node ${path}`) {
  return waitFor(async () => {
    const n = await obs.read(path);
    return n && check(n) ? n : false;
  }, { timeoutMs: 20_000, what });
}
