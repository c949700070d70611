// A real cell for the fleet tests: one ZooKeeper, several real daemons on this host (each its
// own prefix, port, instance name and cgroup parent), an artifact repository on disk, and an
// observer client that writes jobs as `nodee cluster run` does and reads what the leader wrote.
import { chmod, copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startDaemon } from '../helpers/daemon.mjs';
import { portBlock } from '../helpers/ports.mjs';
import { tempDir, waitFor } from '../helpers/tmp.mjs';
import { observer, zookeeper } from '../registry/_zk.mjs';
import { scriptsZip } from '../services/e2e-helpers.mjs';
import { ensureUser } from '../security/_users.mjs';

export { waitFor, zookeeper };
export const CELL = '/meta/cell';
export const NODES = `${CELL}/nodes`;
export const ART = 'com.example:fleet:1.0.0';
const TEMPLATE = '/{groupPath}/{artifactId}/{version}/{artifactId}-{version}.zip';

export const PROGRAMS = {
  // stays up; its port answers HTTP so an http check or an endpoint can reach it
  'bin/web': `#!/usr/bin/python3
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
http.server.HTTPServer(("127.0.0.1", int(os.environ["NODEE_PORT_HTTP"])), H).serve_forever()
`,
  'bin/sleeper': '#!/bin/sh\nexec sleep 100000\n',
  // a batch task: notes each run in $RUNS (a directory every user may write), then exits 0
  'bin/ok': '#!/bin/sh\necho run >> "$RUNS/$NODEE_COORDINATE"\nsleep 0.3\nexit 0\n',
  'bin/fail': '#!/bin/sh\nexit 4\n',
};

/** A file:// repository holding the fleet artifact (versions 1.0.0 and 2.0.0). */
export async function repository(t) {
  const root = await tempDir(t, 'nodee-fleet-repo-');
  for (const version of ['1.0.0', '2.0.0']) {
    const zip = await scriptsZip(t, PROGRAMS);
    const dir = path.join(root, 'com', 'example', 'fleet', version);
    await mkdir(dir, { recursive: true });
    await copyFile(zip, path.join(dir, `fleet-${version}.zip`));
  }
  return { url: `file://${root}${TEMPLATE}` };
}

/** A daemon of the cell; `name` is its instance. */
export async function node(t, zk, name, { config = {}, prefix } = {}) {
  prefix ??= await tempDir(t, 'nodee-fleet-');
  await chmod(prefix, 0o755);
  const d = await startDaemon(t, {
    prefix,
    config: {
      instance: name,
      zookeeper: { connect: zk.connect, sessionTimeoutMs: 2000, nodesPath: NODES },
      scheduler: { lostAfterMs: 3000 },
      capacity: { memoryMB: 1000, cpu: 2, diskMB: 1000 },
      // clear of the default pool (20000-29999), the health tests' (10000-19999) and the kernel's ephemeral ports
      ports: portBlock(30000, 32760),
      ...config,
    },
  });
  d.name = name;
  return d;
}

/** The unprivileged user scheduled specs run as (a root spec needs scheduler.allowRoot). */
export const user = () => ensureUser('nodee-svc1');

export async function cell(t, zk) {
  const obs = await observer(t, zk.connect);
  const put = async (p, json) => {
    const data = Buffer.from(JSON.stringify(json));
    if (await obs.stat(p)) await new Promise((res, rej) => obs.client.setData(p, data, -1, (e) => (e ? rej(e) : res())));
    else await new Promise((res, rej) => obs.client.mkdirp(p, data, zookeeper.ACL.OPEN_ACL_UNSAFE, zookeeper.CreateMode.PERSISTENT, (e) => (e ? rej(e) : res())));
  };
  return {
    obs,
    /** Waits until each named node's record is in nodes/ (a job written before would not see them). */
    async live(names) {
      await waitFor(async () => {
        for (const n of names) if (!(await obs.stat(`${NODES}/${n}`))) return false;
        return true;
      }, { what: `records of ${names.join(', ')}` });
    },
    /** Writes jobs/<name> as `nodee cluster run` does. */
    job: (job) => put(`${CELL}/jobs/${job.name}`, { type: 'service', version: 1, ...job }),
    status: (name) => obs.read(`${CELL}/jobs/${name}/status`).then((r) => r?.json ?? null),
    async assigned() {
      const out = {};
      const kids = (p) => new Promise((res) => obs.client.getChildren(p, (e, c) => res(e ? [] : c)));
      for (const n of await kids(`${CELL}/assignments`)) out[n] = (await kids(`${CELL}/assignments/${n}`)).sort();
      return out;
    },
    /** Waits until the job's status satisfies `pred`; resolves the status. */
    until(name, pred, what, timeoutMs = 30_000) {
      let last;
      return waitFor(async () => {
        last = await obs.read(`${CELL}/jobs/${name}/status`).then((r) => r?.json ?? null);
        return last && pred(last) ? last : false;
      }, { what: `${name}: ${what}`, timeoutMs }).catch((err) => {
        err.message += `\nlast status: ${JSON.stringify(last)}`;
        throw err;
      });
    },
  };
}

export function webSpec(over = {}) {
  return { artifact: ART, command: ['bin/web'], ports: ['http'], user: user().name, stop: { timeoutSeconds: 2 }, ...over };
}
