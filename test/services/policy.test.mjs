import test from 'ava';
import { RestartPolicy } from '../../dist/services/policy.js';
import { canTransition } from '../../dist/services/state.js';
import { parseSpec } from '../../dist/services/spec.js';

const defaults = parseSpec({ coordinate: '1.a.b.c', artifact: 'g:a:1' }).restart;

/** Runs exits at the given times (ms) through a policy with a fake clock. */
function run(restart, exits) {
  let now = 0;
  const policy = new RestartPolicy({ ...defaults, ...restart, limit: { ...defaults.limit, ...(restart.limit ?? {}) } }, () => now);
  let window = [];
  return exits.map(([at, code, signal = null]) => {
    now = at;
    const d = policy.decide({ code, signal }, window);
    if (d.action !== 'restart') return d.action;
    window = d.window;
    return `restart ${d.delayMs}`;
  });
}

const table = [
  ['defaults: backoff 100 ms doubling', {}, [[0, 1], [1000, 1], [2000, 1], [3000, 1], [4000, 1]], ['restart 100', 'restart 200', 'restart 400', 'restart 800', 'restart 1600']],
  ['defaults: the sixth crash within 60 s fails', {}, [[0, 1], [1, 1], [2, 1], [3, 1], [4, 1], [5, 1]], ['restart 100', 'restart 200', 'restart 400', 'restart 800', 'restart 1600', 'failed']],
  ['the window slides: old restarts stop counting and backoff starts over', { limit: { restarts: 2, windowSeconds: 10 } }, [[0, 1], [1000, 1], [11_001, 1], [12_000, 1], [13_000, 1]], ['restart 100', 'restart 200', 'restart 100', 'restart 200', 'failed']],
  ['backoff is capped at maxBackoffMs', { backoffMs: 1000, maxBackoffMs: 3000, limit: { restarts: 100 } }, [[0, 1], [1, 1], [2, 1], [3, 1]], ['restart 1000', 'restart 2000', 'restart 3000', 'restart 3000']],
  ['zero backoff restarts at once', { backoffMs: 0 }, [[0, null, 'SIGKILL'], [1, null, 'SIGKILL']], ['restart 0', 'restart 0']],
  ['always restarts a clean exit too', { policy: 'always' }, [[0, 0]], ['restart 100']],
  ['on-failure: a clean exit stays exited', { policy: 'on-failure' }, [[0, 0]], ['exited']],
  ['on-failure: a non-zero code restarts', { policy: 'on-failure' }, [[0, 2]], ['restart 100']],
  ['on-failure: a signal restarts', { policy: 'on-failure' }, [[0, null, 'SIGSEGV']], ['restart 100']],
  ['on-failure: an unknown status (adopted process) counts as a failure', { policy: 'on-failure' }, [[0, null]], ['restart 100']],
  ['never: not even after a crash', { policy: 'never' }, [[0, 1]], ['exited']],
  ['limit 0: the first crash fails', { limit: { restarts: 0 } }, [[0, 1]], ['failed']],
];

for (const [name, restart, exits, expected] of table) {
  test(`policy: ${name}`, (t) => {
    t.deepEqual(run(restart, exits), expected);
  });
}

test('policy: the window is the caller\'s (kept in the record), so a new policy object goes on counting it', (t) => {
  let now = 10_000;
  const spec = { ...defaults, limit: { restarts: 2, windowSeconds: 60 } };
  const first = new RestartPolicy(spec, () => now);
  const d = first.decide({ code: 1, signal: null }, [5_000]);
  t.deepEqual(d.window, [5_000, 10_000]);
  now = 11_000;
  // a daemon restart builds a new policy: the record's window still says two restarts
  t.is(new RestartPolicy(spec, () => now).decide({ code: 1, signal: null }, d.window).action, 'failed');
  // an operator start empties the window
  t.is(new RestartPolicy(spec, () => now).decide({ code: 1, signal: null }, []).action, 'restart');
  // times from a clock that went backwards do not count
  t.is(new RestartPolicy(spec, () => now).decide({ code: 1, signal: null }, [50_000, 60_000]).action, 'restart');
});

test('state transitions: only the listed ones are allowed', (t) => {
  const allowed = [
    ['stopped', 'starting'], ['starting', 'running'], ['running', 'backoff'], ['backoff', 'starting'], ['running', 'starting'],
    ['running', 'draining'], ['draining', 'stopping'], ['draining', 'stopped'], ['running', 'stopping'], ['stopping', 'stopped'],
    ['running', 'exited'], ['running', 'failed'], ['failed', 'starting'], ['exited', 'starting'], ['backoff', 'stopped'],
  ];
  const refused = [
    ['stopped', 'running'], ['stopping', 'running'], ['draining', 'running'], ['failed', 'running'], ['backoff', 'running'],
    ['stopped', 'backoff'], ['exited', 'running'], ['stopping', 'starting'],
  ];
  for (const [from, to] of allowed) t.true(canTransition(from, to), `${from} -> ${to}`);
  for (const [from, to] of refused) t.false(canTransition(from, to), `${from} -> ${to}`);
});
