// Shared pieces of the fleet-operator tests: a fresh cell per test on one real ZooKeeper, job
// files, node records and statuses written by hand exactly as daemons and the leader write them.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.mjs';
import { observer, record, zookeeper } from '../registry/_zk.mjs';
import { silentLogger } from '../../dist/lib/log.js';
import { ZkClient, whenConnected } from '../../dist/registry/index.js';
import { ClusterView, JobWriter } from '../../dist/scheduler/index.js';

export { zookeeper };
const PERSISTENT = zookeeper.CreateMode.PERSISTENT;

let seq = 0;
/** A cell of its own under the shared server: `nodesPath` and the cell root above it. */
export async function cell(t, connect) {
  const root = `/fleet${process.pid}/c${++seq}`;
  const obs = await observer(t, connect);
  const nodesPath = `${root}/nodes`;
  return {
    root,
    nodesPath,
    jobs: `${root}/jobs`,
    obs,
    /** The CLI's flags for this cell. */
    flags: ['--zookeeper', connect, '--nodes-path', nodesPath],
    /** A node's record, as its daemon publishes it (`services`: [coordinate, state, ready, ports]). */
    async node(name, { url = `http://${name}.example.com:7070/`, services = [], state = 'active' } = {}) {
      const r = record(name, 0, { state, console: { url, port: 7070 } });
      r.services = services.map(([coordinate, st, ready, ports = {}]) => ({ coordinate, artifact: 'com.example:web:1.0.0', state: st, pid: 1, ports, ready }));
      await obs.mkdirp(nodesPath);
      await obs.create(`${nodesPath}/${name}`, JSON.stringify(r), PERSISTENT);
      return r;
    },
    /** The status the leader would write for job `name`. */
    async status(name, version, instances, pending = []) {
      const counts = {};
      for (const i of instances) counts[i.state] = (counts[i.state] ?? 0) + 1;
      const data = JSON.stringify({ job: name, version, instances, counts, pending, updatedAt: new Date().toISOString() });
      await put(obs, `${root}/jobs/${name}/status`, data);
    },
    /** Raw data at jobs/<name> (anyone's garbage included). */
    raw: (name, data) => put(obs, `${root}/jobs/${name}`, data),
    job: async (name) => (await obs.read(`${root}/jobs/${name}`))?.json ?? null,
  };
}

async function put(obs, p, data) {
  if (await obs.stat(p)) await obs.setData(p, data);
  else {
    await obs.mkdirp(path.posix.dirname(p));
    await obs.create(p, data, PERSISTENT);
  }
}

/** A job file (YAML) in a temp dir; `over` replaces top-level keys. */
export async function jobFile(t, over = {}, name = 'job.yaml') {
  const job = { name: 'web.borud.fbu', count: 2, spec: { artifact: 'com.example:web:1.0.0', ports: ['http', 'admin'], user: 'borud', resources: { memoryMB: 64 } }, ...over };
  const file = path.join(await tempDir(t), name);
  await writeFile(file, yamlOf(job));
  return { file, job };
}

/** A small YAML writer for job files: nested maps and lists of scalars, as an operator writes them. */
function yamlOf(v, indent = '') {
  return Object.entries(v)
    .map(([k, x]) => {
      if (Array.isArray(x)) return `${indent}${k}: [${x.map((e) => JSON.stringify(e)).join(', ')}]\n`;
      if (x && typeof x === 'object') return `${indent}${k}:\n${yamlOf(x, indent + '  ')}`;
      return `${indent}${k}: ${JSON.stringify(x)}\n`;
    })
    .join('');
}

/** A ClusterView and JobWriter on their own session (the digest, if given, authenticates it). */
export async function direct(t, connect, c, { digest } = {}) {
  const client = new ZkClient({ connect, sessionTimeoutMs: 10_000, log: silentLogger(), ...(digest ? { digest } : {}) });
  client.start();
  t.teardown(() => client.close());
  await whenConnected(client, connect, 10_000);
  const view = new ClusterView({ client, cellPath: c.root, nodesPath: c.nodesPath });
  return { client, view, writer: new JobWriter({ view, protect: digest !== undefined }) };
}
