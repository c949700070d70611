import test from 'ava';
import { historyFromStatuses, plan } from '../../dist/scheduler/index.js';
import { at, gone, HOUR, job, LOST_AFTER, MIN, node, NOW, planOf, seen, summary, viewOf } from './_cell.mjs';

// The planner's table (as Nomad's scheduler tests): each row a cell, and what the plan must
// write, remove and report. put, remove and pending are always compared (absent: none);
// instances and history only where the row names them.

const web = job('web.u.c', 1);
const webOf = (count, o) => job('web.u.c', count, o);
const batch = job('run.u.c', 1, { type: 'batch' });
const a = node('node-a');
const b = node('node-b');

const table = [
  // placement: spread, then most free memory, then name
  ['spread: two instances on two equal nodes, one each', { nodes: [a, b], jobs: [webOf(2)] }, { put: ['node-a 0.web.u.c v1', 'node-b 1.web.u.c v1'] }],
  ['spread comes before memory', { nodes: [node('node-a', { mem: 8000 }), node('node-b', { mem: 2000 })], jobs: [webOf(2, { mem: 500 })] }, { put: ['node-a 0.web.u.c v1', 'node-b 1.web.u.c v1'] }],
  [
    'the node with the most memory free after placing',
    { nodes: [node('node-a', { usedMem: 6000 }), node('node-b', { usedMem: 1000 }), node('node-c', { mem: 4000 })], jobs: [web] },
    { put: ['node-b 0.web.u.c v1'] },
  ],
  ['ties go by name, whatever the input order', { nodes: [node('node-c'), b, a], jobs: [web] }, { put: ['node-a 0.web.u.c v1'] }],
  ['what this plan placed counts: the next job goes to the emptier node', { nodes: [a, b], jobs: [web, job('db.u.c', 1)] }, { put: ['node-a 0.db.u.c v1', 'node-b 0.web.u.c v1'] }],
  [
    'the job\'s instances already placed count for spread',
    {
      nodes: [node('node-a', { usedMem: 2000 }), node('node-b', { mem: 4000 })],
      jobs: [webOf(3)],
      assigned: [at('node-a', web, 0), at('node-a', web, 1)],
      observed: [seen('node-a', '0.web.u.c', 'running'), seen('node-a', '1.web.u.c', 'running')],
    },
    { put: ['node-b 2.web.u.c v1'] },
  ],
  [
    'memory short everywhere: the reason names the most free',
    { nodes: [node('node-a', { usedMem: 7000 }), node('node-b', { usedMem: 6800 })], jobs: [webOf(1, { mem: 4000 })] },
    { pending: ['0.web.u.c: memoryMB: needs 4000, most free 1200 on node-b'], instances: ['0.web.u.c - pending'] },
  ],
  [
    'one reason per rule, in the order the rules are checked',
    { nodes: [node('node-a', { labels: { zone: 'eu-1b' } }), node('node-b', { labels: { zone: 'eu-1a' }, usedCpu: 3 })], jobs: [webOf(1, { cpu: 2, labels: { zone: 'eu-1a' } })] },
    { pending: ['0.web.u.c: label zone=eu-1a: not on node-a; cpu: needs 2, most free 1 on node-b'] },
  ],
  ['a label constraint picks the matching node over the emptier one', { nodes: [node('node-a', { labels: { zone: 'eu-1b' } }), node('node-b', { mem: 2000, labels: { zone: 'eu-1a' } })], jobs: [webOf(1, { labels: { zone: 'eu-1a' } })] }, { put: ['node-b 0.web.u.c v1'] }],
  ['no node has the label', { nodes: [node('node-a', { labels: { zone: 'eu-1b' } }), b], jobs: [webOf(1, { labels: { zone: 'eu-1a' } })] }, { pending: ['0.web.u.c: label zone=eu-1a: no node'] }],
  [
    'every label must match',
    {
      nodes: [node('node-a', { labels: { ssd: 'true', zone: 'eu-1b' } }), node('node-b', { mem: 2000, labels: { zone: 'eu-1a', ssd: 'true' } }), node('node-c', { labels: { zone: 'eu-1a' } })],
      jobs: [webOf(1, { labels: { zone: 'eu-1a', ssd: 'true' } })],
    },
    { put: ['node-b 0.web.u.c v1'] },
  ],
  ['maxPerNode: no more of the job on a node', { nodes: [a, b], jobs: [webOf(3, { maxPerNode: 1 })] }, { put: ['node-a 0.web.u.c v1', 'node-b 1.web.u.c v1'], pending: ['2.web.u.c: maxPerNode 1 reached on node-a, node-b'] }],
  [
    'an assignment its node has not started yet counts against the node',
    { nodes: [a, node('node-b', { mem: 5000 })], jobs: [job('db.u.c', 1, { mem: 6000 }), webOf(1, { mem: 4000 })], assigned: [at('node-a', job('db.u.c', 1, { mem: 6000 }), 0)] },
    { put: ['node-b 0.web.u.c v1'], instances: ['0.db.u.c node-a pending', '0.web.u.c node-b pending'] },
  ],
  [
    'a service that exited reserves nothing (the record\'s reserved says so)',
    { nodes: [a, node('node-b', { mem: 5000 })], jobs: [job('db.u.c', 1, { mem: 6000 }), webOf(1, { mem: 4000 })], assigned: [at('node-a', job('db.u.c', 1, { mem: 6000 }), 0)], observed: [seen('node-a', '0.db.u.c', 'exited')] },
    { put: ['node-a 0.web.u.c v1'] },
  ],
  ['no node at all', { nodes: [], jobs: [web] }, { pending: ['0.web.u.c: no live node'] }],
  ['no live node, and why each is not', { nodes: [node('node-a', { state: 'draining' }), gone('node-b', NOW - 1000), node('node-c', { state: 'stopping' })], jobs: [web] }, { pending: ['0.web.u.c: no live node (node-a draining, node-b record gone, node-c not active)'] }],
  ['a nodee 0.1 node (no resources in its record) gets nothing', { nodes: [node('node-a', { v01: true })], jobs: [web] }, { pending: ['0.web.u.c: no resources in record (nodee 0.1): node-a'] }],
  ['a reservation that fills the node exactly fits', { nodes: [node('node-a', { usedMem: 7000 })], jobs: [web] }, { put: ['node-a 0.web.u.c v1'] }],

  // nodes that go away
  [
    'record gone for less than lostAfterMs: kept where it is, state unknown',
    { nodes: [gone('node-a', NOW - LOST_AFTER + 1), b], jobs: [web], assigned: [at('node-a', web, 0)] },
    { instances: ['0.web.u.c node-a unknown'] },
  ],
  ['record gone for lostAfterMs: lost, the instance moves', { nodes: [gone('node-a', NOW - LOST_AFTER), b], jobs: [web], assigned: [at('node-a', web, 0)] }, { put: ['node-b 0.web.u.c v1'], remove: ['node-a 0.web.u.c'] }],
  ['a node that holds assignments but is not in the view is not taken for lost', { nodes: [b], jobs: [web], assigned: [at('node-x', web, 0)] }, { instances: ['0.web.u.c node-x unknown'] }],
  [
    'a draining node\'s instances move',
    { nodes: [node('node-a', { state: 'draining' }), b], jobs: [web], assigned: [at('node-a', web, 0)], observed: [seen('node-a', '0.web.u.c', 'draining')] },
    { put: ['node-b 0.web.u.c v1'], remove: ['node-a 0.web.u.c'] },
  ],
  ['draining and nowhere to go: removed, pending', { nodes: [node('node-a', { state: 'draining' })], jobs: [web], assigned: [at('node-a', web, 0)] }, { remove: ['node-a 0.web.u.c'], pending: ['0.web.u.c: no live node (node-a draining)'] }],

  // failed services move, at most 3 times an hour
  [
    'a failed service moves to another node',
    { nodes: [a, b], jobs: [web], assigned: [at('node-a', web, 0)], observed: [seen('node-a', '0.web.u.c', 'failed')] },
    { put: ['node-b 0.web.u.c v1'], remove: ['node-a 0.web.u.c'], history: { moves: { '0.web.u.c': [NOW] }, batch: {} } },
  ],
  [
    'the third move within the hour',
    { nodes: [a, b], jobs: [web], assigned: [at('node-a', web, 0)], observed: [seen('node-a', '0.web.u.c', 'failed')], history: { moves: { '0.web.u.c': [NOW - 50 * MIN, NOW - 10 * MIN] }, batch: {} } },
    { put: ['node-b 0.web.u.c v1'], remove: ['node-a 0.web.u.c'], history: { moves: { '0.web.u.c': [NOW - 50 * MIN, NOW - 10 * MIN, NOW] }, batch: {} } },
  ],
  [
    'a fourth failure within the hour stays failed where it is',
    { nodes: [a, b], jobs: [web], assigned: [at('node-a', web, 0)], observed: [seen('node-a', '0.web.u.c', 'failed')], history: { moves: { '0.web.u.c': [NOW - 50 * MIN, NOW - 30 * MIN, NOW - 10 * MIN] }, batch: {} } },
    { instances: ['0.web.u.c node-a failed'], history: { moves: { '0.web.u.c': [NOW - 50 * MIN, NOW - 30 * MIN, NOW - 10 * MIN] }, batch: {} } },
  ],
  [
    'a move an hour old no longer counts',
    { nodes: [a, b], jobs: [web], assigned: [at('node-a', web, 0)], observed: [seen('node-a', '0.web.u.c', 'failed')], history: { moves: { '0.web.u.c': [NOW - HOUR, NOW - 30 * MIN, NOW - 10 * MIN] }, batch: {} } },
    { put: ['node-b 0.web.u.c v1'], remove: ['node-a 0.web.u.c'], history: { moves: { '0.web.u.c': [NOW - 30 * MIN, NOW - 10 * MIN, NOW] }, batch: {} } },
  ],
  [
    'failed with no other node: removed, pending',
    { nodes: [a], jobs: [web], assigned: [at('node-a', web, 0)], observed: [seen('node-a', '0.web.u.c', 'failed')] },
    { remove: ['node-a 0.web.u.c'], pending: ['0.web.u.c: another node needed: failed on node-a'] },
  ],
  [
    'failed for good, until a new version is written over it in place',
    { nodes: [a, b], jobs: [webOf(1, { version: 2 })], assigned: [at('node-a', web, 0)], observed: [seen('node-a', '0.web.u.c', 'failed')], history: { moves: { '0.web.u.c': [NOW - 50 * MIN, NOW - 30 * MIN, NOW - 10 * MIN] }, batch: {} } },
    { put: ['node-a 0.web.u.c v2'], instances: ['0.web.u.c node-a failed'] },
  ],

  // batch: once, exit 0 stays done, a failure retried on another node up to 3 times
  [
    'batch: exit 0 is complete, its assignment removed',
    { nodes: [a, b], jobs: [batch], assigned: [at('node-a', batch, 0)], observed: [seen('node-a', '0.run.u.c', 'exited', { exitCode: 0 })] },
    { remove: ['node-a 0.run.u.c'], instances: ['0.run.u.c node-a complete'], history: { moves: {}, batch: { '0.run.u.c': { failures: 0, outcome: 'complete', node: 'node-a' } } } },
  ],
  [
    'batch: complete stays done',
    { nodes: [a, b], jobs: [batch], history: { moves: {}, batch: { '0.run.u.c': { failures: 1, outcome: 'complete', node: 'node-b' } } } },
    { instances: ['0.run.u.c node-b complete'], history: { moves: {}, batch: { '0.run.u.c': { failures: 1, outcome: 'complete', node: 'node-b' } } } },
  ],
  [
    'batch: a failed run is tried again on another node',
    { nodes: [a, b], jobs: [batch], assigned: [at('node-a', batch, 0)], observed: [seen('node-a', '0.run.u.c', 'exited', { exitCode: 1 })] },
    { put: ['node-b 0.run.u.c v1'], remove: ['node-a 0.run.u.c'], history: { moves: {}, batch: { '0.run.u.c': { failures: 1, outcome: null, node: null } } } },
  ],
  [
    'batch: an exit whose code nobody knows counts as a failure',
    { nodes: [a, b], jobs: [batch], assigned: [at('node-a', batch, 0)], observed: [seen('node-a', '0.run.u.c', 'exited')] },
    { put: ['node-b 0.run.u.c v1'], remove: ['node-a 0.run.u.c'] },
  ],
  [
    'batch: the fourth failure is final',
    { nodes: [a, b], jobs: [batch], assigned: [at('node-b', batch, 0)], observed: [seen('node-b', '0.run.u.c', 'failed')], history: { moves: {}, batch: { '0.run.u.c': { failures: 3, outcome: null, node: null } } } },
    { instances: ['0.run.u.c node-b failed'], history: { moves: {}, batch: { '0.run.u.c': { failures: 4, outcome: 'failed', node: 'node-b' } } } },
  ],
  [
    'batch: failed for good stays failed when its node is lost',
    { nodes: [gone('node-a', NOW - HOUR), b], jobs: [batch], assigned: [at('node-a', batch, 0)], history: { moves: {}, batch: { '0.run.u.c': { failures: 4, outcome: 'failed', node: 'node-a' } } } },
    { remove: ['node-a 0.run.u.c'], instances: ['0.run.u.c node-a failed'] },
  ],
  ['batch: a running instance is left alone', { nodes: [a, b], jobs: [batch], assigned: [at('node-a', batch, 0)], observed: [seen('node-a', '0.run.u.c', 'running', { ready: true })] }, { instances: ['0.run.u.c node-a running ready'] }],

  // the job changes
  [
    'count lowered: the highest indexes go',
    { nodes: [a, b], jobs: [web], assigned: [at('node-a', web, 0), at('node-b', web, 1), at('node-a', web, 2)] },
    { remove: ['node-a 2.web.u.c', 'node-b 1.web.u.c'], instances: ['0.web.u.c node-a pending'] },
  ],
  ['job deleted: every assignment of it removed', { nodes: [a, b], jobs: [], assigned: [at('node-a', web, 0), at('node-b', web, 1)] }, { remove: ['node-a 0.web.u.c', 'node-b 1.web.u.c'], instances: [] }],
  ['a new version is rewritten on the same node', { nodes: [a, b], jobs: [webOf(1, { version: 2 })], assigned: [at('node-a', web, 0)], observed: [seen('node-a', '0.web.u.c', 'running', { ready: true })] }, { put: ['node-a 0.web.u.c v2'], instances: ['0.web.u.c node-a running ready'] }],
  [
    'a new version its node no longer fits (a label) moves',
    { nodes: [a, node('node-b', { labels: { zone: 'eu-1a' } })], jobs: [webOf(1, { version: 2, labels: { zone: 'eu-1a' } })], assigned: [at('node-a', web, 0)], observed: [seen('node-a', '0.web.u.c', 'running')] },
    { put: ['node-b 0.web.u.c v2'], remove: ['node-a 0.web.u.c'] },
  ],
  [
    'a new version asking more memory: its own old reservation is counted as free',
    { nodes: [node('node-a', { usedMem: 3000 }), node('node-b', { mem: 16000 })], jobs: [webOf(1, { version: 2, mem: 7000 })], assigned: [at('node-a', webOf(1, { mem: 3000 }), 0)], observed: [seen('node-a', '0.web.u.c', 'running')] },
    { put: ['node-a 0.web.u.c v2'] },
  ],
  [
    'a new version too big for its node even so moves',
    { nodes: [node('node-a', { usedMem: 3000 }), node('node-b', { mem: 16000 })], jobs: [webOf(1, { version: 2, mem: 9000 })], assigned: [at('node-a', webOf(1, { mem: 3000 }), 0)], observed: [seen('node-a', '0.web.u.c', 'running')] },
    { put: ['node-b 0.web.u.c v2'], remove: ['node-a 0.web.u.c'] },
  ],
  [
    'a new version under maxPerNode 1: the instance does not count against itself',
    { nodes: [node('node-a', { usedMem: 1000 }), b], jobs: [webOf(1, { version: 2, maxPerNode: 1 })], assigned: [at('node-a', web, 0)], observed: [seen('node-a', '0.web.u.c', 'running')] },
    { put: ['node-a 0.web.u.c v2'], instances: ['0.web.u.c node-a running'] },
  ],
  ['the same version is left alone even where it would no longer be placed', { nodes: [a, b], jobs: [webOf(1, { labels: { zone: 'eu-1a' } })], assigned: [at('node-a', web, 0)], observed: [seen('node-a', '0.web.u.c', 'running')] }, { instances: ['0.web.u.c node-a running'] }],

  // garbage and strays
  ['an unreadable assignment is written over', { nodes: [a, b], jobs: [web], assigned: [['node-a', '0.web.u.c', null]] }, { put: ['node-a 0.web.u.c v1'] }],
  ['an unreadable assignment on a node that no longer suits is removed', { nodes: [node('node-a', { usedMem: 4000 }), b], jobs: [web], assigned: [['node-a', '0.web.u.c', null]] }, { put: ['node-b 0.web.u.c v1'], remove: ['node-a 0.web.u.c'] }],
  ['an assignment under a name that is no coordinate is removed', { nodes: [a], jobs: [], assigned: [['node-a', 'garbage', null], at('node-a', web, 0, '00.web.u.c')] }, { remove: ['node-a 00.web.u.c', 'node-a garbage'] }],
  [
    'an assignment whose data names another instance is replaced',
    { nodes: [node('node-a', { usedMem: 4000 }), b], jobs: [webOf(2)], assigned: [at('node-a', web, 1, '0.web.u.c')] },
    { put: ['node-a 1.web.u.c v1', 'node-b 0.web.u.c v1'], remove: ['node-a 0.web.u.c'] },
  ],
  [
    'one instance on two nodes: the one its node reports stays',
    { nodes: [a, b], jobs: [web], assigned: [at('node-a', web, 0), at('node-b', web, 0)], observed: [seen('node-b', '0.web.u.c', 'running')] },
    { remove: ['node-a 0.web.u.c'], instances: ['0.web.u.c node-b running'] },
  ],
  [
    'a node\'s refusal is the instance\'s pending reason',
    { nodes: [a, b], jobs: [web], assigned: [at('node-a', web, 0)], observed: [seen('node-a', '0.web.u.c', 'stopped', { refused: 'a spec without user runs as root; scheduler.allowRoot is off' })] },
    { pending: ['0.web.u.c: node-a: a spec without user runs as root; scheduler.allowRoot is off'], instances: ['0.web.u.c node-a pending'] },
  ],
  [
    'history of instances that no longer exist is forgotten',
    { nodes: [a], jobs: [web], assigned: [at('node-a', web, 0)], history: { moves: { '0.db.u.c': [NOW - MIN], '1.web.u.c': [NOW - MIN] }, batch: { '0.web.u.c': { failures: 1, outcome: null, node: null } } } },
    { history: { moves: {}, batch: {} } },
  ],
];

for (const [name, scenario, expected] of table) {
  test(`plan: ${name}`, (t) => {
    const got = summary(planOf(scenario));
    t.deepEqual(got.put, expected.put ?? [], 'put');
    t.deepEqual(got.remove, expected.remove ?? [], 'remove');
    t.deepEqual(got.pending, expected.pending ?? [], 'pending');
    if (expected.instances) t.deepEqual(got.instances, expected.instances, 'instances');
    if (expected.history) t.deepEqual(got.history, expected.history, 'history');
  });
}

test('plan: a job status as the leader writes it', (t) => {
  const p = planOf({
    nodes: [a, node('node-b', { mem: 1500, usedMem: 1000 })],
    jobs: [webOf(4, { version: 3, maxPerNode: 2 })],
    assigned: [at('node-a', webOf(1, { version: 3 }), 0), at('node-b', webOf(1, { version: 3 }), 1)],
    observed: [seen('node-a', '0.web.u.c', 'running', { ready: true }), seen('node-b', '1.web.u.c', 'backoff')],
  });
  t.deepEqual(p.statuses, [
    {
      job: 'web.u.c',
      version: 3,
      instances: [
        { coordinate: '0.web.u.c', node: 'node-a', state: 'running', ready: true },
        { coordinate: '1.web.u.c', node: 'node-b', state: 'backoff', ready: false },
        { coordinate: '2.web.u.c', node: 'node-a', state: 'pending', ready: false },
        { coordinate: '3.web.u.c', node: null, state: 'pending', ready: false },
      ],
      counts: { backoff: 1, pending: 2, running: 1 },
      pending: [{ coordinate: '3.web.u.c', reason: 'maxPerNode 2 reached on node-a; memoryMB: needs 1000, most free 500 on node-b' }],
      updatedAt: '2024-01-01T12:00:00.000Z',
    },
  ]);
  t.deepEqual(p.put.map((x) => x.assignment), [{ job: 'web.u.c', jobVersion: 3, spec: { coordinate: '2.web.u.c', ...webOf(1).spec }, assignedAt: '2024-01-01T12:00:00.000Z' }]);
});

test('plan: the same cell in another order gives the same plan, and the view is not changed', (t) => {
  const scenario = {
    nodes: [node('node-c', { usedMem: 500 }), a, b, gone('node-d', NOW - HOUR)],
    jobs: [webOf(5, { maxPerNode: 2 }), job('db.u.c', 2, { mem: 3000 }), job('run.u.c', 2, { type: 'batch' })],
    assigned: [at('node-d', web, 0), at('node-a', web, 1), at('node-b', job('db.u.c', 1, { mem: 3000 }), 0), at('node-c', batch, 1)],
    observed: [seen('node-a', '1.web.u.c', 'failed'), seen('node-c', '1.run.u.c', 'exited', { exitCode: 0 })],
  };
  const view = viewOf(scenario);
  const before = JSON.stringify(view);
  const first = plan(view, NOW);
  t.is(JSON.stringify(view), before, 'the view is not changed');
  const reversed = { ...view, jobs: [...view.jobs].reverse(), nodes: [...view.nodes].reverse() };
  t.deepEqual(plan(reversed, NOW), first);
  t.deepEqual(plan(view, NOW), first, 'and twice the same');
  t.true(first.put.length > 3, 'the cell is busy enough to tell orders apart');
});

test('plan: its put becomes the next view, and the plan after is quiet', (t) => {
  const view = viewOf({ nodes: [a, b, node('node-c')], jobs: [webOf(4), job('db.u.c', 2)] });
  const first = plan(view, NOW);
  const assignments = {};
  for (const p of first.put) (assignments[p.node] ??= {})[p.coordinate] = p.assignment;
  const second = plan({ ...view, assignments, history: first.history }, NOW + MIN);
  t.deepEqual([second.put, second.remove], [[], []]);
});

test('historyFromStatuses: a new leader keeps the batch outcomes its predecessor wrote, and passes over garbage', (t) => {
  const statuses = [
    {
      job: 'run.u.c',
      instances: [
        { coordinate: '0.run.u.c', node: 'node-a', state: 'complete', ready: false },
        { coordinate: '1.run.u.c', node: 'node-b', state: 'failed', ready: false },
        { coordinate: '2.run.u.c', node: 'node-c', state: 'running', ready: true },
        null,
        { coordinate: 7 },
      ],
    },
    { job: 'web.u.c', instances: [{ coordinate: '0.web.u.c', node: 'node-a', state: 'failed' }] },
    'garbage',
    null,
    { job: 'run.u.c', instances: 'many' },
  ];
  t.deepEqual(historyFromStatuses([job('run.u.c', 3, { type: 'batch' }), web], statuses), {
    moves: {},
    batch: {
      '0.run.u.c': { failures: 0, outcome: 'complete', node: 'node-a' },
      '1.run.u.c': { failures: 4, outcome: 'failed', node: 'node-b' },
    },
  });
});
