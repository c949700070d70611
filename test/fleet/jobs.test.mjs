import test from 'ava';
import { chmod, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../helpers/tmp.mjs';
import { startZookeeper } from '../helpers/zookeeper.mjs';
import { ART, cell, node, repository, waitFor, webSpec } from './_fleet.mjs';

// Job kinds and job changes: a batch job runs each instance once (exit 0 is complete and
// stays done; a failure is retried elsewhere, then failed); a new job version with another
// artifact upgrades the running instance in place.

test('batch: 10 tasks each complete once and stay done; a failing task is retried and ends failed', async (t) => {
  const zk = await startZookeeper(t);
  const repo = await repository(t);
  const ds = await Promise.all(['node-a', 'node-b'].map((n) => node(t, zk, n, { config: { repositories: [repo] } })));
  const c = await cell(t, zk);
  await c.live(['node-a', 'node-b']);
  const runs = await tempDir(t, 'nodee-batch-runs-');
  await chmod(runs, 0o1777);
  await c.job({ name: 'once.alice.cell', type: 'batch', count: 10, spec: webSpec({ command: ['bin/ok'], ports: [], env: { RUNS: runs } }) });
  const done = await c.until('once.alice.cell', (s) => s.counts.complete === 10, 'all ten complete', 60_000);
  t.is(done.instances.length, 10);
  t.deepEqual(done.pending, []);
  // complete instances leave nothing behind on the nodes, and are not run again
  await waitFor(async () => {
    const all = await Promise.all(ds.map(async (d) => (await d.api('GET', '/v1/services')).body.services.length));
    return all.every((n) => n === 0);
  }, { what: 'the nodes to remove the finished runs' });
  await new Promise((r) => setTimeout(r, 2500));
  t.is((await c.status('once.alice.cell')).counts.complete, 10, 'still complete, not run again');
  const files = (await readdir(runs)).sort();
  t.is(files.length, 10);
  for (const f of files) t.is(await readFile(path.join(runs, f), 'utf8'), 'run\n', `${f} ran exactly once`);

  await c.job({ name: 'bad.alice.cell', type: 'batch', count: 1, spec: webSpec({ command: ['bin/fail'], ports: [] }) });
  const failed = await c.until('bad.alice.cell', (s) => s.counts.failed === 1, 'failed after its retries', 60_000);
  t.is(failed.instances[0].state, 'failed');
});

test('a new job version with another artifact upgrades the instance in place', async (t) => {
  const zk = await startZookeeper(t);
  const repo = await repository(t);
  const [a] = await Promise.all(['node-a'].map((n) => node(t, zk, n, { config: { repositories: [repo] } })));
  const c = await cell(t, zk);
  await c.live(['node-a']);
  await c.job({ name: 'up.alice.cell', count: 1, spec: webSpec() });
  await c.until('up.alice.cell', (s) => s.counts.running === 1, 'running');
  const before = (await a.api('GET', '/v1/services/0.up.alice.cell')).body;
  const V2 = ART.replace('1.0.0', '2.0.0');
  await c.job({ name: 'up.alice.cell', count: 1, spec: webSpec({ artifact: V2 }), version: 2 });
  const after = await waitFor(async () => {
    const s = (await a.api('GET', '/v1/services/0.up.alice.cell')).body;
    return s.artifact === V2 && s.state === 'running' && s.ready && s;
  }, { what: 'the instance on 2.0.0', timeoutMs: 30_000 });
  t.is(after.runtimeDir, before.runtimeDir, 'upgraded in place: the same runtime dir');
  t.deepEqual(after.ports, before.ports);
  t.not(after.pid, before.pid);
  const status = await c.until('up.alice.cell', (s) => s.version === 2 && s.counts.running === 1, 'version 2 running');
  t.is(status.instances[0].node, 'node-a');
});
