import test from 'ava';
import { assignmentFor, decodeZnode, instanceCoordinate, parseAssignment, parseJob } from '../../dist/scheduler/index.js';

const SPEC = { artifact: 'com.example:web:1.0.0' };
const JOB = { name: 'web.borud.fbu', count: 2, spec: SPEC };

/** parseJob's answer: the job, or "CODE: message" (no row may crash the parser). */
function parse(input) {
  try {
    return parseJob(input);
  } catch (err) {
    return `${err.code}: ${err.message}`;
  }
}

// [name, input, check: expected fields of the job, or the exact error]
const table = [
  ['defaults: a service job, version 1, the spec with its defaults', JOB, { type: 'service', version: 1, count: 2, restart: 'always' }],
  ['a batch job runs once: policy forced to never, whatever the spec says', { ...JOB, type: 'batch', spec: { ...SPEC, restart: { policy: 'always' } } }, { type: 'batch', restart: 'never' }],
  ['constraints, maxPerNode and version are kept', { ...JOB, constraints: { labels: { zone: 'eu-1a' } }, maxPerNode: 1, version: 7 }, { labels: { zone: 'eu-1a' }, maxPerNode: 1, version: 7 }],
  ['count 0 is a job with nothing to run (nodee cluster stop)', { ...JOB, count: 0 }, { count: 0 }],
  ['count 1000 is the most', { ...JOB, count: 1000 }, { count: 1000 }],
  ['a name of two parts', { ...JOB, name: 'web.borud' }, 'BAD_REQUEST: name: "web.borud" is not service.user.cell (e.g. myservice.borud.fbu)'],
  ['a name with a capital', { ...JOB, name: 'Web.borud.fbu' }, 'BAD_REQUEST: name: "Web.borud.fbu" is not service.user.cell (e.g. myservice.borud.fbu)'],
  ['a name that is a coordinate', { ...JOB, name: '1.web.borud.fbu' }, 'BAD_REQUEST: name: "1.web.borud.fbu" is not service.user.cell (e.g. myservice.borud.fbu)'],
  ['a name part over 63 characters', { ...JOB, name: `${'w'.repeat(64)}.borud.fbu` }, `BAD_REQUEST: name: "${'w'.repeat(64)}" is longer than 63 characters`],
  ['count over 1000', { ...JOB, count: 1001 }, 'BAD_REQUEST: count: Too big: expected number to be <=1000'],
  ['count below 0', { ...JOB, count: -1 }, 'BAD_REQUEST: count: Too small: expected number to be >=0'],
  ['count not an integer', { ...JOB, count: 2.5 }, 'BAD_REQUEST: count: Invalid input: expected int, received number'],
  ['count missing', { name: JOB.name, spec: SPEC }, 'BAD_REQUEST: count is required'],
  ['a type that does not exist', { ...JOB, type: 'cron' }, 'BAD_REQUEST: type: Invalid option: expected one of "service"|"batch"'],
  ['maxPerNode 0', { ...JOB, maxPerNode: 0 }, 'BAD_REQUEST: maxPerNode: Too small: expected number to be >=1'],
  ['a constraint label name with a space', { ...JOB, constraints: { labels: { 'my zone': 'a' } } }, 'BAD_REQUEST: constraints.labels.my zone: label names are letters, digits, ".", "_", "/" or "-"'],
  ['an unknown constraint', { ...JOB, constraints: { hosts: ['a'] } }, 'BAD_REQUEST: constraints.hosts: unknown key'],
  ['an unknown key of the job', { ...JOB, replicas: 3 }, 'BAD_REQUEST: replicas: unknown key'],
  ['a spec that names a coordinate', { ...JOB, spec: { ...SPEC, coordinate: '0.web.borud.fbu' } }, 'BAD_REQUEST: spec.coordinate: a job names no coordinate (instance i is i.<name>)'],
  ['the ServiceSpec schema judges the spec: unknown key', { ...JOB, spec: { ...SPEC, bogus: 1 } }, 'BAD_REQUEST: spec.bogus: unknown key'],
  ['the ServiceSpec schema judges the spec: a bad artifact id', { ...JOB, spec: { artifact: 'nocolons' } }, 'BAD_REQUEST: spec.artifact: artifact id "nocolons" must be groupId:artifactId:version'],
  ['the ServiceSpec schema judges the spec: a resource out of range', { ...JOB, spec: { ...SPEC, resources: { memoryMB: 1 } } }, 'BAD_REQUEST: spec.resources.memoryMB: Too small: expected number to be >=4'],
  ['a missing spec', { name: JOB.name, count: 1 }, 'BAD_REQUEST: spec is required'],
  ['every problem at once', { name: 'x', count: -1, spec: { bogus: 1 } }, 'BAD_REQUEST: name: "x" is not service.user.cell (e.g. myservice.borud.fbu); count: Too small: expected number to be >=0; spec.artifact is required; spec.bogus: unknown key'],
  ['null', null, 'BAD_REQUEST: job: Invalid input: expected object, received null'],
  ['a string', 'web.borud.fbu', 'BAD_REQUEST: job: Invalid input: expected object, received string'],
  ['an array', [JOB], 'BAD_REQUEST: job: Invalid input: expected object, received array'],
];

for (const [name, input, expected] of table) {
  test(`parseJob: ${name}`, (t) => {
    const got = parse(input);
    if (typeof expected === 'string') return t.is(got, expected);
    t.is(typeof got, 'object', String(got));
    const { labels, restart, ...fields } = expected;
    for (const [k, v] of Object.entries(fields)) t.deepEqual(got[k], v, k);
    if (labels) t.deepEqual(got.constraints, { labels });
    if (restart) t.is(got.spec.restart.policy, restart);
    t.false('coordinate' in got.spec);
  });
}

test('instance i of a job is the coordinate i.<name>', (t) => {
  t.is(instanceCoordinate('web.borud.fbu', 0), '0.web.borud.fbu');
  t.is(instanceCoordinate('web.borud.fbu', 12), '12.web.borud.fbu');
});

test('assignmentFor: the job spec with the instance coordinate, the job version, the time given', (t) => {
  const job = parseJob({ ...JOB, version: 4 });
  const a = assignmentFor(job, 1, Date.UTC(2024, 0, 2, 3, 4, 5));
  t.deepEqual(a, { job: 'web.borud.fbu', jobVersion: 4, spec: { coordinate: '1.web.borud.fbu', ...job.spec }, assignedAt: '2024-01-02T03:04:05.000Z' });
  t.false('coordinate' in job.spec, 'the job is not changed');
  t.deepEqual(parseAssignment(JSON.parse(JSON.stringify(a))), a, 'what ZooKeeper gives back reads as written');
});

const GOOD = JSON.stringify(assignmentFor(parseJob(JOB), 0, 0));
const withField = (patch) => JSON.stringify({ ...JSON.parse(GOOD), ...patch });

// [name, znode data, expected {error} (exact) or 'ok']: anyone may write anything under assignments/
const znodes = [
  ['an assignment as the leader writes it', GOOD, 'ok'],
  ['an unknown top-level key of a newer leader passes, and is dropped', withField({ priority: 5 }), 'ok'],
  ['empty', '', { error: 'empty node' }],
  ['null data', null, { error: 'empty node' }],
  ['not JSON', '{"job":', { error: 'not JSON' }],
  ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x00]), { error: 'not JSON' }],
  ['a JSON number', '42', { error: 'assignment: Invalid input: expected object, received number' }],
  ['a JSON array', '[]', { error: 'assignment: Invalid input: expected object, received array' }],
  ['fields missing', '{"job":"web.borud.fbu"}', { error: 'jobVersion is required; spec is required; assignedAt is required' }],
  ['a spec the node would refuse', withField({ spec: { coordinate: '0.web.borud.fbu', artifact: 'a:b:1', shell: true } }), { error: 'spec.shell: unknown key' }],
  ['a spec of another job', withField({ spec: { coordinate: '0.db.borud.fbu', artifact: 'a:b:1' } }), { error: 'spec.coordinate: "0.db.borud.fbu" is not an instance of job web.borud.fbu' }],
  ['a time that is no time', withField({ assignedAt: 'yesterday' }), { error: 'assignedAt: Invalid ISO datetime' }],
  ['job version 0', withField({ jobVersion: 0 }), { error: 'jobVersion: Too small: expected number to be >=1' }],
];

for (const [name, data, expected] of znodes) {
  test(`decodeZnode(parseAssignment): ${name}`, (t) => {
    const got = decodeZnode(typeof data === 'string' ? Buffer.from(data) : data, parseAssignment);
    if (expected === 'ok') {
      t.deepEqual(got, { value: JSON.parse(GOOD) });
    } else {
      t.deepEqual(got, expected);
    }
  });
}

test('decodeZnode(parseJob): a job znode reads as parseJob judges it, never a throw', (t) => {
  t.deepEqual(decodeZnode(JSON.stringify(JOB), parseJob), { value: parseJob(JOB) });
  t.deepEqual(decodeZnode('{"name":"web.borud.fbu","count":"3","spec":{"artifact":"a:b:1"}}', parseJob), {
    error: 'count: Invalid input: expected number, received string',
  });
});
