import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { HIERARCHIES, cgroupParentFor, removeCgroupTree } from '../helpers/cgroups.mjs';
import { waitFor } from '../helpers/tmp.mjs';
import { alive, livePidsWhere } from '../services/helpers.mjs';
import { E2E_ART } from '../services/e2e-helpers.mjs';
import { daemonWithScripts, ensureUser } from '../security/_users.mjs';

export { alive, waitFor, HIERARCHIES, cgroupParentFor };

/**
 * The service programs of these tests (bin/ of the scripts artifact). Python is
 * /usr/bin/python3 itself: a pyenv shim would fork helpers of its own first.
 */
export const SCRIPTS = {
  // double fork: a grandchild in a session of its own with an empty environment (no NODEE_*),
  // which neither the process group nor the environment marker can find; only the cgroup can.
  // It ignores SIGTERM (inherited SIG_IGN), so the stop signal does not end it: only the kill
  // at the end of the grace does. The middle shell is reaped (wait): the service is then two
  // processes, itself and the grandchild
  'bin/escaper': `#!/bin/sh
setsid sh -c 'trap "" TERM; env -i sleep 1000 & echo $! > grandchild.tmp && mv grandchild.tmp grandchild.pid' &
wait $!
echo ready
exec sleep 1000
`,
  // the service's first act, before it runs any program of its own: the shell reads
  // /proc/self/cgroup itself (a redirect, no fork) and keeps what it saw
  'bin/whereami': `#!/bin/sh
while read -r line; do echo "$line"; done < /proc/self/cgroup > cgroup-at-start.tmp
mv cgroup-at-start.tmp cgroup-at-start
echo ready
exec sleep 1000
`,
  // allocates far past any test limit the first time it runs (touched pages, 8 MiB at a time);
  // run again (a restart finds the marker) it stays small
  'bin/hog': `#!/bin/sh
if [ ! -e oomed-once ]; then
  : > oomed-once
  exec /usr/bin/python3 -c 'import time
b = []
for i in range(128):
    b.append(b"\\x01" * (8 << 20))
    time.sleep(0.005)
print("survived 1 GiB", flush=True)
time.sleep(1000)'
fi
echo calm
exec sleep 1000
`,
  // two children holding 40 MiB each: either fits alone under 64 MiB, the two together do not
  'bin/pair': `#!/usr/bin/python3
import os, time
kids = []
for i in range(2):
    pid = os.fork()
    if pid == 0:
        b = b"\\x01" * (40 << 20)
        print("holding", flush=True)
        time.sleep(1000)
        os._exit(0)
    kids.append(pid)
pid, status = os.wait()
print("ended", "signal", os.WTERMSIG(status) if os.WIFSIGNALED(status) else None, "code", os.WEXITSTATUS(status) if os.WIFEXITED(status) else None, flush=True)
time.sleep(1000)
`,
  // a bounded fork bomb: 200 forks, each child leaving the session and sleeping; counts refusals
  'bin/forkbomb': `#!/usr/bin/python3
import os, time
forked = failed = 0
for i in range(200):
    try:
        pid = os.fork()
    except OSError:
        failed += 1
        continue
    if pid == 0:
        os.setsid()
        time.sleep(1000)
        os._exit(0)
    forked += 1
print("forked", forked, "failed", failed, flush=True)
time.sleep(1000)
`,
  // exits at once the first time it runs, then stays
  'bin/crashonce': `#!/bin/sh
if [ ! -e crashed-once ]; then : > crashed-once; exit 3; fi
echo steady
exec sleep 1000
`,
  'bin/spin': '#!/bin/sh\nwhile :; do :; done\n',
  // some CPU, then three processes that stay: the shell and two sleeps
  'bin/trio': `#!/bin/sh
i=0
while [ $i -lt 30000 ]; do i=$((i+1)); done
sleep 1000 &
sleep 1000 &
echo ready
wait
`,
  // a child in the service's process group (what containment "none" still stops)
  'bin/family': `#!/bin/sh
sleep 1000 &
echo $! > child.tmp && mv child.tmp child.pid
echo ready
exec sleep 1000
`,
};

/** The real local user service-user tests run as (made once per host). */
export function serviceUser() {
  return ensureUser('nodee-svc1');
}

/** A real daemon (startDaemon) on a prefix service users may traverse, the SCRIPTS artifact installed. */
export function resourcesDaemon(t, config = {}) {
  return daemonWithScripts(t, SCRIPTS, config);
}

/** A ServiceSpec running bin/<program>, with a short stop grace. */
export function svc(coordinate, program, over = {}) {
  return { coordinate, artifact: E2E_ART, command: [`bin/${program}`], stop: { timeoutSeconds: 1 }, ...over };
}

/** POST /v1/services; fails loudly unless it is 201. */
export async function create(d, spec) {
  const res = await d.api('POST', '/v1/services', spec);
  if (res.status !== 201) throw new Error(`create ${spec.coordinate}: ${res.status} ${res.text}`);
  return res.body;
}

export async function getService(d, coordinate) {
  const res = await d.api('GET', `/v1/services/${coordinate}`);
  if (res.status !== 200) throw new Error(`GET ${coordinate}: ${res.status} ${res.text}`);
  return res.body;
}

/** The last lines of the service's stdout, through the logs API. */
export async function logText(d, coordinate) {
  return (await d.api('GET', `/v1/services/${coordinate}/logs?tail=100`)).text;
}

export function waitForLog(d, coordinate, pattern, what = `${coordinate} to log ${pattern}`) {
  return waitFor(async () => {
    const text = await logText(d, coordinate);
    return pattern.test(text) && text;
  }, { what, timeoutMs: 15_000 });
}

/** A pid a service wrote to `file` in its runtime dir (written by rename: whole or absent). */
export function waitForPidFile(runtimeDir, file) {
  return waitFor(() => {
    const p = path.join(runtimeDir, file);
    return existsSync(p) && Number(readFileSync(p, 'utf8').trim());
  }, { what: `${file} in ${runtimeDir}` });
}

/** The cgroup path of a service of daemon `d`, and its directory in each hierarchy. */
export function serviceCgroup(d, coordinate) {
  const cg = `${cgroupParentFor(d.prefix)}/${coordinate}`;
  const dirs = Object.fromEntries(HIERARCHIES.map((h) => [path.basename(h), `${h}${cg}`]));
  return { path: cg, dirs };
}

/** /proc/<pid>/cgroup as controller name → path ("unified" for the cgroup2 line). */
export function cgroupsOfProcText(text) {
  const out = {};
  for (const line of text.split('\n').filter(Boolean)) {
    const [, controllers, p] = line.match(/^\d+:([^:]*):(.*)$/);
    if (controllers === '') out.unified = p;
    else for (const c of controllers.split(',')) out[c] = p;
  }
  return out;
}

export function cgroupsOf(pid) {
  return cgroupsOfProcText(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
}

/** The pids listed in a cgroup directory's cgroup.procs. */
export function procsIn(dir) {
  return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
}

export function readNumber(file) {
  return Number(readFileSync(file, 'utf8').trim());
}

/** A sample's value from a Prometheus text page: `name{...coordinate="c"...} value`; undefined if absent. */
export function metric(text, name, coordinate) {
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    if (!m || m[1] !== name) continue;
    if (coordinate !== undefined && !(m[2] ?? '').split(/,(?=[a-zA-Z_]+=)/).includes(`coordinate="${coordinate}"`)) continue;
    return Number(m[3]);
  }
  return undefined;
}

/** Whether a live process ignores `signal` (its SigIgn mask in /proc/<pid>/status). */
export function ignores(pid, signal) {
  const mask = BigInt(`0x${readFileSync(`/proc/${pid}/status`, 'utf8').match(/^SigIgn:\s*([0-9a-f]+)$/m)[1]}`);
  return (mask & (1n << BigInt(os.constants.signals[signal] - 1))) !== 0n;
}

/** Live processes whose parent is `ppid`. */
export function childrenOf(ppid) {
  return livePidsWhere((pid) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid;
  });
}

/** Session id of a live process (field 6 of /proc/<pid>/stat). */
export function sessionOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

/** Kill `pid` at teardown if a failed test left it (a grandchild no environment marker finds). */
export function reapAtTeardown(t, pid) {
  const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  t.teardown(() => {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8') === cmd) process.kill(pid, 'SIGKILL');
    } catch {}
  });
}

/**
 * A cgroup directory bind-mounted read-only onto itself in every hierarchy: a cgroup parent
 * under it cannot be made. Unmounted and removed at teardown (registered before the daemon's,
 * so it runs after the daemon is gone).
 */
export function readOnlyCgroupPlace(t) {
  const ro = `/nodee-test-ro-${randomBytes(6).toString('hex')}`;
  const mounted = [];
  t.teardown(async () => {
    for (const dir of mounted.reverse()) try { execFileSync('umount', [dir]); } catch {}
    await removeCgroupTree(ro);
  });
  for (const h of HIERARCHIES) {
    const dir = `${h}${ro}`;
    mkdirSync(dir);
    execFileSync('mount', ['--bind', '-o', 'ro', dir, dir]);
    mounted.push(dir);
  }
  return ro;
}
