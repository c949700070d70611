import test from 'ava';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cli } from '../helpers/daemon.mjs';
import { tempDir } from '../helpers/tmp.mjs';
import { startZookeeper } from '../helpers/zookeeper.mjs';
import { NODES, cell, node, repository, waitFor, webSpec } from './_fleet.mjs';

// The operator's side against a real cell: two real daemons (one leads), their node records
// and the leader's statuses, driven only through `nodee cluster run|jobs|job|scale|endpoints|stop`.

const JOB = 'web.alice.cell';
const readiness = [{ name: 'web', type: 'readiness', http: { port: 'http', path: '/' }, intervalMs: 200 }];

async function fleet(t) {
  const zk = await startZookeeper(t);
  const repo = await repository(t);
  const ds = await Promise.all(['node-a', 'node-b'].map((n) => node(t, zk, n, { config: { repositories: [repo] } })));
  const file = path.join(await tempDir(t), 'web.json');
  const run = (args, o) => cli(['cluster', ...args, '--zookeeper', zk.connect, '--nodes-path', NODES], o);
  const endpoints = async (n) => {
    let last;
    await waitFor(async () => {
      last = await run(['endpoints', JOB]);
      return last.stdout.split('\n').filter(Boolean).length === n;
    }, { what: `${n} endpoints`, timeoutMs: 30_000 }).catch((err) => {
      err.message += `\nlast: ${JSON.stringify(last)}`;
      throw err;
    });
    return last.stdout.trim().split('\n');
  };
  return { zk, ds, file, run, endpoints, c: await cell(t, zk) };
}

test('run places a job and says where; endpoints answer; scale and stop converge the nodes', async (t) => {
  const { ds, file, run, endpoints, c } = await fleet(t);
  await writeFile(file, JSON.stringify({ name: JOB, count: 2, maxPerNode: 1, spec: webSpec({ checks: readiness }) }));
  const r = await run(['run', file, '--wait', '30000']);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '');
  const lines = r.stdout.split('\n');
  t.is(lines[0], `${JOB}: created version 1`);
  const placed = lines.slice(2, 4).map((l) => l.split(/\s+/).slice(0, 2));
  t.deepEqual(placed.map(([coordinate]) => coordinate), [`0.${JOB}`, `1.${JOB}`]);
  t.deepEqual(placed.map(([, n]) => n).sort(), ['node-a', 'node-b'], 'one on each node (maxPerNode 1)');

  // every endpoint is a live service: the address the node is reached at, the service's port
  for (const address of await endpoints(2)) {
    t.regex(address, /^127\.0\.0\.1:\d+$/);
    t.is((await fetch(`http://${address}/`)).status, 200, address);
  }
  const table = (await run(['jobs'])).stdout.split('\n');
  t.regex(table[1], new RegExp(`^${JOB.replace(/\./g, '\\.')}\\s+service\\s+2\\s+1\\s+2\\s+2\\s+0$`));

  // scale up: a third instance would break maxPerNode 1, so it is pending and the CLI says why
  const up = await run(['scale', JOB, '3']);
  t.is(up.stdout, `${JOB}: count 2 → 3, version 2\n`);
  const job = await waitFor(async () => {
    const j = await run(['job', JOB]);
    return /^2\.web\.alice\.cell pending: /m.test(j.stdout) && j.stdout;
  }, { what: 'the third instance pending, with its reason', timeoutMs: 30_000 });
  t.regex(job, /^2\.web\.alice\.cell pending: maxPerNode 1 reached on node-a, node-b$/m);
  t.is((await endpoints(2)).length, 2, 'the pending one has no endpoint');

  const stop = await run(['stop', JOB, '--wait', '60000']);
  t.is(stop.code, 0, stop.stderr);
  t.is(stop.stdout, `${JOB}: count 0 at version 3, every instance gone; job deleted\n`);
  for (const d of ds) t.deepEqual((await d.api('GET', '/v1/services')).body.services, [], `${d.name} runs nothing`);
  t.is(await c.status(JOB), null);
  t.deepEqual(JSON.parse((await run(['jobs', '--json'])).stdout), []);
});

// A new job version that changes only the count rewrites every assignment; the reconciler takes
// the same spec and artifact as nothing to do, so what runs keeps running.
test('scale does not restart the instances already running', async (t) => {
  const { ds, file, run, endpoints } = await fleet(t);
  await writeFile(file, JSON.stringify({ name: JOB, count: 1, spec: webSpec({ checks: readiness }) }));
  t.is((await run(['run', file, '--wait', '30000'])).code, 0);
  await endpoints(1);
  const before = await Promise.all(ds.map(async (d) => (await d.api('GET', `/v1/services/0.${JOB}`)).body));
  const pid = before.find((s) => s.pid)?.pid;
  t.is((await run(['scale', JOB, '2'])).code, 0);
  await endpoints(2);
  const after = await Promise.all(ds.map(async (d) => (await d.api('GET', `/v1/services/0.${JOB}`)).body));
  t.is(after.find((s) => s.pid)?.pid, pid, 'instance 0 kept its process');
});
