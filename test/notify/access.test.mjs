import test from 'ava';
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { tempDir, waitFor } from '../helpers/tmp.mjs';
import { ensureUser, gidOf, isRoot } from '../security/_users.mjs';
import { collectingHub, pySend, run } from './_hub.mjs';

// The attack: another local user forges READY=1 for a service it does not own. Real users,
// a real sender switched to them with setpriv, the kernel's own permission checks.
// (useradd -N gives every test user the shared group "users", so the service's group here is
// one of its own, as a service user's private group is on a real host.)
const serial = isRoot ? test.serial : test.skip;

async function setUp(t, access) {
  const svc = ensureUser('nodee-nfy-svc', { groups: ['nodee-nfy-grp'] });
  const mate = ensureUser('nodee-nfy-mate', { groups: ['nodee-nfy-grp'] });
  const evil = ensureUser('nodee-nfy-evil');
  const gid = gidOf('nodee-nfy-grp');
  const base = await tempDir(t, 'nodee-nfy-sec-');
  await chmod(base, 0o755); // like /var/lib/nodee: anyone may pass, only root may change
  const { hub, messages } = collectingHub(t);
  const { socketPath } = await hub.open('svc', { dir: path.join(base, 'svc'), ...access(svc, gid) });
  return { svc, mate, evil, socketPath, messages };
}

serial('a user outside the service group cannot send (EACCES); the service user can', async (t) => {
  const { svc, evil, socketPath, messages } = await setUp(t, (svc, gid) => ({ uid: svc.uid, gid }));
  const forged = await pySend(socketPath, ['READY=1\nSTATUS=forged'], { user: evil });
  t.is(forged.code, 3);
  t.is(forged.out, 'EACCES');
  const real = await pySend(socketPath, ['READY=1\nSTATUS=genuine'], { user: svc });
  t.is(real.code, 0, real.out);
  await waitFor(() => messages.some((m) => m.ready));
  t.deepEqual(messages, [{ key: 'svc', ready: true, status: 'genuine' }]);
});

serial('with the service uid, another member of its group cannot send either', async (t) => {
  const { svc, mate, socketPath, messages } = await setUp(t, (svc, gid) => ({ uid: svc.uid, gid }));
  const forged = await pySend(socketPath, ['READY=1'], { user: mate });
  t.is(forged.out, 'EACCES');
  t.is((await pySend(socketPath, ['STATUS=mine'], { user: svc })).code, 0);
  await waitFor(() => messages.length === 1);
  t.deepEqual(messages, [{ key: 'svc', status: 'mine' }]);
});

serial('with only a gid, the group may send and others may not', async (t) => {
  const { mate, evil, socketPath, messages } = await setUp(t, (_svc, gid) => ({ gid }));
  t.is((await pySend(socketPath, ['READY=1'], { user: evil })).out, 'EACCES');
  t.is((await pySend(socketPath, ['STATUS=group member'], { user: mate })).code, 0);
  await waitFor(() => messages.length === 1);
  t.deepEqual(messages, [{ key: 'svc', status: 'group member' }]);
});

serial('the service user cannot replace its socket: the directory is root\'s', async (t) => {
  const { svc, socketPath } = await setUp(t, (svc, gid) => ({ uid: svc.uid, gid }));
  const mv = await run('setpriv', [`--reuid=${svc.uid}`, `--regid=${svc.gid}`, '--init-groups', '--', 'sh', '-c', `rm -f ${socketPath} || exit 7; ln -s /etc/shadow ${socketPath}.x || exit 8`], {});
  t.is(mv.code, 7, mv.out);
});
