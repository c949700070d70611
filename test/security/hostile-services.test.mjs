import test from 'ava';
import { startDaemon } from '../helpers/daemon.mjs';
import { startHostileServer } from '../helpers/hostile-server.mjs';
import { E2E_ART, installScripts } from '../services/e2e-helpers.mjs';

/**
 * `restore.url` and `files[].url` go through the same Fetcher as artifacts: an endless
 * body stops at limits.artifactMaxBytes, a cut body is a coded error, and the daemon stays up.
 */

const MAX = 4 * 1024 * 1024;
const spec = (coordinate, extra = {}) => ({ coordinate, artifact: E2E_ART, command: ['bin/sleeper'], ...extra });

async function setup(t) {
  const d = await startDaemon(t, { config: { limits: { artifactMaxBytes: MAX } } });
  await installScripts(t, d);
  const server = await startHostileServer(t, { body: Buffer.alloc(256 * 1024, 0x61) });
  const create = async (body) => {
    const res = await d.api('POST', '/v1/services', body);
    t.is(d.proc.exitCode, null, `the daemon exited:\n${d.stderr()}`);
    t.is((await d.api('GET', '/healthz')).status, 200);
    return res;
  };
  return { d, server, create };
}

test('restore.url: an endless body is TOO_LARGE, a body cut mid-way is REPOSITORY_ERROR', async (t) => {
  const { server, create } = await setup(t);
  const endless = await create(spec('1.restore.a.b', { restore: { url: `${server.url}/endless/state.zip` } }));
  t.is(endless.status, 422, JSON.stringify(endless.body));
  t.is(endless.body.error.code, 'TOO_LARGE');
  t.regex(endless.body.error.message, new RegExp(`^restore\\.url: .*larger than ${MAX} bytes`));
  const cut = await create(spec('2.restore.a.b', { restore: { url: `${server.url}/fin-mid-body/state.zip` } }));
  t.is(cut.status, 502, JSON.stringify(cut.body));
  t.is(cut.body.error.code, 'REPOSITORY_ERROR');
});

test('files[].url: an endless body is TOO_LARGE at limits.artifactMaxBytes, a body cut mid-way is REPOSITORY_ERROR', async (t) => {
  const { server, create } = await setup(t);
  const endless = await create(spec('1.files.a.b', { files: [{ url: `${server.url}/endless/app.conf`, to: 'conf/app.conf' }] }));
  t.is(endless.status, 422, JSON.stringify(endless.body));
  t.is(endless.body.error.code, 'TOO_LARGE');
  t.regex(endless.body.error.message, new RegExp(`^files\\[0\\]\\.url: .*larger than ${MAX} bytes`));
  const cut = await create(spec('2.files.a.b', { files: [{ url: `${server.url}/fin-mid-body/app.conf`, to: 'conf/app.conf' }] }));
  t.is(cut.status, 502, JSON.stringify(cut.body));
  t.is(cut.body.error.code, 'REPOSITORY_ERROR');
});
