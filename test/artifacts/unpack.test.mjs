import test from 'ava';
import { mkdir, readdir, writeFile, readFile, truncate, stat } from 'node:fs/promises';
import path from 'node:path';
import { makeZip, manyFiles } from '../helpers/zip.mjs';
import { tempDir } from '../helpers/tmp.mjs';
import { unpack, snapshot, rejection, modeOf } from './store-helper.mjs';

const LIMITS = { maxBytes: 1024 ** 3, maxFiles: 200000 };

const RICH = {
  'bin/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
  'conf/app.properties': 'a=1\n',
  'conf/private.key': { content: 'secret', mode: 0o600 },
  'empty.txt': '',
  'data/empty-dir': { dir: true },
  'ünïcødé/日本語.txt': 'utf-8 names\n',
  'lib/current': { symlink: '../bin/run.sh' },
  'lib/here': { symlink: 'sub' },
  'lib/sub/x.txt': 'x',
};

async function unpackInto(t, zip, limits = LIMITS) {
  const parent = await tempDir(t, 'nodee-unpack-');
  const root = path.join(parent, 'root');
  const result = await unpack(zip, root, limits);
  return { parent, root, result };
}

function assertRich(t, tree, { modes = true, symlinks = true } = {}) {
  t.is(tree['bin/run.sh'].content, '#!/bin/sh\necho hi\n');
  t.is(tree['conf/app.properties'].content, 'a=1\n');
  t.is(tree['empty.txt'].content, '');
  t.is(tree['data/empty-dir'].type, 'dir');
  t.is(tree['ünïcødé/日本語.txt'].content, 'utf-8 names\n');
  t.is(tree['lib/sub/x.txt'].content, 'x');
  if (modes) {
    t.is(tree['bin/run.sh'].mode, 0o555, 'executable stays executable, loses write');
    t.is(tree['conf/app.properties'].mode, 0o444);
    t.is(tree['conf/private.key'].mode, 0o400);
  }
  if (symlinks) {
    t.deepEqual(tree['lib/current'], { type: 'symlink', target: '../bin/run.sh' });
    t.deepEqual(tree['lib/here'], { type: 'symlink', target: 'sub' });
  }
  for (const [p, e] of Object.entries(tree)) {
    if (e.type !== 'symlink') t.is(e.mode & 0o222, 0, `${p} has no write bits`);
  }
}

test('Info-ZIP archive: modes, empty files and dirs, UTF-8 names, symlinks inside', async (t) => {
  const zip = await makeZip(t, RICH);
  const { root, result } = await unpackInto(t, zip);
  assertRich(t, snapshot(root));
  t.is(result.files, 8);
});

test('Info-ZIP streamed to a pipe: data descriptors and ZIP64 local headers', async (t) => {
  // zip cannot store empty files or links on a pipe: regular files only
  const zip = await makeZip(t, { 'bin/run.sh': RICH['bin/run.sh'], 'conf/app.properties': 'a=1\n', 'ünïcødé/日本語.txt': 'utf-8 names\n' }, { stream: true });
  const tree = snapshot((await unpackInto(t, zip)).root);
  t.is(tree['bin/run.sh'].mode, 0o555);
  t.is(tree['conf/app.properties'].content, 'a=1\n');
  t.is(tree['ünïcødé/日本語.txt'].content, 'utf-8 names\n');
});

test('Info-ZIP with forced ZIP64 records', async (t) => {
  const zip = await makeZip(t, RICH, { zip64: true });
  const { root } = await unpackInto(t, zip);
  assertRich(t, snapshot(root));
});

test('Python zipfile, streamed (data descriptors) and with ZIP64 extra fields', async (t) => {
  for (const opts of [{}, { stream: true }, { zip64: true }, { stream: true, zip64: true }, { level: 0 }]) {
    const zip = await makeZip(t, RICH, { tool: 'python', ...opts });
    const { root } = await unpackInto(t, zip);
    assertRich(t, snapshot(root));
  }
});

test('jar archive: UTF-8 names and data descriptors; no modes recorded so files are read-only 0444', async (t) => {
  const files = { ...RICH };
  delete files['lib/current'];
  delete files['lib/here'];
  const zip = await makeZip(t, files, { tool: 'jar' });
  const { root } = await unpackInto(t, zip);
  const tree = snapshot(root);
  assertRich(t, tree, { modes: false, symlinks: false });
  t.is(tree['bin/run.sh'].mode, 0o444);
});

test('7-Zip archive', async (t) => {
  const zip = await makeZip(t, RICH, { tool: '7z' });
  const { root } = await unpackInto(t, zip);
  assertRich(t, snapshot(root));
});

test('ZIP64 end records: more than 65535 entries', async (t) => {
  const zip = await makeZip(t, manyFiles(66000, 3), { tool: 'python' });
  const { root, result } = await unpackInto(t, zip);
  t.is(result.files, 66000);
  t.is((await readdir(path.join(root, 'f'))).length, 66000);
  t.is(await readFile(path.join(root, 'f', '065999.txt'), 'utf8'), '659');
});

test('large entries stream through the inflater and keep their content', async (t) => {
  const big = Buffer.alloc(9 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  const zip = await makeZip(t, { 'big.bin': big, 'stored.bin': big.subarray(0, 5 * 1024 * 1024) }, { tool: 'python', level: 0 });
  const { root } = await unpackInto(t, zip);
  t.true((await readFile(path.join(root, 'big.bin'))).equals(big));
  const zip2 = await makeZip(t, { 'big.bin': big });
  const { root: root2 } = await unpackInto(t, zip2);
  t.true((await readFile(path.join(root2, 'big.bin'))).equals(big));
});

/** Unpacks expecting a refusal; checks nothing was written next to root. */
async function refused(t, zip, code, limits = LIMITS) {
  const parent = await tempDir(t, 'nodee-unpack-');
  const root = path.join(parent, 'deep', 'er', 'root');
  await mkdir(path.dirname(root), { recursive: true });
  const err = await rejection(t, unpack(zip, root, limits), code);
  if (code !== 'BAD_ARCHIVE' || !/corrupt|CRC/.test(err.message)) t.deepEqual(await readdir(path.dirname(root)), [], 'refused before the root was made');
  t.deepEqual(await readdir(parent), ['deep'], 'nothing outside');
  t.deepEqual((await readdir(path.join(parent, 'deep'))), ['er'], 'nothing outside');
  return { err, root, parent };
}

test('".." entries are refused before anything is written', async (t) => {
  const zip = await makeZip(t, { 'ok.txt': 'fine', '../../evil.txt': 'x', 'a/../../evil2': 'x' }, { tool: 'python' });
  const { root } = await refused(t, zip, 'UNSAFE_ARCHIVE');
  t.deepEqual(await readdir(path.dirname(root)), [], 'not even the root was created');
});

test('absolute paths are refused', async (t) => {
  for (const name of ['/tmp/nodee-evil.txt', 'C:/evil.txt', '\\evil.txt']) {
    const zip = await makeZip(t, { 'ok.txt': 'fine', [name]: 'x' }, { tool: 'python' });
    await refused(t, zip, 'UNSAFE_ARCHIVE');
  }
});

test('symlinks that leave the artifact, and paths through them, are refused', async (t) => {
  const cases = [
    { 'ok.txt': 'x', 'up': { symlink: '../..' } },
    { 'ok.txt': 'x', 'etc': { symlink: '/etc' } },
    { 'a/b': { symlink: '../../outside' } },
    { 'l': { symlink: 'd/..' }, 'd/x': 'x', 'm': { symlink: 'l/..' } },
    { 'loop1': { symlink: 'loop2' }, 'loop2': { symlink: 'loop1' }, 'loop1/x': 'x' },
  ];
  for (const files of cases) {
    const zip = await makeZip(t, files, { tool: 'python' });
    await refused(t, zip, 'UNSAFE_ARCHIVE');
  }
  // a link made by the archive, then an entry written through it to the outside
  const through = await makeZip(t, { 'dir': { symlink: '..' }, 'dir/evil.txt': 'x' }, { tool: 'python' });
  await refused(t, through, 'UNSAFE_ARCHIVE');
});

test('an entry through a symlink that stays inside lands at the link target', async (t) => {
  const zip = await makeZip(t, { 'real/a.txt': 'a', 'alias': { symlink: 'real' }, 'alias/b.txt': 'b' }, { tool: 'python' });
  const { root } = await unpackInto(t, zip);
  const tree = snapshot(root);
  t.is(tree['real/b.txt'].content, 'b');
  t.deepEqual(tree.alias, { type: 'symlink', target: 'real' });
});

test('duplicate or colliding entries are refused', async (t) => {
  const zip = await makeZip(t, { 'a': 'file', 'a/b': 'under a file' }, { tool: 'python' });
  await refused(t, zip, 'UNSAFE_ARCHIVE');
});

test('a decompression bomb stops at artifactMaxBytes before writing', async (t) => {
  const zip = await makeZip(t, { 'zeros.bin': Buffer.alloc(20 * 1024 * 1024) });
  t.true((await stat(zip)).size < 100 * 1024);
  const { err } = await refused(t, zip, 'TOO_LARGE', { maxBytes: 10 * 1024 * 1024, maxFiles: 100 });
  t.regex(err.message, /artifactMaxBytes/);
});

test('a bomb that lies about its size in the central directory is stopped by counting inflated bytes', async (t) => {
  const big = Buffer.alloc(30 * 1024 * 1024);
  for (const lie of [1000, 5 * 1024 * 1024]) {
    const zip = await makeZip(t, { 'zeros.bin': big, 'ok.txt': 'ok' }, { tool: 'python', lie: { 'zeros.bin': lie } });
    const parent = await tempDir(t, 'nodee-unpack-');
    const root = path.join(parent, 'root');
    const err = await rejection(t, unpack(zip, root, { maxBytes: 10 * 1024 * 1024, maxFiles: 100 }), 'TOO_LARGE');
    t.regex(err.message, /declared/);
    const written = await stat(path.join(root, 'zeros.bin')).then((s) => s.size, () => 0);
    t.true(written <= lie, `wrote ${written} bytes, at most the declared ${lie}`);
  }
});

test('more entries than artifactMaxFiles is TOO_LARGE', async (t) => {
  const zip = await makeZip(t, manyFiles(50, 10));
  const { err } = await refused(t, zip, 'TOO_LARGE', { maxBytes: 1024 ** 3, maxFiles: 20 });
  t.regex(err.message, /artifactMaxFiles/);
});

test('not a ZIP, an empty file, a truncated ZIP and corrupt data are BAD_ARCHIVE', async (t) => {
  const dir = await tempDir(t);
  const text = path.join(dir, 'text.zip');
  await writeFile(text, 'this is not a zip file at all, just some text that is long enough\n'.repeat(10));
  await refused(t, text, 'BAD_ARCHIVE');
  const empty = path.join(dir, 'empty.zip');
  await writeFile(empty, '');
  await refused(t, empty, 'BAD_ARCHIVE');

  const big = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  const zip = await makeZip(t, { 'a.bin': big, 'b.txt': 'b'.repeat(1000) });
  const size = (await stat(zip)).size;
  const cut = path.join(dir, 'cut.zip');
  await writeFile(cut, (await readFile(zip)).subarray(0, Math.floor(size / 2)));
  await refused(t, cut, 'BAD_ARCHIVE');

  const corrupt = path.join(dir, 'corrupt.zip');
  const bytes = await readFile(zip);
  for (let i = 1000; i < 1100; i++) bytes[i] ^= 0x5a;
  await writeFile(corrupt, bytes);
  await refused(t, corrupt, 'BAD_ARCHIVE');
});
