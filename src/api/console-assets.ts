import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context, Next } from 'koa';

/**
 * The console's static assets: the `yaml` package's browser build (ES modules), so a pasted
 * YAML spec is parsed in the page by the same library the CLI and the config use. The set
 * of files is fixed at start-up: a request is served only when its path is one of these
 * keys, so no part of a URL ever becomes part of a file path.
 */
const PREFIX = '/console/yaml/';

function listAssets(): Map<string, string> {
  // the package's exports hide browser/: find it from the package root (main is dist/index.js)
  const root = path.join(path.dirname(require.resolve('yaml')), '..', 'browser', 'dist');
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) walk(file);
      else if (e.name.endsWith('.js')) out.set(PREFIX + path.relative(root, file).split(path.sep).join('/'), file);
    }
  };
  walk(root);
  return out;
}

export const CONSOLE_ASSETS: ReadonlyMap<string, string> = listAssets();

/** GET/HEAD of a console asset; everything else goes on to the routers. */
export function consoleAssets() {
  return async (ctx: Context, next: Next): Promise<void> => {
    const file = (ctx.method === 'GET' || ctx.method === 'HEAD') && CONSOLE_ASSETS.get(ctx.path);
    if (!file) return next();
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = await readFile(file);
  };
}
