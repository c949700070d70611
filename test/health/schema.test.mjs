import test from 'ava';
import { checkSchema, checksSchema } from '../../dist/health/index.js';

test('a check gets the contract\'s defaults', (t) => {
  t.deepEqual(checkSchema.parse({ name: 'alive', type: 'liveness', tcp: { port: 'http' } }), {
    name: 'alive', type: 'liveness', tcp: { port: 'http' }, intervalMs: 1000, timeoutMs: 1000, failureThreshold: 3, graceMs: 0,
  });
  t.deepEqual(checkSchema.parse({ name: 'web', type: 'readiness', http: { port: 8080, path: '/healthz' } }).http, { port: 8080, path: '/healthz' });
  t.deepEqual(checkSchema.parse({ name: 'deep', type: 'liveness', exec: ['bin/check', '--quick'] }).exec, ['bin/check', '--quick']);
});

const refused = [
  ['no probe', { name: 'a', type: 'readiness' }],
  ['two probes', { name: 'a', type: 'readiness', tcp: { port: 1 }, exec: ['true'] }],
  ['an unknown key', { name: 'a', type: 'readiness', tcp: { port: 1 }, retries: 3 }],
  ['an unknown key inside http', { name: 'a', type: 'readiness', http: { port: 1, path: '/', host: 'evil' } }],
  ['an unknown type', { name: 'a', type: 'startup', tcp: { port: 1 } }],
  ['port 0', { name: 'a', type: 'readiness', tcp: { port: 0 } }],
  ['port 65536', { name: 'a', type: 'readiness', tcp: { port: 65_536 } }],
  ['a fractional port', { name: 'a', type: 'readiness', tcp: { port: 80.5 } }],
  ['a port name that cannot be a port', { name: 'a', type: 'readiness', tcp: { port: 'Http Port' } }],
  ['a path without /', { name: 'a', type: 'readiness', http: { port: 1, path: 'healthz' } }],
  ['a path with a space (request smuggling)', { name: 'a', type: 'readiness', http: { port: 1, path: '/ HTTP/1.1\r\nHost: x' } }],
  ['an empty exec', { name: 'a', type: 'readiness', exec: [] }],
  ['interval below 100 ms', { name: 'a', type: 'readiness', tcp: { port: 1 }, intervalMs: 99 }],
  ['threshold 0', { name: 'a', type: 'liveness', tcp: { port: 1 }, failureThreshold: 0 }],
  ['negative grace', { name: 'a', type: 'liveness', tcp: { port: 1 }, graceMs: -1 }],
  ['a bad name', { name: 'Bad Name', type: 'readiness', tcp: { port: 1 } }],
];
for (const [what, check] of refused) {
  test(`refused: ${what}`, (t) => {
    t.false(checkSchema.safeParse(check).success);
  });
}

test('checks: names unique, at most 32, absent is none', (t) => {
  const c = (name) => ({ name, type: 'readiness', tcp: { port: 1 } });
  t.deepEqual(checksSchema.parse(undefined), []);
  t.is(checksSchema.parse([c('a'), c('b')]).length, 2);
  const dup = checksSchema.safeParse([c('a'), c('a')]);
  t.false(dup.success);
  t.regex(JSON.stringify(dup.error.issues), /unique/);
  t.is(checksSchema.parse(Array.from({ length: 32 }, (_, i) => c(`c${i}`))).length, 32);
  t.false(checksSchema.safeParse(Array.from({ length: 33 }, (_, i) => c(`c${i}`))).success);
});
