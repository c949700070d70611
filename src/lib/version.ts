import { readFileSync } from 'node:fs';
import path from 'node:path';

/** nodee's version, from the package.json that ships beside dist/. */
export const version: string = (() => {
  try {
    return (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();
