import test from 'ava';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sharedZookeeper } from '../helpers/zookeeper.mjs';
import { cli, CLI } from '../helpers/daemon.mjs';
import { tempDir, waitFor } from '../helpers/tmp.mjs';
import { cell, jobFile, zookeeper } from './_fleet.mjs';

// `nodee cluster run|jobs|job|scale|stop|endpoints` as a real process against a real
// ZooKeeper. No daemon runs: node records and the leader's statuses are written by the test
// exactly as daemons and the leader write them.

const zk = sharedZookeeper(test);
const I = (n, node, state, ready = false) => ({ coordinate: `${n}.web.borud.fbu`, node, state, ready });

/** Starts the CLI and resolves its outcome later, so the test can play the leader meanwhile. */
function background(args) {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, stdout, stderr })));
}

test('run creates version 1; the same file again writes nothing; a changed file is version 2', async (t) => {
  const c = await cell(t, zk().connect);
  const { file } = await jobFile(t);
  const first = await cli(['cluster', 'run', file, ...c.flags, '--wait', '300']);
  t.is(first.code, 0, first.stderr);
  t.is(first.stdout, 'web.borud.fbu: created version 1\n');
  // no leader in this cell: the job is written all the same, and the CLI says what it could not see
  t.regex(first.stderr, /no scheduler status of version 1 within 300 ms; is a daemon with the scheduler running\?/);
  const stored = await c.job('web.borud.fbu');
  t.like(stored, { name: 'web.borud.fbu', type: 'service', count: 2, version: 1 });
  t.deepEqual(stored.spec.ports, ['http', 'admin']);
  t.is(stored.spec.restart.policy, 'always', 'stored as parsed, defaults filled in');

  // re-running what is there must not make a version: a new one upgrades every instance
  const again = await cli(['cluster', 'run', file, ...c.flags, '--wait', '300']);
  t.is(again.stdout, 'web.borud.fbu: unchanged at version 1\n');
  t.is((await c.obs.stat(`${c.jobs}/web.borud.fbu`)).version, 0, 'not written');

  // a version in the file is nodee's to keep, not the file's
  const { file: changed } = await jobFile(t, { count: 3, version: 42 });
  const second = await cli(['cluster', 'run', changed, '--json', ...c.flags, '--wait', '300']);
  t.is(second.code, 0, second.stderr);
  const out = JSON.parse(second.stdout);
  t.is(out.change, 'updated');
  t.like(out.job, { count: 3, version: 2 });
  t.is(out.status, null);
  t.like(await c.job('web.borud.fbu'), { count: 3, version: 2 });
});

test('run waits for the leader\'s status of its version and shows where each instance goes', async (t) => {
  const c = await cell(t, zk().connect);
  const { file } = await jobFile(t);
  t.is((await cli(['cluster', 'run', file, ...c.flags, '--wait', '0'])).stderr, '', 'no wait, no word about the leader');
  await c.status('web.borud.fbu', 1, [I(0, 'node-a', 'running', true), I(1, 'node-a', 'running', true)]);
  // version 2: the status of version 1 is there already, and is not the answer
  const { file: three } = await jobFile(t, { count: 3 });
  const done = background(['cluster', 'run', three, ...c.flags, '--wait', '10000']);
  await waitFor(async () => (await c.job('web.borud.fbu')).version === 2, { what: 'version 2 written' });
  await new Promise((r) => setTimeout(r, 300));
  await c.status('web.borud.fbu', 2, [I(0, 'node-a', 'running', true), I(1, 'node-b', 'pending'), I(2, null, 'pending')], [
    { coordinate: '2.web.borud.fbu', reason: 'memoryMB: needs 64, most free 10 on node-b' },
  ]);
  const r = await done;
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, '');
  const lines = r.stdout.split('\n');
  t.is(lines[0], 'web.borud.fbu: updated version 2');
  t.regex(lines[1], /^COORDINATE\s+NODE\s+STATE\s+READY$/);
  t.regex(lines[2], /^0\.web\.borud\.fbu\s+node-a\s+running\s+yes$/);
  t.regex(lines[3], /^1\.web\.borud\.fbu\s+node-b\s+pending\s+no$/);
  t.regex(lines[4], /^2\.web\.borud\.fbu\s+-\s+pending\s+no$/);
  t.is(lines[6], '2.web.borud.fbu pending: memoryMB: needs 64, most free 10 on node-b');
});

test('a bad job file is exit 1 with every problem the parser names, and writes nothing', async (t) => {
  const c = await cell(t, zk().connect);
  const { file } = await jobFile(t, { name: 'Web', count: -1, spec: { artifact: 'com.example:web:1.0.0', coordinate: '0.web.borud.fbu' } });
  const r = await cli(['cluster', 'run', file, ...c.flags]);
  t.is(r.code, 1);
  t.is(r.stdout, '');
  for (const problem of ['"Web" is not service.user.cell', 'count:', 'spec.coordinate: a job names no coordinate']) t.true(r.stderr.includes(problem), r.stderr);
  t.is(await c.obs.stat(c.jobs), null, 'not even jobs/ was made');

  // not YAML at all, a missing file, a name that is no job's, a bad count: usage errors (2)
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'bad.yaml'), 'name: [unclosed\n');
  for (const args of [['run', path.join(dir, 'bad.yaml')], ['run', path.join(dir, 'none.yaml')], ['job', 'a/b'], ['scale', 'web.borud.fbu', 'many'], ['scale', 'web.borud.fbu'], ['jobs', 'extra'], ['stop']]) {
    const u = await cli(['cluster', ...args, ...c.flags]);
    t.is(u.code, 2, args.join(' '));
    t.regex(u.stderr, /usage: nodee cluster/, args.join(' '));
  }
});

test('scale changes the count and the version; the same count writes nothing; out of range is the parser\'s 1', async (t) => {
  const c = await cell(t, zk().connect);
  const { file } = await jobFile(t);
  t.is((await cli(['cluster', 'run', file, ...c.flags, '--wait', '0'])).code, 0);
  const up = await cli(['cluster', 'scale', 'web.borud.fbu', '5', ...c.flags]);
  t.is(up.code, 0, up.stderr);
  t.is(up.stdout, 'web.borud.fbu: count 2 → 5, version 2\n');
  t.like(await c.job('web.borud.fbu'), { count: 5, version: 2 });

  const same = await cli(['cluster', 'scale', 'web.borud.fbu', '5', ...c.flags]);
  t.is(same.stdout, 'web.borud.fbu: count 5 already, version 2\n');
  const json = await cli(['cluster', 'scale', 'web.borud.fbu', '0', '--json', ...c.flags]);
  t.like(JSON.parse(json.stdout), { name: 'web.borud.fbu', count: 0, version: 3 });

  const big = await cli(['cluster', 'scale', 'web.borud.fbu', '5000', ...c.flags]);
  t.is(big.code, 1);
  t.regex(big.stderr, /^nodee: count: /);
  t.like(await c.job('web.borud.fbu'), { count: 0, version: 3 });
  const none = await cli(['cluster', 'scale', 'nope.borud.fbu', '1', ...c.flags]);
  t.is(none.code, 1);
  t.is(none.stderr, 'nodee: no job nope.borud.fbu\n');
});

test('with a digest ACL on jobs/ the world reads but cannot write; --digest-file (or the config\'s) can', async (t) => {
  const c = await cell(t, zk().connect);
  const dir = await tempDir(t);
  const digestFile = path.join(dir, 'zk-digest');
  await writeFile(digestFile, 'sched:s3cret\n');
  const { file } = await jobFile(t);
  const created = await cli(['cluster', 'run', file, '--digest-file', digestFile, ...c.flags, '--wait', '0']);
  t.is(created.code, 0, created.stderr);

  const acl = await new Promise((resolve, reject) => c.obs.client.getACL(`${c.jobs}/web.borud.fbu`, (err, acls) => (err ? reject(err) : resolve(acls))));
  t.deepEqual(acl.map((a) => `${a.id.scheme}:${a.id.id.split(':')[0]}:${a.permission}`).sort(), ['digest:sched:31', 'world:anyone:1']);
  // anyone may read: the jobs list needs no digest
  t.is((await cli(['cluster', 'jobs', ...c.flags])).code, 0);
  // ...but not write, neither raw nor through the CLI
  const code = (p) => p.then(() => 0, (err) => err.getCode());
  t.is(await code(c.obs.setData(`${c.jobs}/web.borud.fbu`, '{}')), zookeeper.Exception.NO_AUTH);
  t.is(await code(c.obs.create(`${c.jobs}/evil.borud.fbu`, '{}', zookeeper.CreateMode.PERSISTENT)), zookeeper.Exception.NO_AUTH);
  const denied = await cli(['cluster', 'scale', 'web.borud.fbu', '3', ...c.flags]);
  t.is(denied.code, 1);
  t.regex(denied.stderr, /ZooKeeper refused the write \(NO_AUTH\): .*\/jobs carries a digest ACL; pass --digest-file FILE/);
  const wrong = path.join(dir, 'wrong');
  await writeFile(wrong, 'sched:guess\n');
  t.regex((await cli(['cluster', 'stop', 'web.borud.fbu', '--digest-file', wrong, ...c.flags])).stderr, /the digest in .*wrong is not the one it allows/);
  t.like(await c.job('web.borud.fbu'), { count: 2, version: 1 });

  // the daemon's config names the digest: the CLI uses it by default
  const config = path.join(dir, 'nodee.yaml');
  await writeFile(config, `zookeeper:\n  connect: "${zk().connect}"\n  nodesPath: ${c.nodesPath}\n  digestFile: ${digestFile}\n`);
  const scaled = await cli(['cluster', 'scale', 'web.borud.fbu', '3', '--config', config], { env: { NODEE_ZOOKEEPER: '' } });
  t.is(scaled.code, 0, scaled.stderr);
  t.like(await c.job('web.borud.fbu'), { count: 3, version: 2 });
  const bad = path.join(dir, 'bad-digest');
  await writeFile(bad, 'no-colon\n');
  t.regex((await cli(['cluster', 'scale', 'web.borud.fbu', '1', '--digest-file', bad, ...c.flags])).stderr, /must hold "user:password"/);
});

test('stop: count 0, waits until the leader and the nodes show no instance, then deletes the job', async (t) => {
  const c = await cell(t, zk().connect);
  const { file } = await jobFile(t);
  await cli(['cluster', 'run', file, ...c.flags, '--wait', '0']);
  await c.status('web.borud.fbu', 1, [I(0, 'node-a', 'running', true), I(1, 'node-a', 'running', true)]);
  await c.node('node-a', { services: [['0.web.borud.fbu', 'running', true], ['1.web.borud.fbu', 'running', true], ['0.other.borud.fbu', 'running', true]] });

  const done = background(['cluster', 'stop', 'web.borud.fbu', ...c.flags, '--wait', '20000']);
  await waitFor(async () => (await c.job('web.borud.fbu'))?.count === 0, { what: 'count 0' });
  t.like(await c.job('web.borud.fbu'), { version: 2 });
  // the leader sees version 2 and removes the assignments; the node stops its services later
  await c.status('web.borud.fbu', 2, []);
  await new Promise((r) => setTimeout(r, 500));
  t.truthy(await c.job('web.borud.fbu'), 'still waiting for the node');
  await c.obs.remove(`${c.nodesPath}/node-a`);
  await c.node('node-a', { services: [['0.other.borud.fbu', 'running', true]] });
  const r = await done;
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'web.borud.fbu: count 0 at version 2, every instance gone; job deleted\n');
  t.is(await c.obs.stat(`${c.jobs}/web.borud.fbu`), null);
});

test('stop without a leader deletes the job after the wait; stop of nothing is exit 1', async (t) => {
  const c = await cell(t, zk().connect);
  const { file } = await jobFile(t);
  await cli(['cluster', 'run', file, ...c.flags, '--wait', '0']);
  await c.status('web.borud.fbu', 1, [I(0, 'node-a', 'running', true)]);
  const r = await cli(['cluster', 'stop', 'web.borud.fbu', '--json', ...c.flags, '--wait', '600']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), { name: 'web.borud.fbu', version: 2, drained: false, deleted: true });
  t.is(await c.obs.stat(`${c.jobs}/web.borud.fbu`), null, 'job and status both gone');
  const again = await cli(['cluster', 'stop', 'web.borud.fbu', ...c.flags]);
  t.is(again.code, 1);
  t.is(again.stderr, 'nodee: no job web.borud.fbu\n');
});

test('endpoints: host:port of running, ready instances only, the host their node is reached at', async (t) => {
  const c = await cell(t, zk().connect);
  const { file } = await jobFile(t, { count: 6 });
  await cli(['cluster', 'run', file, ...c.flags, '--wait', '0']);
  await c.node('node-a', { url: 'http://10.0.0.5:7070/', services: [['0.web.borud.fbu', 'running', true, { http: 20001, admin: 20002 }], ['1.web.borud.fbu', 'running', false, { http: 20011, admin: 20012 }]] });
  await c.node('node-b', { url: 'http://[fd00::7]:7070/', services: [['2.web.borud.fbu', 'running', true, { http: 20003, admin: 20004 }], ['3.web.borud.fbu', 'stopped', false, { http: 20005, admin: 20006 }]] });
  await c.status('web.borud.fbu', 1, [
    I(0, 'node-a', 'running', true),
    I(1, 'node-a', 'running', false), // not ready
    I(2, 'node-b', 'running', true),
    I(3, 'node-b', 'running', true), // its node has stopped it since
    I(4, 'node-gone', 'running', true), // no record
    I(5, null, 'pending'),
  ], [{ coordinate: '5.web.borud.fbu', reason: 'no live node' }]);

  const r = await cli(['cluster', 'endpoints', 'web.borud.fbu', ...c.flags]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '10.0.0.5:20001\n[fd00::7]:20003\n');
  t.is((await cli(['cluster', 'endpoints', 'web.borud.fbu', '--port', 'admin', ...c.flags])).stdout, '10.0.0.5:20002\n[fd00::7]:20004\n');
  const json = JSON.parse((await cli(['cluster', 'endpoints', 'web.borud.fbu', '--json', ...c.flags])).stdout);
  t.deepEqual(json[1], { coordinate: '2.web.borud.fbu', node: 'node-b', host: 'fd00::7', port: 20003, address: '[fd00::7]:20003' });
  const badPort = await cli(['cluster', 'endpoints', 'web.borud.fbu', '--port', 'grpc', ...c.flags]);
  t.is(badPort.code, 1);
  t.is(badPort.stderr, 'nodee: job web.borud.fbu has no port "grpc" (its ports: http, admin)\n');
  t.is((await cli(['cluster', 'endpoints', 'none.borud.fbu', ...c.flags])).code, 1);
});

test('jobs and job: tables and --json; garbage under jobs/ is shown, never a crash', async (t) => {
  const c = await cell(t, zk().connect);
  const { file } = await jobFile(t, { count: 3 });
  await cli(['cluster', 'run', file, ...c.flags, '--wait', '0']);
  await c.status('web.borud.fbu', 1, [I(0, 'node-a', 'running', true), I(1, 'node-b', 'starting'), I(2, null, 'pending')], [{ coordinate: '2.web.borud.fbu', reason: 'label zone=eu-1a: no node' }]);
  const { file: batch } = await jobFile(t, { name: 'nightly.borud.fbu', type: 'batch', count: 1 }, 'batch.yaml');
  await cli(['cluster', 'run', batch, ...c.flags, '--wait', '0']);
  await c.raw('junk', 'not json');
  await c.raw('empty.borud.fbu', '');
  await c.raw('alias.borud.fbu', JSON.stringify({ name: 'web.borud.fbu', count: 1, spec: { artifact: 'com.example:web:1.0.0' } }));
  await c.status('nightly.borud.fbu', 1, [{ nope: true }]);

  const r = await cli(['cluster', 'jobs', ...c.flags]);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.regex(lines[0], /^NAME\s+TYPE\s+COUNT\s+VERSION\s+RUNNING\s+READY\s+PENDING$/);
  t.regex(lines[1], /^alias\.borud\.fbu\s+\?\s+-\s+-\s+-\s+-\s+-\s+\(unreadable job: it names another job, "web\.borud\.fbu"\)$/);
  t.regex(lines[2], /^empty\.borud\.fbu\s+\?\s+-\s+-\s+-\s+-\s+-\s+\(unreadable job: empty node\)$/);
  t.regex(lines[3], /^junk\s+\?\s+-\s+-\s+-\s+-\s+-\s+\(unreadable job: not JSON\)$/);
  t.regex(lines[4], /^nightly\.borud\.fbu\s+batch\s+1\s+1\s+-\s+-\s+-\s+\(unreadable status: /);
  t.regex(lines[5], /^web\.borud\.fbu\s+service\s+3\s+1\s+1\s+1\s+1$/);
  t.is(lines.length, 6);

  const json = JSON.parse((await cli(['cluster', 'jobs', '--json', ...c.flags])).stdout);
  t.deepEqual(json.map((e) => e.name), ['alias.borud.fbu', 'empty.borud.fbu', 'junk', 'nightly.borud.fbu', 'web.borud.fbu']);
  t.is(json[4].status.counts.running, 1);
  t.is(json[2].job, null);

  const one = await cli(['cluster', 'job', 'web.borud.fbu', ...c.flags]);
  t.is(one.code, 0, one.stderr);
  t.regex(one.stdout, /^name\s+web\.borud\.fbu$/m);
  t.regex(one.stdout, /^artifact\s+com\.example:web:1\.0\.0$/m);
  t.regex(one.stdout, /^status\s+version 1 at \d{4}-/m);
  t.regex(one.stdout, /^1\.web\.borud\.fbu\s+node-b\s+starting\s+no$/m);
  t.regex(one.stdout, /^2\.web\.borud\.fbu pending: label zone=eu-1a: no node$/m);
  t.like(JSON.parse((await cli(['cluster', 'job', 'web.borud.fbu', '--json', ...c.flags])).stdout), { name: 'web.borud.fbu', job: { count: 3 }, status: { version: 1 } });

  // a garbage job: shown with why, exit 1; what needs it says so; stop removes it as it is
  const bad = await cli(['cluster', 'job', 'empty.borud.fbu', ...c.flags]);
  t.is(bad.code, 1);
  t.regex(bad.stdout, /^unreadable\s+job: empty node$/m);
  t.regex((await cli(['cluster', 'scale', 'alias.borud.fbu', '2', ...c.flags])).stderr, /job alias\.borud\.fbu cannot be read \(it names another job, "web\.borud\.fbu"\)/);
  t.regex((await cli(['cluster', 'endpoints', 'empty.borud.fbu', ...c.flags])).stderr, /cannot be read/);
  const stopped = await cli(['cluster', 'stop', 'empty.borud.fbu', ...c.flags]);
  t.is(stopped.stdout, 'empty.borud.fbu: unreadable, so removed as it was; job deleted\n');
  // run over garbage writes a job, one version past any it names
  await c.raw('empty.borud.fbu', JSON.stringify({ version: 7 }));
  const { file: over } = await jobFile(t, { name: 'empty.borud.fbu' }, 'over.yaml');
  const rerun = await cli(['cluster', 'run', over, ...c.flags, '--wait', '0']);
  t.is(rerun.stdout, 'empty.borud.fbu: updated version 8\n');
});
