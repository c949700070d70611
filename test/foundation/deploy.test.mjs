import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../dist/config/index.js';
import { ROOT } from '../helpers/daemon.mjs';
import { freePort, waitFor } from '../helpers/tmp.mjs';

test('the example config is valid and documents every key of the schema', async (t) => {
  const file = path.join(ROOT, 'etc', 'nodee.yaml');
  const { config } = loadConfig(file);
  t.is(config.api.listen, '127.0.0.1:7070', 'the API is on loopback by default');
  const text = readFileSync(file, 'utf8');
  for (const key of ['prefix', 'instance', 'listen', 'tokenFile', 'tls', 'bodyLimitBytes', 'zookeeper', 'connect', 'sessionTimeoutMs',
    'nodesPath', 'digestFile', 'repositories', 'checksum', 'artifactMaxBytes', 'artifactMaxFiles', 'ports', 'maxBytes', 'keep']) {
    t.regex(text, new RegExp(`\\b${key}:`), key);
  }
});

test('the systemd unit verifies and keeps services alive across daemon restarts', (t) => {
  const unit = path.join(ROOT, 'systemd', 'nodee.service');
  const out = execFileSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.is(out, '');
  const text = readFileSync(unit, 'utf8');
  t.regex(text, /^KillMode=process$/m);
  t.regex(text, /^Restart=on-failure$/m);
  t.regex(text, /daemon --config \/etc\/nodee\/nodee\.yaml$/m);
});

test('npm start runs a daemon on the embedded default and stops on SIGINT', async (t) => {
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
