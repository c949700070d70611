import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/daemon.mjs';
import { filesUnder } from '../helpers/files.mjs';

// The layering of src/, read from the sources (docs/ARCHITECTURE.md says why). Each folder
// lists the folders it may import from; anything else is a build-order or cycle waiting to
// happen. Another folder is reached through its index.js only, except lib (a set of small
// files with no single entry point). The daemon is the composition root and the cli its
// client: nothing but the cli and the bin (src/cli.ts) imports them.
const MAY_IMPORT = {
  lib: [],
  contract: [],
  config: ['lib'],
  cgroups: ['lib'],
  artifacts: ['lib', 'config', 'contract'],
  services: ['lib', 'config', 'contract', 'artifacts', 'cgroups', 'health', 'notify'],
  registry: ['lib', 'config', 'contract'],
  notify: ['lib', 'contract'],
  api: ['lib', 'config', 'contract', 'services'],
  daemon: ['lib', 'config', 'contract', 'artifacts', 'services', 'registry', 'api', 'cgroups', 'scheduler'],
  cli: ['lib', 'config', 'contract', 'artifacts', 'services', 'registry', 'api', 'daemon', 'scheduler'],
  health: ['lib', 'contract'],
  scheduler: ['lib', 'config', 'contract', 'services', 'registry'],
};
/** Top-level files of src/ and the folders they may import. */
const FILES_MAY_IMPORT = { 'cli.ts': ['cli'] };
/** Folders reached by any file in them, not only through index.js. */
const NO_ENTRY_POINT = new Set(['lib']);

const SRC = path.join(ROOT, 'src');

/** Relative specifiers of static imports, re-exports and dynamic imports. */
function relativeImports(source) {
  const specs = [
    ...source.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm),
    ...source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
    ...source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]);
  return specs.filter((s) => s.startsWith('.'));
}

/** The violations of one file's imports (rel: its path below src/, '/'-separated), as "file → specifier: why". */
function violations(rel, source) {
  const [top, ...rest] = rel.split('/');
  const own = rest.length > 0 ? top : undefined;
  const allowed = own === undefined ? FILES_MAY_IMPORT[top] : MAY_IMPORT[own];
  if (allowed === undefined) return [`${rel}: not in the table of layers (test/foundation/layers.test.mjs)`];
  const found = [];
  for (const spec of relativeImports(source)) {
    const target = path.posix.join(path.posix.dirname(rel), spec);
    const [folder, ...inside] = target.split('/');
    if (target.startsWith('..')) found.push(`${rel} → ${spec}: outside src/`);
    else if (inside.length === 0) found.push(`${rel} → ${spec}: a top-level file of src/`);
    else if (folder === own) continue;
    else if (!allowed.includes(folder)) found.push(`${rel} → ${spec}: ${own ?? top} may not import ${folder}`);
    else if (!NO_ENTRY_POINT.has(folder) && inside.join('/') !== 'index.js') found.push(`${rel} → ${spec}: not through ${folder}/index.js`);
  }
  return found;
}

test('every folder of src/ is in the table of layers', (t) => {
  const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  t.deepEqual(folders.sort(), Object.keys(MAY_IMPORT).sort());
});

test('src/ imports only down the layers, and across folders only through index.js', (t) => {
  const files = filesUnder(SRC, '.ts');
  t.true(files.length > 50, `found ${files.length} files`);
  t.deepEqual(
    files.flatMap((f) => violations(path.relative(SRC, f).split(path.sep).join('/'), readFileSync(f, 'utf8'))),
    [],
  );
});

test('the checker catches an upward import, a side door and an import of the daemon', (t) => {
  // made-up files, so a pattern that silently matches nothing fails here rather than passing above
  const bad = (rel, source) => violations(rel, source).map((v) => v.split(': ')[1]);
  t.deepEqual(bad('registry/record.ts', "import type { NodeStatus } from '../daemon/status.js';"), ['registry may not import daemon']);
  t.deepEqual(bad('api/x.ts', "import { Daemon } from '../daemon/index.js';"), ['api may not import daemon']);
  t.deepEqual(bad('services/steps/x.ts', "import {\n  unpack,\n} from '../../artifacts/unpack.js';"), ['not through artifacts/index.js']);
  t.deepEqual(bad('config/schema.ts', "export { x } from '../registry/index.js';\nconst m = await import('../registry/index.js');"), [
    'config may not import registry',
    'config may not import registry',
  ]);
  t.deepEqual(bad('artifacts/x.ts', "import '../cli.js';"), ['a top-level file of src/']);
  t.deepEqual(bad('cli.ts', "import { Daemon } from './daemon/index.js';"), ['cli.ts may not import daemon']);
  t.deepEqual(
    bad('services/x.ts', "import type { Service } from '../contract/index.js';\nimport { errnoOf } from '../lib/errors.js';\nimport { a } from './steps/a.js';"),
    [],
  );
});
