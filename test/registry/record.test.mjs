import test from 'ava';
import config from '../../dist/config/index.js';
import registry from '../../dist/registry/index.js';
import { fakeStatus, fakeService, fakeArtifact } from './_zk.mjs';

const { buildRecord, encodeRecord, decodeRecord, MAX_RECORD_BYTES } = registry;
const { parseConnectString } = config;

test('buildRecord has exactly the contract fields', (t) => {
  const status = fakeStatus('web-17');
  const installing = { ...fakeArtifact('com.example:other:2.0.0'), state: 'installing' };
  const limited = fakeService(1);
  // the spec is untyped JSON to the registry: only the four known figures reach ZooKeeper
  limited.spec.resources = { memoryMB: 256, cpu: 0.5, pids: 'many', diskMB: 1024, gpu: 1 };
  const r = buildRecord(status, [fakeArtifact(), installing], [limited, fakeService(2, 'stopped')], new Date('2026-01-02T03:04:05.000Z'));
  t.deepEqual(r, {
    instance: 'web-17',
    hostname: status.hostname,
    pid: process.pid,
    version: '0.1.0',
    state: 'active',
    startedAt: status.startedAt,
    updatedAt: '2026-01-02T03:04:05.000Z',
    console: { url: 'http://127.0.0.1:7070/', port: 7070 },
    machine: { cpus: 2, memoryBytes: 8e9, freeMemoryBytes: 4e9, loadavg: [0.5, 0.25, 0.125], diskFreeBytes: 1e10 },
    artifacts: ['com.example:myservice:1.2.0'],
    services: [
      { coordinate: '1.myservice.borud.fbu', artifact: 'com.example:myservice:1.2.0', state: 'running', pid: 10001, ports: { http: 20001 }, resources: { memoryMB: 256, cpu: 0.5, diskMB: 1024 }, ready: true },
      // a spec without resources (one written by nodee 0.1) reserves nothing
      { coordinate: '2.myservice.borud.fbu', artifact: 'com.example:myservice:1.2.0', state: 'stopped', pid: 10002, ports: { http: 20002 }, resources: {}, ready: false },
    ],
    labels: { zone: 'eu-1a', ssd: 'true' },
    resources: { capacity: { memoryMB: 7000, cpu: 2, diskMB: 50000 }, reserved: { memoryMB: 512, cpu: 0.5, diskMB: 1024 } },
    containment: 'cgroup2',
  });
  // a copy: the record does not change with the status it was built from
  status.labels.zone = 'elsewhere';
  status.resources.reserved.cpu = 2;
  t.is(r.labels.zone, 'eu-1a');
  t.is(r.resources.reserved.cpu, 0.5);
  const back = decodeRecord(encodeRecord(r));
  t.deepEqual(back, { record: r });
});

test('a 1,000-service record stays well under ZooKeeper\'s 1 MB', (t) => {
  const services = Array.from({ length: 1000 }, (_, i) => {
    const s = fakeService(i + 1);
    s.coordinate = `${i + 1}.a-rather-long-service-name.team-name-here.production-cell`;
    s.ports = { http: 20000 + i, admin: 21000 + i, metrics: 22000 + i };
    return s;
  });
  const artifacts = Array.from({ length: 100 }, (_, i) => fakeArtifact(`com.example.platform:service-${i}:1.2.${i}`));
  const bytes = encodeRecord(buildRecord(fakeStatus(), artifacts, services)).length;
  t.log(`1,000 services, 100 artifacts: ${bytes} bytes`);
  t.true(bytes < 256 * 1024, `${bytes} bytes`);
  t.true(bytes < MAX_RECORD_BYTES);
});

test('a record of a nodee 0.1 node (no labels, resources, containment) still decodes', (t) => {
  const v01 = {
    instance: 'old-1', hostname: 'old-1.example.com', pid: 4242, version: '0.1.0', state: 'active',
    startedAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:01.000Z',
    console: { url: 'http://10.0.0.5:7070/', port: 7070 },
    machine: { cpus: 2, memoryBytes: 8e9, freeMemoryBytes: 4e9, loadavg: [0, 0, 0], diskFreeBytes: 1e10 },
    artifacts: ['com.example:myservice:1.2.0'],
    services: [{ coordinate: '1.myservice.borud.fbu', artifact: 'com.example:myservice:1.2.0', state: 'running', pid: 5151, ports: { http: 20001 } }],
  };
  const back = decodeRecord(Buffer.from(JSON.stringify(v01)));
  t.deepEqual(back, { record: v01 });
  for (const key of ['labels', 'resources', 'containment']) t.false(key in back.record, key);
  t.false('resources' in back.record.services[0]);
});

test('a 0.2 record round-trips; its resources must be figures', (t) => {
  const r = buildRecord(fakeStatus('web-18', { containment: 'none', labels: {} }), [], [fakeService(1)]);
  t.deepEqual(decodeRecord(encodeRecord(r)), { record: r });
  // a newer nodee's containment is still read (a plain string), as a newer state is
  t.is(decodeRecord(encodeRecord({ ...r, containment: 'vm' })).record.containment, 'vm');
  const bad = { ...r, resources: { capacity: { memoryMB: '7000', cpu: 2, diskMB: 1 }, reserved: r.resources.reserved } };
  t.regex(decodeRecord(encodeRecord(bad)).error, /^not a nodee record \(resources\.capacity\.memoryMB: Invalid input: expected number, received string\)$/);
  const badService = { ...r, services: [{ ...r.services[0], resources: { cpu: 'half' } }] };
  t.regex(decodeRecord(encodeRecord(badService)).error, /^not a nodee record \(services\.0\.resources\.cpu: Invalid input: expected number, received string\)$/);
  const badLabels = { ...r, labels: { zone: 1 } };
  t.regex(decodeRecord(encodeRecord(badLabels)).error, /^not a nodee record \(labels\.zone: Invalid input: expected string, received number\)$/);
});

test('decodeRecord says why a node is not a record', (t) => {
  t.deepEqual(decodeRecord(Buffer.alloc(0)), { error: 'empty node' });
  t.deepEqual(decodeRecord(Buffer.from('{oops')), { error: 'not JSON' });
  t.regex(decodeRecord(Buffer.from('{"instance":"x"}')).error, /^not a nodee record/);
});

test('connect strings: several servers, IPv6, default port, chroot', (t) => {
  t.deepEqual(parseConnectString('zk1:2181,zk2:2182,zk3/meta/cell'), {
    servers: [{ host: 'zk1', port: 2181 }, { host: 'zk2', port: 2182 }, { host: 'zk3', port: 2181 }],
    chroot: '/meta/cell',
  });
  t.deepEqual(parseConnectString('[::1]:2181,[fe80::1],10.0.0.1:3000/'), {
    servers: [{ host: '::1', port: 2181 }, { host: 'fe80::1', port: 2181 }, { host: '10.0.0.1', port: 3000 }],
    chroot: '',
  });
  t.throws(() => parseConnectString('/only/a/chroot'), { message: /names no server/ });
  t.throws(() => parseConnectString('zk1:99999'), { message: /bad port/ });
  t.throws(() => parseConnectString('zk1:2181//x'), { message: /bad chroot/ });
});
