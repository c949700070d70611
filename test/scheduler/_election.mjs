// Shared pieces of the election tests: candidates with their own ZooKeeper session, the
// watches a server holds per session (the `wchc` four-letter word), and a fenced-write log.
import registry from '../../dist/registry/index.js';
import scheduler from '../../dist/scheduler/index.js';
import logMod from '../../dist/lib/log.js';
import { fourLetter } from '../helpers/zookeeper.mjs';
import { waitFor } from '../helpers/tmp.mjs';

export const { ZkClient } = registry;
export const { LeaderElection, NotLeaderError } = scheduler;
export { waitFor };

let seq = 0;
/** A fresh cell per test, so tests can share one server. */
export function uniqueCell() {
  return `/meta/e${process.pid}-${++seq}`;
}

/**
 * A started ZkClient + LeaderElection (closed at teardown), with its events recorded.
 * `o`: connect, cell, instance, and optionally digest, sessionTimeoutMs, recheckMs, and
 * join: false not to wait for its election node.
 */
export async function candidate(t, o) {
  const lines = [];
  const log = logMod.createLogger({ level: 'debug', destination: { write: (s) => lines.push(s) } });
  const client = new ZkClient({ connect: o.connect, sessionTimeoutMs: o.sessionTimeoutMs ?? 1500, digest: o.digest, log });
  client.start();
  const election = new LeaderElection({ client, cellPath: o.cell, instance: o.instance, protect: o.digest !== undefined, log, recheckMs: o.recheckMs ?? 500 });
  const events = [];
  election.on('leader', (who) => events.push({ at: Date.now(), event: 'leader', who }));
  election.on('follower', (who) => events.push({ at: Date.now(), event: 'follower', who }));
  const errors = [];
  if (o.join === false) election.on('error', (err) => errors.push(err));
  t.teardown(async () => {
    await election.close();
    await client.close();
  });
  election.start();
  if (o.join !== false) await waitFor(() => election.nodePath(), { what: `${o.instance} in the election` });
  return { instance: o.instance, client, election, events, errors, logs: () => lines.map((l) => JSON.parse(l)) };
}

/** The one leader among `cands` once exactly one thinks it leads and all agree on it. */
export function oneLeader(cands, what = 'one leader') {
  return waitFor(
    () => {
      const leaders = cands.filter((c) => c.election.isLeader());
      return leaders.length === 1 && cands.every((c) => c.election.leaderInstance() === leaders[0].instance) ? leaders[0] : false;
    },
    { timeoutMs: 15_000, what },
  );
}

/** The paths each session watches on the server at `port`: Map of hex session id (16 digits) → sorted paths. */
export async function watchesBySession(port) {
  const out = await fourLetter(port, 'wchc');
  const map = new Map();
  let current;
  for (const line of out.split('\n')) {
    const session = /^0x([0-9a-f]+)\s*$/.exec(line);
    if (session) {
      current = BigInt('0x' + session[1]).toString(16).padStart(16, '0');
      map.set(current, []);
    } else if (current && line.trim().startsWith('/')) {
      map.get(current).push(line.trim());
    }
  }
  for (const paths of map.values()) paths.sort();
  return map;
}

/**
 * What every candidate tries while a test runs: a fenced write, every `everyMs`, whether it
 * thinks it leads or not: a sequential node under `<cell>/log` whose data names the writer and
 * the election node that fenced it. Returns stop() and the tallies.
 */
export function writeLoop(t, c, cell, everyMs = 20) {
  const tally = { ok: 0, notLeader: 0, other: 0, errors: [] };
  let running = true;
  const done = (async () => {
    while (running) {
      const node = c.election.nodePath();
      try {
        await c.election.fencedWrite([{ op: 'create', path: `${cell}/log/w_`, sequential: true, data: Buffer.from(`${c.instance} ${node}`) }]);
        tally.ok++;
      } catch (err) {
        if (err instanceof NotLeaderError) tally.notLeader++;
        else {
          tally.other++;
          tally.errors.push(err.code ?? String(err));
        }
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  const stop = async () => {
    running = false;
    await done;
  };
  t.teardown(stop);
  return { tally, stop };
}

/**
 * A plain ZkClient to look at the server with, connected (closed at teardown): unlike the
 * library's client, its calls have deadlines and it outlives a server restart.
 */
export async function reader(t, connect) {
  const client = new ZkClient({ connect, sessionTimeoutMs: 4000, log: logMod.silentLogger() });
  t.teardown(() => client.close());
  client.start();
  await waitFor(() => client.state === 'connected', { what: 'reader connected' });
  return client;
}

/** The log written by writeLoop(), in write order, read with `client` (a ZkClient): [{writer, node, seq}] (seq: the fencing node's sequence). */
export async function readLog(client, cell) {
  const names = (await client.getChildren(`${cell}/log`)).sort();
  const entries = [];
  for (const name of names) {
    const [writer, node] = String((await client.getData(`${cell}/log/${name}`)).data).split(' ');
    entries.push({ writer, node, seq: Number(node.slice(-10)) });
  }
  return entries;
}
