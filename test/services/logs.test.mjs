import test from 'ava';
import { appendFile, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readLog } from '../../dist/services/log-reader.js';
import { rotate } from '../../dist/services/log-rotator.js';
import { readText, scriptsArtifact, spec, startSupervisor, tempDir, waitFor } from './helpers.mjs';

// a flood: numbered lines as fast as the shell can print them
const FLOOD = `#!/bin/sh
i=0
while :; do i=$((i+1)); echo "line $i of a flood that fills the log quickly"; done
`;

function collect(stream) {
  let text = '';
  stream.setEncoding('utf8').on('data', (d) => (text += d));
  return () => text;
}

test('a flood of output is rotated by size with a bounded number of old files', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t, { logs: { maxBytes: 64 * 1024, keep: 2 } });
  await scriptsArtifact(prefix, artifacts, { 'bin/flood': FLOOD });
  const s = await sup.create(spec('1.flood.b.c', { command: ['bin/flood'] }));
  const logs = path.join(s.runtimeDir, 'logs');
  await waitFor(async () => (await readdir(logs)).includes('stdout.log.2'), { what: 'two rotations', timeoutMs: 20_000 });
  // keep more rotations happening, then check the bound
  const first = await readFile(path.join(logs, 'stdout.log.2'), 'utf8');
  await waitFor(async () => (await readFile(path.join(logs, 'stdout.log.2'), 'utf8').catch(() => first)) !== first, { timeoutMs: 20_000 });
  await sup.stop('1.flood.b.c');
  // what the flood wrote after the last check may still be rotated once: wait until it was
  const expected = ['stderr.log', 'stdout.log', 'stdout.log.1', 'stdout.log.2'];
  const settled = async () => (await stat(path.join(logs, 'stdout.log'))).size < 64 * 1024 && String((await readdir(logs)).sort()) === String(expected);
  await waitFor(settled, { what: 'the last rotation' });
  t.deepEqual((await readdir(logs)).sort(), expected);
  const rotated = await readFile(path.join(logs, 'stdout.log.1'), 'utf8');
  t.true(rotated.length >= 64 * 1024, 'a rotated file holds at least maxBytes');
  t.regex(rotated.split('\n')[1], /^line \d+ of a flood/);
});

test('tail returns the last N lines; the whole file without tail', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'stdout.log');
  const lines = Array.from({ length: 5000 }, (_, i) => `line ${i + 1}`);
  await writeFile(file, lines.join('\n') + '\n');
  const s = readLog(file, { tail: 3, follow: false });
  let text = '';
  for await (const c of s) text += c;
  t.is(text, 'line 4998\nline 4999\nline 5000\n');
  let all = '';
  for await (const c of readLog(file, { follow: false })) all += c;
  t.is(all, lines.join('\n') + '\n');
  let none = '';
  for await (const c of readLog(file, { tail: 0, follow: false })) none += c;
  t.is(none, '');
  let missing = '';
  for await (const c of readLog(path.join(dir, 'nope.log'), { tail: 10, follow: false })) missing += c;
  t.is(missing, '');
});

test('follow streams appended lines and keeps going across a copytruncate rotation, losing nothing', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'stdout.log');
  await writeFile(file, 'old 1\nold 2\n');
  const stream = readLog(file, { tail: 1, follow: true });
  t.teardown(() => stream.destroy());
  const text = collect(stream);
  await waitFor(() => text() === 'old 2\n');
  await appendFile(file, 'new 1\n');
  await waitFor(() => text() === 'old 2\nnew 1\n');
  // appended after the reader's last look, then rotated away: it must still be seen (from .1)
  await appendFile(file, 'just before rotation\n');
  await rotate(file, 3);
  await appendFile(file, 'after rotation\n');
  await waitFor(() => text().endsWith('after rotation\n'), { what: 'the line after rotation' });
  t.is(text(), 'old 2\nnew 1\njust before rotation\nafter rotation\n');
});

test('logs of a real service, stdout and stderr kept apart', async (t) => {
  const { sup, prefix, artifacts } = await startSupervisor(t);
  await scriptsArtifact(prefix, artifacts, { 'bin/both': '#!/bin/sh\necho to-out\necho to-err >&2\nexec sleep 1000\n' });
  const s = await sup.create(spec('1.both.b.c', { command: ['bin/both'] }));
  await waitFor(async () => (await readText(path.join(s.runtimeDir, 'logs', 'stderr.log'))) === 'to-err\n');
  t.is(await readText(path.join(s.runtimeDir, 'logs', 'stdout.log')), 'to-out\n');
});
