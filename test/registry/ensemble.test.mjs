import test from 'ava';
import { startEnsemble } from '../helpers/zk-ensemble.mjs';
import { makePresence, observer, record, nodeOf, waitFor } from './_zk.mjs';

test('a 3-server ensemble (with a chroot) losing the server we talk to keeps the node and the session', async (t) => {
  const ens = await startEnsemble(t);
  const obs = await observer(t, ens.connect);
  const p = '/ensemble-root/meta/cell/nodes/quorum'; // as the observer (no chroot) sees it
  const { presence, metric } = makePresence(t, { connect: `${ens.connect}/ensemble-root`, path: '/meta/cell/nodes/quorum', sessionTimeoutMs: 6000 });
  presence.start();
  presence.setData(record('quorum', 1));
  const before = await nodeOf(obs, p);
  const ours = await waitFor(() => ens.serverOf(before.owner), { what: 'the server holding our session' });

  await ours.kill9();
  await waitFor(async () => (await metric('nodee_zk_reconnects_total')) >= 1 && presence.status().state === 'connected', { timeoutMs: 30_000, what: 'reconnected to another server' });
  const other = await waitFor(() => ens.serverOf(before.owner), { timeoutMs: 30_000, what: 'session moved' });
  t.not(other.id, ours.id);

  presence.setData(record('quorum', 3));
  const after = await nodeOf(obs, p, (n) => n.json.services.length === 3);
  t.is(after.owner, before.owner, 'same session, same node');
  t.is(await metric('nodee_zk_session_expiries_total'), 0);
});
