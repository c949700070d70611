import { readdirSync } from 'node:fs';
import path from 'node:path';

/** Every file below `dir` whose name ends with `ending`, walked depth-first. */
export function filesUnder(dir, ending) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return filesUnder(p, ending);
    return e.name.endsWith(ending) ? [p] : [];
  });
}
