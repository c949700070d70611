import test from 'ava';
import { readFile, writeFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { JsonStore } from '../../dist/lib/json-store.js';
import { ERROR_CODES } from '../../dist/lib/errors.js';
import { parseStat, processStartTime, isSameProcess } from '../../dist/lib/proc.js';
import { ROOT } from '../helpers/daemon.mjs';
import { tempDir } from '../helpers/tmp.mjs';

test('JsonStore round-trips, leaves no temp files and skips unchanged writes', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'state', 'x.json');
  const store = new JsonStore(file, 1);
  t.is(await store.read(), undefined);
  await store.write({ a: 1 });
  const before = (await readFile(file, 'utf8'));
  await store.write({ a: 1 });
  t.is(await readFile(file, 'utf8'), before);
  await Promise.all([store.write({ a: 2 }), store.write({ a: 3 })]);
  t.deepEqual(await new JsonStore(file, 1).read(), { a: 3 });
  t.deepEqual(await readdir(path.dirname(file)), ['x.json']);
});

test('JsonStore coalesces a burst: every write resolves, the newest is on disk, an unchanged one still resolves', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'burst.json');
  const store = new JsonStore(file, 1);
  await store.write({ n: 0 });
  await store.write({ n: 0 }); // unchanged: nothing to write, and the next write must not stall
  await Promise.all(Array.from({ length: 100 }, (_, i) => store.write({ n: i })));
  await store.flush();
  t.deepEqual(await new JsonStore(file, 1).read(), { n: 99 });
});

test('JsonStore refuses a file from a newer nodee and a torn file', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'x.json');
  await writeFile(file, JSON.stringify({ version: 9, data: {} }));
  await t.throwsAsync(() => new JsonStore(file, 1).read(), { message: /newer nodee/ });
  await writeFile(file, '{"version":1,"da');
  await t.throwsAsync(() => new JsonStore(file, 1).read(), { instanceOf: SyntaxError });
});

test('process start time tells a live process from a reused pid', (t) => {
  const mine = processStartTime(process.pid);
  t.true(Number.isInteger(mine) && mine > 0);
  t.true(isSameProcess(process.pid, mine));
  t.false(isSameProcess(process.pid, mine + 1));
  t.is(processStartTime(2 ** 22 + 1), undefined);
});

test('parseStat reads past a command name with spaces and parentheses', (t) => {
  // fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt
  // cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime
  const text = '4242 (we (ird) ) name) Z 1 77 77 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1 2 3\n';
  t.deepEqual(parseStat(text), { state: 'Z', pgid: 77, startTime: 987654 });
});

test('docs/ERRORS.md and ERROR_CODES agree both ways, HTTP status included', async (t) => {
  const doc = await readFile(path.join(ROOT, 'docs', 'ERRORS.md'), 'utf8');
  // | `CODE` | 409 | when … |  ("—" for start-up codes, which are exit status 1)
  const rows = new Map([...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}|—) \|/gm)].map((m) => [m[1], m[2] === '—' ? 1 : Number(m[2])]));
  for (const [code, status] of Object.entries(ERROR_CODES)) {
    t.true(rows.has(code), `${code} is not in docs/ERRORS.md`);
    t.is(rows.get(code), status, `${code}: docs/ERRORS.md says ${rows.get(code)}, the code ${status}`);
  }
  for (const code of rows.keys()) t.true(code in ERROR_CODES, `docs/ERRORS.md documents ${code}, which nodee does not have`);
});

test('resource figures read the same everywhere: limits, usage with "-" for unknown, reserved/capacity, an OOM exit', async (t) => {
  const r = await import('../../dist/lib/resources.js');
  // only the four known figures of an untyped spec; none from a 0.1 spec
  t.deepEqual(r.specResources({ resources: { memoryMB: 256, cpu: 0.5, pids: '9', diskMB: Infinity, gpu: 1 } }), { memoryMB: 256, cpu: 0.5 });
  t.deepEqual(r.specResources({}), {});
  t.deepEqual(r.specResources({ resources: null }), {});
  t.is(r.figure(0.1 + 0.2), '0.3');
  t.is(r.figure(2), '2');
  t.is(r.reservedText({ capacity: { memoryMB: 7000, cpu: 2, diskMB: 50000 }, reserved: { memoryMB: 512, cpu: 0.1 + 0.2, diskMB: 0 } }), 'mem 512/7000 MB cpu 0.3/2 disk 0/50000 MB');
  t.is(r.resourcesText({ memoryMB: 256, pids: 64 }), 'mem 256 MB pids 64');
  t.is(r.resourcesText({}), '');
  t.is(r.labelsText({ zone: 'eu-1a', ssd: 'true' }), 'zone=eu-1a,ssd=true');
  t.is(r.labelsText({}), '-');
  t.is(r.labelsText(undefined), '-');
  t.is(r.memoryText(12.5 * 1024 * 1024, 256), '12.5/256 MB');
  t.is(r.memoryText(12.5 * 1024 * 1024, undefined), '12.5 MB');
  t.is(r.memoryText(null, 256), '-/256 MB');
  t.is(r.memoryText(null, undefined), '-');
  t.is(r.cpuText(1.254), '1.25 s');
  t.is(r.cpuText(null), '-');
  t.is(r.pidsText(3, 64), '3/64');
  t.is(r.pidsText(null, undefined), '-');
  const at = '2026-01-01T00:00:00.000Z';
  t.is(r.exitText({ code: null, signal: 'SIGKILL', at, oom: true }), 'SIGKILL (OOM)');
  t.is(r.exitText({ code: null, signal: 'SIGKILL', at, oom: false }), 'SIGKILL');
  t.is(r.exitText({ code: 3, signal: null, at }), 'code 3');
  t.is(r.exitText({ code: null, signal: null, at }), 'unknown');
  t.is(r.exitText(null), '-');
});
