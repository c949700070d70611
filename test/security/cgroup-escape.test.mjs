/**
 * A service's user tries to get out of its cgroup or off its limits: move itself to the
 * parent cgroup or the root one, lift its memory limit, make a sub-cgroup of its own. Each
 * attempt runs inside a real service as a real user against a real root daemon; the test
 * then checks where the processes are and what the limits read.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cgroupParentFor } from '../helpers/cgroups.mjs';
import { waitFor } from '../helpers/tmp.mjs';
import { daemonWithScripts, ensureUser, isRoot, serviceSpec } from './_users.mjs';

if (!isRoot) throw new Error('test/security needs root (nodee runs as root; the attacks need other users)');

const USER = ensureUser('nodee-svc1');

/** The v1 hierarchy files this host has (the tests run on cgroup v1 with a hybrid cgroup2 mount). */
const MEMORY = '/sys/fs/cgroup/memory';

test('a service user cannot leave its cgroup, lift its limits or make cgroups of its own', async (t) => {
  const d = await daemonWithScripts(t, {
    // every attempt is reported on stdout: "<what> ok" when it worked, "<what> refused" when not
    'bin/escape': `#!/bin/sh
cg=$(grep ':memory:' /proc/self/cgroup | cut -d: -f3)
try() { if sh -c "$2" 2>/dev/null; then echo "$1 ok"; else echo "$1 refused"; fi; }
try parent "echo $$ > ${MEMORY}$(dirname "$cg")/cgroup.procs"
try root "echo $$ > ${MEMORY}/cgroup.procs"
try unified-root "echo $$ > /sys/fs/cgroup/unified/cgroup.procs"
try limit "echo -1 > ${MEMORY}$cg/memory.limit_in_bytes"
try mkdir "mkdir ${MEMORY}$cg/mine"
echo done
exec sleep 1000
`,
  });
  const c = '1.escape.nodee-svc1.sec';
  const res = await d.api('POST', '/v1/services', serviceSpec(c, { command: ['bin/escape'], user: USER.name, resources: { memoryMB: 64 } }));
  t.is(res.status, 201, JSON.stringify(res.body));
  const out = path.join(d.prefix, 'logs', 'sec', 'nodee-svc1', 'escape', '1', 'stdout.log');
  await waitFor(() => readFileSync(out, 'utf8').includes('done'), { what: 'the attempts' });
  const report = readFileSync(out, 'utf8');
  for (const attempt of ['parent', 'root', 'unified-root', 'limit', 'mkdir']) t.regex(report, new RegExp(`^${attempt} refused$`, 'm'), report);

  // and the kernel agrees: the service is where nodee put it, with the limit nodee set
  const own = path.join(MEMORY, cgroupParentFor(d.prefix), c);
  t.is(readFileSync(path.join(own, 'cgroup.procs'), 'utf8').trim(), String(res.body.pid));
  t.is(Number(readFileSync(path.join(own, 'memory.limit_in_bytes'), 'utf8')), 64 * 1024 * 1024);
});
