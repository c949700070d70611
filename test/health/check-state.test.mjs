import test from 'ava';
import { count, INITIAL } from '../../dist/health/index.js';

/**
 * Runs results [atMs, ok] through count() for a service started at 0 (a fake clock: `at` is
 * the result's time) and lists, per result, the status and "dead" on the result that kills.
 */
function run(check, results) {
  const c = { type: 'liveness', failureThreshold: 3, graceMs: 0, ...check };
  let state = INITIAL;
  return results.map(([at, ok]) => {
    const r = count(c, state, { ok, output: ok ? 'HTTP 200' : 'HTTP 503' }, at, 0);
    state = r.state;
    return r.dead ? `${r.state.status} dead` : r.state.status;
  });
}

const F = false;
const P = true;
const table = [
  ['liveness: three failures in a row kill', {}, [[1, F], [2, F], [3, F]], ['failing', 'failing', 'failing dead']],
  ['liveness: dead once per streak, not on every further failure', {}, [[1, F], [2, F], [3, F], [4, F], [5, F]], ['failing', 'failing', 'failing dead', 'failing', 'failing']],
  ['liveness: a pass in between starts the count over', {}, [[1, F], [2, F], [3, P], [4, F], [5, F], [6, F]], ['failing', 'failing', 'passing', 'failing', 'failing', 'failing dead']],
  ['liveness: threshold 1 kills at the first failure', { failureThreshold: 1 }, [[1, F]], ['failing dead']],
  ['liveness: failures within the grace are shown but do not count', { graceMs: 1000 }, [[100, F], [500, F], [999, F], [1000, F], [1100, F]], ['failing', 'failing', 'failing', 'failing', 'failing']],
  ['liveness: after the grace, three more kill', { graceMs: 1000 }, [[100, F], [999, F], [1000, F], [1100, F], [1200, F]], ['failing', 'failing', 'failing', 'failing', 'failing dead']],
  ['liveness: a new streak after a pass kills again', { failureThreshold: 2 }, [[1, F], [2, F], [3, P], [4, F], [5, F]], ['failing', 'failing dead', 'passing', 'failing', 'failing dead']],
  ['readiness: never dies, however long it fails', { type: 'readiness', failureThreshold: 1 }, [[1, F], [2, F], [3, F], [4, F]], ['failing', 'failing', 'failing', 'failing']],
  ['readiness: passing after failing', { type: 'readiness' }, [[1, F], [2, P]], ['failing', 'passing']],
];

for (const [name, check, results, expected] of table) {
  test(`check state: ${name}`, (t) => {
    t.deepEqual(run(check, results), expected);
  });
}

test('check state: pending until the first result, which brings its output and time', (t) => {
  t.is(INITIAL.status, 'pending');
  t.is(INITIAL.at, null);
  const { state } = count({ type: 'readiness', failureThreshold: 3, graceMs: 0 }, INITIAL, { ok: false, output: 'connect ECONNREFUSED' }, 42, 0);
  t.deepEqual(state, { status: 'failing', output: 'connect ECONNREFUSED', at: 42, failures: 0 });
  t.is(INITIAL.status, 'pending', 'the initial state is not changed in place');
});
