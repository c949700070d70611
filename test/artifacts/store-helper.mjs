import { readdirSync, statSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { tempDir } from '../helpers/tmp.mjs';

const require = createRequire(import.meta.url);
const { ArtifactStore } = require('../../dist/artifacts/index.js');
const { unpack } = require('../../dist/artifacts/unpack.js');
const { silentLogger } = require('../../dist/lib/log.js');
const { createMetricsRegistry } = require('../../dist/lib/metrics.js');

export { ArtifactStore, unpack };

/** A store on a temp prefix, closed at teardown. Fast retries so fault tests stay short. */
export async function makeStore(t, { repositories = [], limits = {}, prefix, retry, timeouts } = {}) {
  prefix ??= await tempDir(t, 'nodee-art-');
  const metrics = createMetricsRegistry(false);
  const store = new ArtifactStore({
    prefix,
    repositories: repositories.map((r) => (typeof r === 'string' ? { url: r, checksum: 'if-present' } : { checksum: 'if-present', ...r })),
    limits: { artifactMaxBytes: 4 * 1024 ** 3, artifactMaxFiles: 200000, ...limits },
    log: silentLogger(),
    metrics,
    retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100, ...retry },
    timeouts: { connectMs: 2000, headersMs: 5000, bodyMs: 5000, ...timeouts },
  });
  t.teardown(() => store.close());
  await store.init();
  return { store, prefix, metrics, software: path.join(prefix, 'software'), staging: path.join(prefix, 'software', '.staging') };
}

/** Every path under dir with its type, mode and content (files) or target (links). */
export function snapshot(dir) {
  const out = {};
  const walk = (d, rel) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out[r] = { type: 'symlink', target: readlinkSync(p) };
      else if (st.isDirectory()) {
        out[r] = { type: 'dir', mode: st.mode & 0o7777 };
        walk(p, r);
      } else out[r] = { type: 'file', mode: st.mode & 0o7777, content: readFileSync(p, 'utf8') };
    }
  };
  walk(dir, '');
  return out;
}

export function listDir(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export function modeOf(p) {
  return statSync(p).mode & 0o7777;
}

/** Awaits a promise expected to reject with a NodeeError; returns it. */
export async function rejection(t, promise, code) {
  const err = await t.throwsAsync(promise);
  t.is(err?.code, code, err?.message);
  return err;
}
