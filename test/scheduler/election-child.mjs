// A process that stays in the election until it is killed: `node election-child.mjs '<json>'`
// with connect, cell, instance, sessionTimeoutMs. Prints one JSON line per event
// ({"node", "session"} once it has its node, then {"event": "leader"|"follower", "who"}).
// The tests kill it with -9, as a crashed daemon would die: its session lives on until it expires.
import { ZkClient, LeaderElection, waitFor } from './_election.mjs';
import logMod from '../../dist/lib/log.js';

const o = JSON.parse(process.argv[2]);
const log = logMod.silentLogger();
const client = new ZkClient({ connect: o.connect, sessionTimeoutMs: o.sessionTimeoutMs, log });
client.start();
const election = new LeaderElection({ client, cellPath: o.cell, instance: o.instance, protect: false, log, recheckMs: 500 });
const say = (line) => process.stdout.write(JSON.stringify(line) + '\n');
election.on('leader', (who) => say({ event: 'leader', who }));
election.on('follower', (who) => say({ event: 'follower', who }));
election.start();
const node = await waitFor(() => election.nodePath(), { what: 'our node' });
say({ node, session: client.sessionId });
setInterval(() => {}, 1 << 30);
