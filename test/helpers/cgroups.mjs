import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';

/** The hierarchies nodee uses on these hosts: v1 controllers plus the hybrid cgroup2 mount. */
export const HIERARCHIES = ['memory', 'cpu', 'cpuacct', 'pids', 'freezer', 'unified'].map((h) => `/sys/fs/cgroup/${h}`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The cgroup parent a test daemon on `prefix` gets: one of its own (two test daemons never
 * share service cgroups), the same again when the daemon restarts on that prefix.
 */
export function cgroupParentFor(prefix) {
  return `/nodee-test/${path.basename(prefix)}`;
}

/** Removes every cgroup under `parent` (killing what is left in it) and the parent itself, even after a failed test. */
export async function removeCgroupTree(parent) {
  for (const h of HIERARCHIES) {
    const dir = `${h}${parent}`;
    if (!existsSync(dir)) continue;
    const children = execFileSync('find', [dir, '-mindepth', '1', '-type', 'd'], { encoding: 'utf8' }).split('\n').filter(Boolean).reverse();
    for (const c of [...children, dir]) {
      if (h.endsWith('unified')) try { execFileSync('sh', ['-c', `echo 1 > ${c}/cgroup.kill`]); } catch {}
      let procs = '';
      try { procs = readFileSync(`${c}/cgroup.procs`, 'utf8'); } catch {}
      for (const pid of procs.split('\n').filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch {}
      }
      for (let i = 0; i < 100; i++) {
        try { rmdirSync(c); break; } catch (err) { if (err.code === 'ENOENT') break; await sleep(20); }
      }
    }
  }
}
