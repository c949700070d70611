import test from 'ava';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/daemon.mjs';
import { filesUnder } from '../helpers/files.mjs';

// The docs ship with the repository: every relative link in README.md and docs/**/*.md must
// name a file or directory inside it (users never see anything outside it).

/** Targets of inline links and images `[text](target)` and of reference definitions `[x]: target`, outside code. */
function linkTargets(markdown) {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  const inline = [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
  const refs = [...prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]);
  return [...inline, ...refs];
}

const files = [path.join(ROOT, 'README.md'), ...filesUnder(path.join(ROOT, 'docs'), '.md')];

test('every relative link in README.md and docs/ resolves to a file inside the repository', (t) => {
  const root = realpathSync(ROOT);
  let checked = 0;
  for (const file of files) {
    for (const target of linkTargets(readFileSync(file, 'utf8'))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue; // a URL or an anchor
      const rel = decodeURIComponent(target.split('#')[0]);
      const where = `${path.relative(ROOT, file)} → ${target}`;
      t.false(path.isAbsolute(rel), `${where}: absolute`);
      const resolved = path.resolve(path.dirname(file), rel);
      const inside = path.relative(root, resolved);
      t.false(inside.startsWith('..') || path.isAbsolute(inside), `${where}: leaves the repository`);
      t.true(existsSync(resolved), `${where}: no such file`);
      if (existsSync(resolved)) t.false(path.relative(root, realpathSync(resolved)).startsWith('..'), `${where}: a link out of the repository`);
      checked++;
    }
  }
  t.true(checked > 10, `only ${checked} links found: is the link pattern right?`);
});

test('the docs carry the contract: docs/CONTRACT.md, linked from the README, with the 0.2 additions', (t) => {
  const contract = readFileSync(path.join(ROOT, 'docs', 'CONTRACT.md'), 'utf8');
  t.regex(contract, /^# nodee — the external contract$/m);
  t.regex(contract, /^# Additions for release 0\.2/m);
  t.regex(contract, /^## CLI: global options anywhere$/m);
  t.regex(contract, /^## Resources and containment$/m);
  t.true(linkTargets(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).includes('docs/CONTRACT.md'));
  for (const file of files) t.notRegex(readFileSync(file, 'utf8'), /\.\.\/shared\//, `${path.relative(ROOT, file)} points outside the repository`);
});
