import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { configSchema, loadConfig } from '../../dist/config/index.js';
import { DAEMON_NODE_FLAGS } from '../../dist/daemon/node-flags.js';
import { ROOT } from '../helpers/daemon.mjs';
import { freePort, waitFor } from '../helpers/tmp.mjs';

test('the example config is valid and documents every key of the schema', async (t) => {
  const file = path.join(ROOT, 'etc', 'nodee.yaml');
  const { config } = loadConfig(file);
  t.is(config.api.listen, '127.0.0.1:7070', 'the API is on loopback by default');
  t.deepEqual(config.cgroup, { parent: 'auto', favorDynmods: true }, 'the example is the default');
  t.deepEqual(config.labels, {});
  t.deepEqual(config.capacity, {});
  const text = readFileSync(file, 'utf8');
  // every key of the schema, at any depth (a key added to the schema and not here fails)
  const keys = schemaKeys(configSchema);
  t.true(keys.includes('parent') && keys.includes('diskMB') && keys.length > 30, keys.join(' '));
  for (const key of keys) t.regex(text, new RegExp(`\\b${key}:`), key);
});

/** The keys of a zod object schema and of the objects (also optional, defaulted, in lists) under it. */
function schemaKeys(schema, out = []) {
  let s = schema;
  while (!s.shape && s._zod?.def) {
    const def = s._zod.def;
    const inner = def.innerType ?? def.in ?? def.element ?? def.schema;
    if (!inner) break;
    s = inner;
  }
  for (const [key, value] of Object.entries(s.shape ?? {})) {
    out.push(key);
    schemaKeys(value, out);
  }
  return out;
}

test('the systemd unit verifies and keeps services alive across daemon restarts', (t) => {
  const unit = path.join(ROOT, 'systemd', 'nodee.service');
  const out = execFileSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.is(out, '');
  const text = readFileSync(unit, 'utf8');
  t.regex(text, /^KillMode=process$/m);
  t.regex(text, /^Restart=on-failure$/m);
  t.regex(text, /daemon --config \/etc\/nodee\/nodee\.yaml$/m);
  // the daemon's node flags are on its command line, where V8 reads them
  const exec = /^ExecStart=(.*)$/m.exec(text)[1].split(' ');
  for (const flag of DAEMON_NODE_FLAGS) t.true(exec.indexOf(flag) > exec.indexOf('node') && exec.indexOf(flag) < exec.indexOf('daemon'), flag);
});

// both use the checkout's .local/ (one prefix, one daemon at a time): serial
test.serial('npm start runs a daemon on the embedded default and stops on SIGINT', async (t) => {
  const port = await freePort();
  const proc = spawn(process.execPath, [path.join(ROOT, 'scripts', 'start-local.mjs')], {
    env: { ...process.env, NODEE_LISTEN: `127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so teardown also reaps the ZooKeeper it starts
  });
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const exited = new Promise((r) => proc.on('exit', r));
  t.teardown(() => {
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {}
  });
  const status = await waitFor(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/status`);
    return res.ok && res.json();
  }, { timeoutMs: 60_000, intervalMs: 200, what: 'npm start' });
  if (existsSync('/usr/share/java/zookeeper.jar')) {
    // a local ZooKeeper is started and the node registers in it
    await waitFor(async () => (await (await fetch(`http://127.0.0.1:${port}/v1/status`)).json()).zookeeper.state === 'connected',
      { timeoutMs: 30_000, intervalMs: 200, what: 'registration in the local ZooKeeper' });
    t.regex(err, /local ZooKeeper on 127\.0\.0\.1:\d+|already answers/);
  } else {
    t.is(status.zookeeper.state, 'standalone');
    t.regex(err, /runs standalone/);
  }
  t.true(err.includes('[npm start] prefix .local/prefix'));
  proc.kill('SIGINT');
  t.is(await exited, 0);
});

/** Pids of live processes whose command line contains `needle`. */
function pidsWith(needle) {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test.serial('SIGTERM to `npm start` stops the daemon first (its znode removed), then the local ZooKeeper; nothing is left', async (t) => {
  const port = await freePort();
  // the real npm → sh → node chain; --ignore-scripts skips only the prestart build, which
  // would rewrite dist/ under the other tests
  const npm = spawn('npm', ['start', '--ignore-scripts'], {
    cwd: ROOT,
    env: { ...process.env, NODEE_LISTEN: `127.0.0.1:${port}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  npm.stdout.on('data', (d) => (out += d));
  npm.stderr.on('data', (d) => (err += d));
  const config = path.join(ROOT, '.local', 'nodee.yaml');
  const zooCfg = path.join(ROOT, '.local', 'zoo.cfg');
  t.teardown(() => {
    for (const pid of [...pidsWith(config), ...pidsWith(zooCfg)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  });
  const withZk = existsSync('/usr/share/java/zookeeper.jar');
  await waitFor(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/status`);
    const status = res.ok && (await res.json());
    return status && (!withZk || status.zookeeper.state === 'connected');
  }, { timeoutMs: 60_000, intervalMs: 200, what: 'npm start' });
  t.true(err.includes(`node dist/cli.js status --url http://127.0.0.1:${port}`), err);
  const daemons = pidsWith(config);
  t.is(daemons.length, 1, 'one daemon');
  const zks = withZk ? pidsWith(zooCfg) : [];
  if (withZk && zks.length === 0) t.regex(err, /already answers/, 'a ZooKeeper of our own or one that was there');
  if (withZk) t.true(err.includes('node dist/cli.js cluster ls --config .local/nodee.yaml'), err);

  npm.kill('SIGTERM');
  await waitFor(() => [...daemons, ...zks].every((pid) => !pidsWith(config).includes(pid) && !pidsWith(zooCfg).includes(pid)), {
    timeoutMs: 30_000,
    intervalMs: 100,
    what: 'the daemon and the ZooKeeper to exit',
  });
  if (withZk) t.regex(out, /"zookeeper node removed"/, 'the daemon removed its node before the ZooKeeper went');
  t.notRegex(out, /it goes with the session/);
});
