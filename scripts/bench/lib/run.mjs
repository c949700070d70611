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
