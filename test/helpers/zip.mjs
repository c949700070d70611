import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, symlink, writeFile, chmod, readdir } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from './tmp.mjs';

/**
 * Real ZIP files for tests, made by real tools.
 *
 *   makeZip(t, files, opts?) → absolute path of the .zip (removed after the test)
 *
 * `files` maps entry paths to one of
 *   'text' | Buffer                   a regular file (mode 0644)
 *   { content, mode }                 a regular file with a mode (e.g. 0o755)
 *   { symlink: 'target' }             a symbolic link
 *   { dir: true, mode? }              an (empty) directory
 *
 * opts.tool:
 *   'zip' (default)  Info-ZIP `zip -ry` (keeps modes and symlinks). opts.zip64 → `-fz`,
 *                    opts.stream → `zip -` to a pipe (data descriptors, ZIP64 local headers).
 *   'python'         Python's zipfile. opts.zip64 → force_zip64 on every entry,
 *                    opts.stream → written to an unseekable stream (data descriptors),
 *                    opts.lie → { name: declaredSize } rewrites sizes in the central directory,
 *                    names are taken verbatim, so '../evil' and '/abs' can be made.
 *   'jar'            the JDK's `jar` (UTF-8 names, data descriptors, no modes).
 *   '7z'             7-Zip `7z a -tzip`.
 * opts.level: compression level 0-9 (zip, python, 7z).
 * opts.name: the archive's file name.
 */
export async function makeZip(t, files, opts = {}) {
  const dir = await tempDir(t, 'nodee-zip-');
  const out = path.join(dir, opts.name ?? 'artifact.zip');
  const tool = opts.tool ?? 'zip';
  if (tool === 'python') {
    pythonZip(out, files, opts);
    return out;
  }
  const src = path.join(dir, 'src');
  await mkdir(src);
  await materialize(src, files);
  const top = await readdir(src);
  if (tool === 'zip') {
    const flags = ['-q', '-r', '-y', ...(opts.zip64 ? ['-fz'] : []), ...(opts.level !== undefined ? [`-${opts.level}`] : [])];
    if (opts.stream) {
      const res = spawnSync('zip', [...flags, '-', ...top], { cwd: src, maxBuffer: 2 ** 31 - 1 });
      if (res.status !== 0) throw new Error(`zip failed: ${res.stderr}`);
      await writeFile(out, res.stdout);
    } else execFileSync('zip', [...flags, out, ...top], { cwd: src, stdio: 'ignore' });
  } else if (tool === 'jar') {
    execFileSync('jar', ['--create', '--no-manifest', '--file', out, ...top], { cwd: src, stdio: 'ignore' });
  } else if (tool === '7z') {
    const level = opts.level !== undefined ? [`-mx=${opts.level}`] : [];
    execFileSync('7z', ['a', '-tzip', '-bd', '-y', ...level, out, '--', ...top], { cwd: src, stdio: 'ignore' });
  } else throw new Error(`unknown zip tool ${tool}`);
  return out;
}

function normalize(spec) {
  if (typeof spec === 'string' || Buffer.isBuffer(spec)) return { kind: 'file', content: Buffer.from(spec), mode: 0o644 };
  if (spec.symlink !== undefined) return { kind: 'symlink', target: spec.symlink };
  if (spec.dir) return { kind: 'dir', mode: spec.mode ?? 0o755 };
  return { kind: 'file', content: Buffer.from(spec.content ?? ''), mode: spec.mode ?? 0o644 };
}

async function materialize(root, files) {
  for (const [name, spec] of Object.entries(files)) {
    const e = normalize(spec);
    const p = path.join(root, name);
    await mkdir(e.kind === 'dir' ? p : path.dirname(p), { recursive: true });
    if (e.kind === 'file') {
      await writeFile(p, e.content);
      await chmod(p, e.mode);
    } else if (e.kind === 'symlink') await symlink(e.target, p);
    else await chmod(p, e.mode);
  }
}

const PYTHON = String.raw`
import base64, json, sys, zipfile
spec = json.load(sys.stdin)

class Unseekable:
    """Forces zipfile to write data descriptors, as when streaming to a pipe."""
    def __init__(self, f): self.f = f
    def write(self, b): return self.f.write(b)
    def flush(self): self.f.flush()

raw = open(spec['out'], 'wb')
target = Unseekable(raw) if spec.get('stream') else raw
level = spec.get('level')
method = zipfile.ZIP_STORED if level == 0 else zipfile.ZIP_DEFLATED
with zipfile.ZipFile(target, 'w', compression=method, compresslevel=level if level else None) as zf:
    for e in spec['entries']:
        info = zipfile.ZipInfo(e['name'], date_time=(2024, 1, 1, 0, 0, 0))
        info.create_system = 3
        info.compress_type = method
        if e['kind'] == 'dir':
            if not info.filename.endswith('/'): info.filename += '/'
            info.external_attr = ((0o040000 | e['mode']) << 16) | 0x10
            zf.writestr(info, b'')
            continue
        if e['kind'] == 'symlink':
            info.external_attr = (0o120777 << 16)
            data = e['target'].encode()
        else:
            info.external_attr = (0o100000 | e['mode']) << 16
            data = base64.b64decode(e['content'])
        with zf.open(info, 'w', force_zip64=bool(spec.get('zip64'))) as w:
            w.write(data)
    for name, size in (spec.get('lie') or {}).items():
        zf.getinfo(name).file_size = size
raw.close()
`;

function pythonZip(out, files, opts) {
  const entries = Object.entries(files).map(([name, spec]) => {
    const e = normalize(spec);
    return { name, kind: e.kind, mode: e.mode, target: e.target, content: e.content?.toString('base64') };
  });
  const input = JSON.stringify({ out, entries, zip64: opts.zip64, stream: opts.stream, level: opts.level, lie: opts.lie });
  const res = spawnSync('python3', ['-c', PYTHON], { input, maxBuffer: 64 * 1024 * 1024 });
  if (res.status !== 0) throw new Error(`python zipfile failed: ${res.stderr}`);
}

/** `n` files of `size` pseudo-random-ish bytes (compressible text), as a files map. */
export function manyFiles(n, size = 100, prefix = 'f') {
  const files = {};
  for (let i = 0; i < n; i++) files[`${prefix}/${String(i).padStart(6, '0')}.txt`] = `${i} `.repeat(Math.ceil(size / 2)).slice(0, size);
  return files;
}
