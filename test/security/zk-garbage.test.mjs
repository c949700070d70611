import test from 'ava';
import { readFileSync } from 'node:fs';
import { startDaemon, cli } from '../helpers/daemon.mjs';
import { GARBAGE_MODES, PRE_SESSION_MODES, startGarbageZk } from '../helpers/garbage-zk.mjs';
import { startZookeeper } from '../helpers/zookeeper.mjs';
import { waitFor } from '../helpers/tmp.mjs';
import { observer, nodeOf } from '../registry/_zk.mjs';

// Hardening promise: no ZooKeeper server behaviour can make the daemon exit. Each case runs
// the real daemon against a server that answers garbage and lets it reconnect a few times.

// the daemon idles near 80 MB and buffers at most one 4 MiB frame; unguarded, a 64 MB junk
// stream behind a 0x7fffffff length is buffered whole (peak ~300 MB)
const PEAK_RSS_LIMIT_KB = 192 * 1024;

function zkConfig(connect) {
  return { instance: 'garbage-node', zookeeper: { connect, sessionTimeoutMs: 4000 } };
}

/** Resolves once `check` holds; fails at once (with the daemon's stderr) if the daemon exits. */
function whileAlive(d, check, what) {
  return Promise.race([
    waitFor(check, { timeoutMs: 30_000, what }),
    d.exited.then((code) => {
      throw new Error(`the daemon exited (${code}) while waiting for ${what}:\n${d.stderr()}\n${d.logs().split('\n').filter((l) => l.includes('"level":60')).join('\n')}`);
    }),
  ]);
}

function peakRssKb(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]);
}

for (const mode of GARBAGE_MODES) {
  test(`garbage from ZooKeeper (${mode}): the daemon stays up, serves, and keeps reconnecting`, async (t) => {
    const g = await startGarbageZk(t, { mode });
    const d = await startDaemon(t, { config: zkConfig(g.connect) });
    // a few rounds of connect → garbage → drop → reconnect
    await whileAlive(d, () => g.connections >= 3, `3 connections to the ${mode} server`);

    t.is((await d.api('GET', '/healthz')).status, 200);
    const status = await d.api('GET', '/v1/status');
    t.is(status.status, 200);
    // before a session the client cannot be connected; with a session given, it may be for an
    // instant between the server's ConnectResponse and its next bad reply
    const states = PRE_SESSION_MODES.includes(mode) ? ['connecting', 'disconnected'] : ['connecting', 'disconnected', 'connected'];
    t.true(states.includes(status.body.zookeeper.state), status.body.zookeeper.state);
    if (!PRE_SESSION_MODES.includes(mode)) t.regex((await d.api('GET', '/metrics')).text, /nodee_zk_reconnects_total [1-9]/, 'the bad connections were dropped and made again');
    t.is(status.body.zookeeper.path, '/meta/cell/nodes/garbage-node');
    t.is(d.proc.exitCode, null, 'the daemon is still running');
    t.is(d.proc.signalCode, null);
    const peak = peakRssKb(d.pid);
    t.log(`peak RSS ${peak} kB`);
    t.true(peak < PEAK_RSS_LIMIT_KB, `peak RSS ${peak} kB`);
    t.notRegex(d.logs(), /uncaught exception/);
    t.is(await d.stop(), 0, 'and it still stops cleanly');
  });
}

test('after garbage, the daemon registers as soon as a real ZooKeeper answers on that address', async (t) => {
  const zk = await startZookeeper(t);
  const g = await startGarbageZk(t, { mode: 'close-mid-frame' });
  const d = await startDaemon(t, { config: zkConfig(g.connect) });
  await whileAlive(d, () => g.connections >= 3, 'reconnects to the close-mid-frame server');
  // a session, then replies that cannot be parsed
  g.setMode('truncated-reply');
  await whileAlive(d, () => g.requests >= 3, 'requests answered with truncated replies');
  g.setMode('forward', { forwardPort: zk.port });

  const obs = await observer(t, zk.connect);
  const node = await nodeOf(obs, '/meta/cell/nodes/garbage-node');
  t.is(node.json.pid, d.pid);
  await whileAlive(d, async () => (await d.api('GET', '/v1/status')).body.zookeeper.state === 'connected', 'status connected');
  t.is(await d.stop(), 0);
  t.is(await obs.stat('/meta/cell/nodes/garbage-node'), null, 'removed on a clean stop');
});

for (const mode of ['random', 'truncated-reply', 'lying-length']) {
  test(`nodee cluster ls against a garbage ZooKeeper (${mode}) fails with a message, not a crash or a hang`, async (t) => {
    const g = await startGarbageZk(t, { mode });
    const r = await cli(['cluster', 'ls', '--zookeeper', g.connect, '--timeout', '3000']);
    t.is(r.code, 1, r.stderr);
    t.is(r.stdout, '');
    t.regex(r.stderr, /^nodee: /);
    t.regex(r.stderr, mode === 'random' ? /cannot reach zookeeper at 127\.0\.0\.1:\d+ within 3000 ms/ : /invalid reply/);
    t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
  });
}
