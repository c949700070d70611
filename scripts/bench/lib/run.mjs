// What every benchmark does around its measurements: kill the service processes a nodee
// daemon left under a prefix, and undo everything it made when it exits, however it exits.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

/** SIGKILL to every process whose environment names a runtime dir under `prefix` (services outlive their daemon). */
export function killMarked(prefix) {
  const marker = `NODEE_RUNTIME_DIR=${path.join(prefix, 'runtime')}`;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').some((kv) => kv.startsWith(marker))) process.kill(Number(name), 'SIGKILL');
    } catch {}
  }
}

/**
 * At exit (normal, error, Ctrl-C, SIGTERM) runs `cleanups` newest first, then deletes `work`
 * (made writable first: a software tree is read-only).
 */
export function cleanUpAtExit(cleanups, work) {
  process.on('exit', () => {
    for (const c of cleanups.reverse()) {
      try {
        c();
      } catch {}
    }
    try {
      execFileSync('chmod', ['-R', 'u+w', work], { stdio: 'ignore' });
    } catch {}
    rmSync(work, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
}

/**
 * A bench daemon's API, once its log says it started (its stdout is read for that line, then
 * drained): `api(method, path, body)` resolves the JSON answer and throws on a 4xx/5xx.
 */
export async function daemonApi(proc, timeoutMs = 20_000) {
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => {
    if (out !== null) out += d;
  });
  const deadline = Date.now() + timeoutMs;
  let url;
  while (!(url = /"url":"(http:[^"]+)\/","msg":"nodee started"/.exec(out)?.[1])) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`the nodee daemon did not start:\n${out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  out = null; // keep draining the log, stop keeping it
  const api = async (method, p, body) => {
    const res = await fetch(url + p, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  return { url, api };
}
