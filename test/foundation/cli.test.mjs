import test from 'ava';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cli, startDaemon } from '../helpers/daemon.mjs';
import { freePort, tempDir } from '../helpers/tmp.mjs';

test('nodee status prints the node, and --json the API answer', async (t) => {
  const d = await startDaemon(t);
  const table = await cli(['--url', d.url, 'status']);
  t.is(table.code, 0, table.stderr);
  t.regex(table.stdout, /^instance {3}test-node$/m);
  t.regex(table.stdout, /^zookeeper {2}standalone$/m);
  const viaEnv = await cli(['--json', 'status'], { env: { NODEE_URL: d.url } });
  t.is(JSON.parse(viaEnv.stdout).instance, 'test-node');
});

test('the CLI passes the token and shows the API message on error', async (t) => {
  const dir = await tempDir(t);
  const tokenFile = path.join(dir, 'token');
  await writeFile(tokenFile, 'tok-123');
  const d = await startDaemon(t, { config: { api: { listen: '127.0.0.1:0', tokenFile } } });
  const denied = await cli(['--url', d.url, 'status']);
  t.is(denied.code, 1);
  t.regex(denied.stderr, /Authorization: Bearer <token>.*\(UNAUTHORIZED\)/);
  const ok = await cli(['--url', d.url, '--token', 'tok-123', 'status']);
  t.is(ok.code, 0, ok.stderr);
  const viaEnv = await cli(['--url', d.url, 'status'], { env: { NODEE_TOKEN: 'tok-123' } });
  t.is(viaEnv.code, 0, viaEnv.stderr);
});

test('no daemon: a clear message and a non-zero exit', async (t) => {
  const port = await freePort();
  const r = await cli(['--url', `http://127.0.0.1:${port}`, 'status']);
  t.is(r.code, 1);
  t.is(r.stderr.trim(), `nodee: cannot reach the nodee daemon at http://127.0.0.1:${port} (ECONNREFUSED)`);
});

test('usage errors exit 2 and show the usage', async (t) => {
  for (const args of [['frobnicate'], ['--bogus', 'status'], []]) {
    const r = await cli(args);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, /usage: nodee/);
  }
  const help = await cli(['--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /usage: nodee/);
});

test('cluster ls names every bad key of the zookeeper section it reads from a config file', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'nodee.yaml');
  await writeFile(file, 'zookeeper:\n  connect: "zk1:99999"\n  nodesPath: relative/path\n  colour: blue\n');
  const r = await cli(['cluster', 'ls', '--config', file], { env: { NODEE_ZOOKEEPER: '' } });
  t.is(r.code, 1);
  for (const key of ['zookeeper.connect', 'zookeeper.nodesPath', 'zookeeper.colour: unknown key']) t.true(r.stderr.includes(key), r.stderr);
});
