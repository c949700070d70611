import test from 'ava';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { cli, startDaemon } from '../helpers/daemon.mjs';
import { freePort, tempDir, waitFor } from '../helpers/tmp.mjs';
import { HOG } from '../helpers/programs.mjs';
import { E2E_ART, installScripts, scriptsZip } from '../services/e2e-helpers.mjs';

test('nodee status prints the node, and --json the API answer', async (t) => {
  const d = await startDaemon(t);
  const table = await cli(['--url', d.url, 'status']);
  t.is(table.code, 0, table.stderr);
  t.regex(table.stdout, /^instance {5}test-node$/m);
  t.regex(table.stdout, /^zookeeper {4}standalone$/m);
  const viaEnv = await cli(['--json', 'status'], { env: { NODEE_URL: d.url } });
  t.is(JSON.parse(viaEnv.stdout).instance, 'test-node');
});

test('nodee status shows labels, what services reserve of the capacity, and the containment', async (t) => {
  const d = await startDaemon(t, { config: { labels: { zone: 'eu-1a', ssd: 'true' }, capacity: { memoryMB: 7000, cpu: 2, diskMB: 50000 } } });
  const env = { NODEE_URL: d.url };
  const before = await cli(['status'], { env });
  t.is(before.code, 0, before.stderr);
  t.regex(before.stdout, /^labels {7}zone=eu-1a,ssd=true$/m);
  t.regex(before.stdout, /^resources {4}mem 0\/7000 MB cpu 0\/2 disk 0\/50000 MB \(reserved\/capacity\)$/m);
  // whatever this host allows, the CLI says what the daemon says
  const { containment } = JSON.parse((await cli(['status', '--json'], { env })).stdout);
  t.true(['cgroup2', 'cgroup1', 'none'].includes(containment), containment);
  t.regex(before.stdout, new RegExp(`^containment  ${containment === 'none' ? 'none \\(process groups only\\)' : containment}$`, 'm'));

  await installScripts(t, d, { 'bin/hog': HOG });
  const created = await d.api('POST', '/v1/services', { coordinate: '1.res.borud.fbu', artifact: E2E_ART, command: ['bin/sleeper'], resources: { memoryMB: 256, cpu: 0.5, pids: 64, diskMB: 1024 } });
  t.is(created.status, 201, JSON.stringify(created.body));
  const after = await cli(['status'], { env });
  t.regex(after.stdout, /^resources {4}mem 256\/7000 MB cpu 0\.5\/2 disk 1024\/50000 MB \(reserved\/capacity\)$/m);

  // the service's own figures: its limits, and what it uses, read from its cgroup ("-" without one)
  const [mem, cpu, pids] = containment === 'none' ? ['-', '-', '-'] : ['\\d+\\.\\d', '[\\d.]+ s', '\\d+'];
  const shown = await cli(['service', 'show', '1.res.borud.fbu'], { env });
  t.is(shown.code, 0, shown.stderr);
  t.regex(shown.stdout, /^resources {3}mem 256 MB cpu 0\.5 pids 64 disk 1024 MB$/m);
  t.regex(shown.stdout, new RegExp(`^usage {7}mem ${mem}/256 MB cpu ${cpu} pids ${pids}/64$`, 'm'));
  t.regex(shown.stdout, /^last exit {3}-$/m);
  // the list reads a shared sample up to 2 s old: one taken before the start knows nothing yet
  const row = new RegExp(`^1\\.res\\.borud\\.fbu\\s+running\\s+yes\\s+\\d+\\s+0\\s+${mem}/256 MB\\s+${cpu}\\s+${pids}/64\\s+com\\.example:e2e:1\\.0\\.0\\s+-$`);
  const list = await waitFor(async () => {
    const lines = (await cli(['service', 'list'], { env })).stdout.trim().split('\n');
    return row.test(lines[1]) && lines;
  }, { what: `service list shows ${row}` });
  t.regex(list[0], /^COORDINATE\s+STATE\s+READY\s+PID\s+RESTARTS\s+MEM\s+CPU\s+PIDS\s+ARTIFACT\s+PORTS$/);
  // --json stays the API's objects
  const json = JSON.parse((await cli(['service', 'list', '--json'], { env })).stdout);
  t.deepEqual(json[0].spec.resources, { memoryMB: 256, cpu: 0.5, pids: 64, diskMB: 1024 });
  t.deepEqual(Object.keys(json[0].usage).sort(), ['cpuSeconds', 'memoryBytes', 'pids']);

  // a start that does not fit: the API's refusal, as it says it
  const spec = path.join(await tempDir(t), 'big.json');
  await writeFile(spec, JSON.stringify({ coordinate: '1.big.borud.fbu', artifact: E2E_ART, command: ['bin/sleeper'], resources: { memoryMB: 6800 } }));
  const big = await cli(['service', 'start', '--spec', spec], { env });
  t.is(big.code, 1);
  t.regex(big.stderr, /memoryMB: asks 6800, 6744 left of 7000.*\(INSUFFICIENT_RESOURCES\)/);

  if (containment === 'none') return t.log('containment none on this host: no OOM kill to show');
  // the kernel's OOM killer ends a service past its memory limit: show says so
  await writeFile(spec, JSON.stringify({ coordinate: '1.hog.borud.fbu', artifact: E2E_ART, command: ['bin/hog'], resources: { memoryMB: 32 }, restart: { policy: 'never' } }));
  t.is((await cli(['service', 'start', '--spec', spec], { env })).code, 0);
  const oom = await waitFor(async () => {
    const r = await cli(['service', 'show', '1.hog.borud.fbu'], { env });
    return /^state {7}exited$/m.test(r.stdout) && r.stdout;
  }, { what: 'the hog OOM-killed' });
  t.regex(oom, /^last exit {3}SIGKILL \(OOM\) at \d{4}-\d\d-\d\dT/m);
  t.regex(oom, /^usage {7}mem -\/32 MB cpu - pids -$/m);
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

test('global options are taken before or after the command words; a missing value is a usage error', async (t) => {
  const d = await startDaemon(t);
  const after = await cli(['status', '--url', d.url]);
  t.is(after.code, 0, after.stderr);
  t.regex(after.stdout, /^instance {5}test-node$/m);
  t.is(JSON.parse((await cli(['status', '--json', `--url=${d.url}`])).stdout).instance, 'test-node');
  t.deepEqual(JSON.parse((await cli(['--json', 'service', 'list', '--url', d.url])).stdout), []);
  t.deepEqual(JSON.parse((await cli(['service', 'list', '--json'], { env: { NODEE_URL: d.url } })).stdout), []);
  t.deepEqual(JSON.parse((await cli(['artifact', 'list', '--json', '--url', d.url])).stdout), { artifacts: [] });
  t.deepEqual(JSON.parse((await cli(['--url', d.url, 'artifact', '--json', 'list'])).stdout), { artifacts: [] });

  for (const args of [['status', '--url'], ['service', 'list', '--token'], ['--ca'], ['artifact', 'list', '--json', '--url']]) {
    const r = await cli(args);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, /^nodee: option --(url|token|ca) needs a value\n/, args.join(' '));
    t.is(r.stdout, '');
  }
  // words after a bare -- belong to the service's command line, not to nodee
  const usage = await cli(['service', 'list', '--', '--json'], { env: { NODEE_URL: d.url } });
  t.is(usage.code, 0, usage.stderr);
  t.regex(usage.stdout, /^COORDINATE/);
});

test('artifact install takes the archive URL as --from; --url is the daemon there too', async (t) => {
  const d = await startDaemon(t);
  const zip = await scriptsZip(t);
  const r = await cli(['artifact', 'install', E2E_ART, '--from', `file://${zip}`, '--url', d.url]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`^installed ${E2E_ART}: \\d+ files`));
  t.is((await d.api('GET', `/v1/artifacts/${E2E_ART.split(':').join('/')}`)).body.source, `file://${zip}`);
  const missing = await cli(['artifact', 'install', E2E_ART, '--from']);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /option --from needs a value/);
});

test('a wrong verb prints one usage, its command\'s; help and --help print it to stdout', async (t) => {
  for (const [args, command] of [[['service', 'frobnicate'], 'service'], [['artifact', 'frobnicate'], 'artifact'], [['cluster', 'frob'], 'cluster'], [['service'], 'service']]) {
    const r = await cli(args);
    t.is(r.code, 2, args.join(' '));
    t.is(r.stdout, '');
    t.is(r.stderr.match(/usage:/g)?.length, 1, r.stderr);
    t.regex(r.stderr, new RegExp(`^nodee ${command}: .*\\n\\nusage: nodee ${command}`));
  }
  const unknown = await cli(['frobnicate']);
  t.is(unknown.code, 2);
  t.is(unknown.stderr.match(/usage:/g)?.length, 1);
  t.regex(unknown.stderr, /^nodee: unknown command "frobnicate"\n\nusage: nodee <command>/);

  for (const command of ['status', 'drain', 'undrain', 'artifact', 'service', 'cluster', 'daemon', 'completion', 'help']) {
    for (const args of [['help', command], [command, '--help'], [command, '-h']]) {
      const r = await cli(args);
      t.is(r.code, 0, args.join(' '));
      t.is(r.stderr, '');
      t.true(r.stdout.startsWith(`usage: nodee ${command}`), `${args.join(' ')}: ${r.stdout}`);
    }
  }
  const top = await cli(['help']);
  t.is(top.code, 0);
  for (const command of ['status', 'drain', 'undrain', 'artifact', 'service', 'cluster', 'daemon', 'completion']) t.regex(top.stdout, new RegExp(`^  ${command}\\b`, 'm'));
  t.is((await cli(['service', 'list', '--help'])).stdout.startsWith('usage: nodee service'), true);
  t.is((await cli(['help', 'frobnicate'])).code, 2);
});

test('nodee drain / undrain drain the node; service show prints one service', async (t) => {
  const d = await startDaemon(t);
  const env = { NODEE_URL: d.url };
  const drain = await cli(['drain'], { env });
  t.is(drain.code, 0, drain.stderr);
  t.is(drain.stdout, 'node test-node draining\n');
  t.is((await d.api('GET', '/v1/status')).body.state, 'draining');
  const undrain = await cli(['undrain', '--json'], { env });
  t.is(undrain.code, 0, undrain.stderr);
  t.is(JSON.parse(undrain.stdout).state, 'active');
  t.is((await d.api('GET', '/v1/status')).body.state, 'active');
  t.is((await cli(['drain', 'now'], { env })).code, 2);

  await installScripts(t, d);
  const created = await d.api('POST', '/v1/services', { coordinate: '1.show.borud.fbu', artifact: E2E_ART, command: ['bin/sleeper'], ports: ['http'] });
  t.is(created.status, 201, JSON.stringify(created.body));
  const shown = await waitFor(async () => {
    const r = await cli(['service', 'show', '1.show.borud.fbu'], { env });
    return /^state {7}running$/m.test(r.stdout) && r;
  }, { what: 'service show says running' });
  t.is(shown.code, 0);
  t.regex(shown.stdout, /^coordinate {2}1\.show\.borud\.fbu$/m);
  t.regex(shown.stdout, new RegExp(`^artifact {4}${E2E_ART}$`, 'm'));
  t.regex(shown.stdout, /^ports {7}http=\d+$/m);
  t.regex(shown.stdout, /^command {5}bin\/sleeper$/m);
  const json = await cli(['service', 'show', '1.show.borud.fbu', '--json'], { env });
  t.is(JSON.parse(json.stdout).coordinate, '1.show.borud.fbu');
  const missing = await cli(['service', 'show', '2.show.borud.fbu'], { env });
  t.is(missing.code, 1);
  t.regex(missing.stderr, /\(SERVICE_NOT_FOUND\)/);
  t.is((await cli(['service', 'show'], { env })).code, 2);
});

/** What bash completes for the words typed so far (the last one is being typed). */
function complete(script, words) {
  const program = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _nodee; echo "\${COMPREPLY[*]}"`;
  return execFileSync('bash', ['--norc', '-c', program], { encoding: 'utf8' }).trim().split(' ').filter(Boolean);
}

test('nodee completion bash completes commands, verbs and global options; zsh uses the same function', async (t) => {
  const bash = await cli(['completion', 'bash']);
  t.is(bash.code, 0, bash.stderr);
  t.deepEqual(complete(bash.stdout, ['nodee', '']), ['status', 'drain', 'undrain', 'artifact', 'service', 'cluster', 'daemon', 'completion', 'help']);
  t.deepEqual(complete(bash.stdout, ['nodee', 'se']), ['service']);
  t.deepEqual(complete(bash.stdout, ['nodee', 'service', 's']), ['show', 'start', 'stop']);
  t.deepEqual(complete(bash.stdout, ['nodee', '--url', 'http://x', 'artifact', '']), ['list', 'install', 'remove']);
  t.deepEqual(complete(bash.stdout, ['nodee', 'cluster', '--js']), ['--json']);
  t.deepEqual(complete(bash.stdout, ['nodee', 'completion', '']), ['bash', 'zsh']);
  t.deepEqual(complete(bash.stdout, ['nodee', 'service', 'show', '']), []);

  const zsh = await cli(['completion', 'zsh']);
  t.is(zsh.code, 0);
  t.regex(zsh.stdout, /^autoload -U \+X bashcompinit && bashcompinit$/m);
  const fn = (s) => s.slice(s.indexOf('_nodee() {'));
  t.is(fn(zsh.stdout), fn(bash.stdout));
  t.is((await cli(['completion', 'fish'])).code, 2);
});
