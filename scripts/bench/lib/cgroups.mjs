// Cgroup helpers for the benchmarks (a directory, so scripts/bench.mjs does not take it for a
// benchmark). Benchmarks run as root and make cgroups under a parent of their own,
// /nodee-bench-<hex>, which they remove at the end, whatever is left in it.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = '/sys/fs/cgroup';

/** A cgroup parent no one else uses. */
export function benchParent() {
  return `/nodee-bench-${randomBytes(6).toString('hex')}`;
}

/** The hierarchies mounted under /sys/fs/cgroup that nodee uses (v1 controllers and the cgroup2 one). */
function hierarchies() {
  if (existsSync(path.join(ROOT, 'cgroup.controllers'))) return [ROOT]; // pure cgroup2
  return ['memory', 'cpu', 'cpuacct', 'pids', 'freezer', 'unified'].map((h) => path.join(ROOT, h)).filter((d) => existsSync(d));
}

/** Every directory under `dir`, deepest first. */
function subdirs(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      walk(path.join(d, e.name));
      out.push(path.join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Kill everything under `parent` and remove it, in every hierarchy. Synchronous, so it can run
 * in an exit handler. cgroup.kill on the parent (cgroup2, or the hybrid host's unified mirror)
 * kills the whole subtree at once; what is only in v1 hierarchies gets SIGKILL by pid.
 */
export function removeCgroupParent(parent) {
  for (const h of hierarchies()) {
    const top = path.join(h, parent);
    if (!existsSync(top)) continue;
    try {
      writeFileSync(path.join(top, 'cgroup.kill'), '1');
    } catch {} // v1: no cgroup.kill
    for (const dir of [...subdirs(top), top]) {
      for (let i = 0; ; i++) {
        let procs = '';
        try {
          procs = readFileSync(path.join(dir, 'cgroup.procs'), 'utf8');
        } catch {}
        for (const pid of procs.split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {}
        }
        try {
          rmdirSync(dir);
          break;
        } catch (err) {
          if (err.code === 'ENOENT' || i >= 100) break;
          pause(20); // EBUSY while the kernel lets go of exited tasks
        }
      }
    }
  }
}

/**
 * A cgroup parent nodee cannot make: under a read-only bind mount of a directory in the memory
 * hierarchy (how test/cgroups/cgroups.test.mjs makes detection answer 'none'). Returns the
 * parent and a synchronous undo.
 */
export function unusableParent() {
  const top = `/nodee-bench-ro-${randomBytes(6).toString('hex')}`;
  const mem = existsSync(path.join(ROOT, 'cgroup.controllers')) ? ROOT : path.join(ROOT, 'memory');
  const dir = path.join(mem, top);
  mkdirSync(dir);
  execFileSync('mount', ['--bind', '-o', 'ro', dir, dir]);
  return {
    parent: `${top}/inner`,
    undo() {
      try {
        execFileSync('umount', [dir], { stdio: 'ignore' });
      } catch {}
      removeCgroupParent(top);
    },
  };
}

/** Whether `pid` is in a cgroup under `parent` (any hierarchy), per /proc/<pid>/cgroup. */
export function inCgroupUnder(pid, parent) {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .some((l) => {
        const p = l.split(':').slice(2).join(':');
        return p === parent || p.startsWith(parent + '/');
      });
  } catch {
    return false;
  }
}
