// A process that holds a Presence until it is killed: `node presence-child.mjs '<json options>'`.
// The tests kill it with -9 to leave a node behind, as a crashed daemon would.
import { Presence, record } from './_zk.mjs';
import logMod from '../../dist/lib/log.js';
import metricsMod from '../../dist/lib/metrics.js';

const o = JSON.parse(process.argv[2]);
const presence = new Presence({ ...o, log: logMod.silentLogger(), metrics: metricsMod.createMetricsRegistry(false) });
presence.start();
presence.setData(record(o.instance ?? 'child', 1));
process.stdout.write('started\n');
setInterval(() => {}, 1 << 30);
