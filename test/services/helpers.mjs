import { chmod, mkdir, writeFile, readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Supervisor } from '../../dist/services/index.js';
import { silentLogger } from '../../dist/lib/log.js';
import { createMetricsRegistry } from '../../dist/lib/metrics.js';
import { killServicesUnder } from '../helpers/daemon.mjs';
import { tempDir, waitFor } from '../helpers/tmp.mjs';

export { waitFor, tempDir };

/**
 * An artifact unpacked on disk the way the store leaves it (read-only), without the store:
 * `files` maps a relative path to its content; names under bin/ or ending .sh are executable.
 */
export async function makeArtifact(prefix, id, files) {
  const [g, a, v] = id.split(':');
  const dir = path.join(prefix, 'software', g, a, v);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    await chmod(file, name.startsWith('bin/') || name.endsWith('.sh') ? 0o555 : 0o444);
  }
  return dir;
}

/** An artifacts stand-in answering installedPath from a map. */
export function artifactsOf(map = new Map()) {
  return { map, installedPath: (id) => map.get(id) };
}

/** A Supervisor on a temp prefix; teardown detaches it and kills every service it left. */
export async function startSupervisor(t, { prefix, artifacts = artifactsOf(), ...options } = {}) {
  prefix ??= await tempDir(t, 'nodee-svc-');
  const metrics = createMetricsRegistry(false);
  const sup = new Supervisor({
    prefix,
    ports: { from: 21000, to: 21999 },
    logs: { maxBytes: 10 * 1024 * 1024, keep: 3 },
    limits: { artifactMaxBytes: 64 * 1024 * 1024, artifactMaxFiles: 1000 },
    log: silentLogger(),
    metrics,
    artifacts,
    adoptPollMs: 100,
    // room for everything: admission has tests of its own
    capacity: { memoryMB: 1e9, cpu: 1e6, diskMB: 1e12 },
    ...options,
  });
  let detached = false;
  const detach = async () => {
    if (detached) return;
    detached = true;
    await sup.detach();
  };
  t.teardown(async () => {
    await detach();
    killServicesUnder(prefix);
  });
  await sup.init();
  return { sup, prefix, artifacts, metrics, detach };
}

export const ART = 'com.example:svc:1.0.0';

/** An artifact with the scripts most tests run. */
export async function scriptsArtifact(prefix, artifacts, extra = {}) {
  const dir = await makeArtifact(prefix, ART, {
    'bin/sleeper': '#!/bin/sh\necho "started $NODEE_COORDINATE"\nexec sleep 1000\n',
    'bin/env': '#!/bin/sh\nenv | sort\nexec sleep 1000\n',
    'bin/crash': '#!/bin/sh\necho crash >&2\nexit 3\n',
    'bin/quit': '#!/bin/sh\nexit 0\n',
    ...extra,
  });
  artifacts.map.set(ART, dir);
  return dir;
}

export function alive(pid) {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** Live (non-zombie) pids for which `test(pid)` holds; a process gone while looking is skipped. */
export function livePidsWhere(test) {
  const out = [];
  for (const name of readdirSyncSafe('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (test(Number(name)) && alive(Number(name))) out.push(Number(name));
    } catch {}
  }
  return out;
}

/** Live (non-zombie) pids whose environment names this runtime dir. */
export function marked(runtimeDir) {
  return livePidsWhere((pid) => readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`NODEE_RUNTIME_DIR=${runtimeDir}`));
}

import { readdirSync } from 'node:fs';
function readdirSyncSafe(d) {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

export async function readText(file) {
  return readFile(file, 'utf8').catch(() => '');
}

export function spec(coordinate, extra = {}) {
  return { coordinate, artifact: ART, command: ['bin/sleeper'], ...extra };
}
