import test from 'ava';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { loadConfig } from '../../dist/config/index.js';
import { CLI, startDaemon } from '../helpers/daemon.mjs';
import { tempDir } from '../helpers/tmp.mjs';

// Each bad key stops start-up with a message that names it, and exits non-zero.
const badConfigs = [
  ['an unknown top-level key', { colour: 'blue' }, 'colour: unknown key'],
  ['an unknown nested key', { api: { listen: '127.0.0.1:0', lisen: 'x' } }, 'api.lisen: unknown key'],
  ['a listen address without a port', { api: { listen: 'localhost' } }, 'api.listen'],
  ['a listen port over 65535', { api: { listen: '127.0.0.1:70000' } }, 'api.listen'],
  ['a port pool that runs backwards', { ports: { from: 30000, to: 20000 } }, 'ports.from'],
  ['a checksum policy that does not exist', { repositories: [{ url: 'http://x/{artifactId}.zip', checksum: 'maybe' }] }, 'repositories.0.checksum'],
  ['a repository that is not a URL template', { repositories: [{ url: 'ftp://x/{artifactId}.zip' }] }, 'repositories.0.url'],
  ['a session timeout under a second', { zookeeper: { connect: '127.0.0.1:2181', sessionTimeoutMs: 10 } }, 'zookeeper.sessionTimeoutMs'],
  ['a ZooKeeper connect string with a bad port', { zookeeper: { connect: 'zk1:2181,zk2:99999' } }, 'zookeeper.connect: bad port in "zk2:99999"'],
  ['a ZooKeeper connect string with a bad chroot', { zookeeper: { connect: 'zk1:2181/a//b' } }, 'zookeeper.connect: bad chroot'],
  ['a relative nodes path', { zookeeper: { connect: '127.0.0.1:2181', nodesPath: 'meta/nodes' } }, 'zookeeper.nodesPath'],
  ['a limit of the wrong type', { limits: { artifactMaxBytes: 'lots' } }, 'limits.artifactMaxBytes'],
  ['a token file that does not exist', { api: { listen: '127.0.0.1:0', tokenFile: '/nonexistent/token' } }, 'api.tokenFile'],
  ['a label name with a space', { labels: { 'bad name': 'x' } }, 'labels.bad name: label names are letters, digits'],
  ['a label value that is not a string', { labels: { zone: 5 } }, 'labels.zone: Invalid input: expected string, received number'],
  ['more than 64 labels', { labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v'])) }, 'labels: at most 64 labels'],
  ['a relative cgroup parent', { cgroup: { parent: 'relative/path' } }, 'cgroup.parent: must be "auto" or an absolute cgroup path'],
  ['a cgroup parent with a ".." segment', { cgroup: { parent: '/nodee/../escape' } }, 'cgroup.parent: must not hold "." or ".." segments'],
  ['an unknown cgroup key', { cgroup: { parent: 'auto', mode: 'v2' } }, 'cgroup.mode: unknown key'],
  ['a negative capacity', { capacity: { memoryMB: -1 } }, 'capacity.memoryMB: Too small'],
  ['a capacity of no cores', { capacity: { cpu: 0 } }, 'capacity.cpu: Too small'],
  ['a capacity of the wrong type', { capacity: { diskMB: 'lots' } }, 'capacity.diskMB: Invalid input: expected number, received string'],
  ['an unknown capacity key', { capacity: { gpus: 1 } }, 'capacity.gpus: unknown key'],
];

for (const [what, config, expected] of badConfigs) {
  test(`start-up refuses ${what}`, async (t) => {
    const r = await startDaemon(t, { config, expectFailure: true });
    t.not(r.code, 0);
    t.true(r.stderr.includes(expected), r.stderr);
  });
}

test('every problem in a config file is reported at once', async (t) => {
  const r = await startDaemon(t, { config: { colour: 'blue', ports: { from: 'a' }, limits: { artifactMaxFiles: -1 } }, expectFailure: true });
  t.not(r.code, 0);
  for (const key of ['colour: unknown key', 'ports.from', 'limits.artifactMaxFiles']) t.true(r.stderr.includes(key), r.stderr);
});

test('capacity, labels and cgroup default to the measured machine, none and "auto"', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'nodee.yaml');
  await writeFile(file, `prefix: ${dir}\n`);
  const { config } = loadConfig(file);
  t.deepEqual(config.cgroup, { parent: 'auto', favorDynmods: true });
  t.deepEqual(config.labels, {});
  t.deepEqual(config.capacity, {});
  await writeFile(file, `prefix: ${dir}\nlabels: { zone: eu-1a, ssd: "true" }\ncapacity: { cpu: 1.5 }\ncgroup: { parent: /nodee/a }\n`);
  const given = loadConfig(file).config;
  t.deepEqual(given.labels, { zone: 'eu-1a', ssd: 'true' });
  t.deepEqual(given.capacity, { cpu: 1.5 });
  t.is(given.cgroup.parent, '/nodee/a');

  // a key left out of capacity is measured: memory less 10 %, every core, the disk free under prefix
  const d = await startDaemon(t, { config: { capacity: { cpu: 1.5 } } });
  const { body } = await d.api('GET', '/v1/status');
  t.deepEqual(body.labels, {});
  t.is(body.resources.capacity.cpu, 1.5);
  t.is(body.resources.capacity.memoryMB, Math.floor((body.machine.memoryBytes * 0.9) / 1024 ** 2));
  const diskMB = body.machine.diskFreeBytes / 1024 ** 2;
  t.true(Math.abs(body.resources.capacity.diskMB - diskMB) < Math.max(512, diskMB * 0.05), `${body.resources.capacity.diskMB} MB vs ${diskMB} MB free`);
  t.deepEqual(body.resources.reserved, { memoryMB: 0, cpu: 0, diskMB: 0 });
});

test('start-up refuses a file that is not YAML, or not a mapping', async (t) => {
  const dir = await tempDir(t);
  for (const [name, text, expected] of [
    ['broken.yaml', 'prefix: [unclosed\n', 'not valid YAML'],
    ['list.yaml', '- a\n- b\n', 'mapping'],
    ['dup.yaml', 'prefix: /a\nprefix: /b\n', 'not valid YAML'],
  ]) {
    const file = path.join(dir, name);
    await writeFile(file, text);
    const r = await startDaemon(t, { args: ['--config', file], expectFailure: true });
    t.not(r.code, 0, name);
    t.true(r.stderr.includes(expected), `${name}: ${r.stderr}`);
  }
});

test('start-up refuses a config file that does not exist', async (t) => {
  const r = await startDaemon(t, { args: ['--config', '/nonexistent/nodee.yaml'], expectFailure: true });
  t.not(r.code, 0);
  t.regex(r.stderr, /cannot read configuration file \/nonexistent\/nodee\.yaml/);
});

test('flags override the file', async (t) => {
  const prefix = await tempDir(t);
  const d = await startDaemon(t, { config: { instance: 'from-file' }, args: ['--instance', 'from-flag', '--prefix', prefix] });
  const { body } = await d.api('GET', '/v1/status');
  t.is(body.instance, 'from-flag');
  t.true(d.logs().includes(JSON.stringify(prefix)));
});

test('a daemon with no config file at all starts on the defaults it is given by flags', async (t) => {
  const prefix = await tempDir(t);
  const proc = spawn(process.execPath, [CLI, 'daemon', '--prefix', prefix, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => proc.kill('SIGKILL'));
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  const exited = new Promise((r) => proc.on('exit', r));
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', () => out.includes('"nodee started"') && resolve());
    exited.then(() => reject(new Error(out)));
  });
  t.true(out.includes('standalone'));
  proc.kill('SIGTERM');
  t.is(await exited, 0);
});
