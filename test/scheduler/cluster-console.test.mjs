import test from 'ava';
import { ApiServer } from '../../dist/api/server.js';
import { silentLogger } from '../../dist/lib/log.js';
import { createMetricsRegistry } from '../../dist/lib/metrics.js';
import { clusterRoutes } from '../../dist/scheduler/index.js';
import { startChromium } from '../helpers/chromium.mjs';
import { sharedZookeeper } from '../helpers/zookeeper.mjs';
import { cell, direct } from './_fleet.mjs';

// The console's fleet view in a real headless Chromium, fed by the real API server's
// /v1/cluster/* over a real ZooKeeper. The server serves the fleet routes only (the daemon's
// own are test/api/console.test.mjs's): the node part of the page fails, the fleet must not.

const zk = sharedZookeeper(test);
const q = JSON.stringify;

test('the fleet section shows nodes and jobs as text, and keeps its last view, marked, when ZooKeeper goes', async (t) => {
  const c = await cell(t, zk().connect);
  const { view, writer } = await direct(t, zk().connect, c);
  await writer.runJob({ name: 'web.borud.fbu', count: 2, spec: { artifact: 'com.example:web:1.0.0', user: 'borud' } });
  await c.status('web.borud.fbu', 1, [{ coordinate: '0.web.borud.fbu', node: 'node-a', state: 'running', ready: true }, { coordinate: '1.web.borud.fbu', node: null, state: 'pending', ready: false }], [
    { coordinate: '1.web.borud.fbu', reason: 'memoryMB: needs 64, most free 10 on node-a' },
  ]);
  await c.raw('junk', 'not json');
  await c.node('node-a', { url: 'http://10.0.0.5:7070/', services: [['0.web.borud.fbu', 'running', true], ['0.db.borud.fbu', 'failed', false]] });
  // names and URLs are anyone's writing: markup stays text, a script URL is no link
  await c.node('<img src=x onerror=alert(1)>', { url: 'javascript:alert(1)' });

  let connected = true;
  const server = new ApiServer({ listen: '127.0.0.1:0', log: silentLogger(), metrics: createMetricsRegistry(false), node: {}, routers: [clusterRoutes(() => (connected ? view : undefined))], bodyLimitBytes: 1024 });
  const { url } = await server.start();
  t.teardown(() => server.close(0));
  const browser = await startChromium(t);
  const page = await browser.open(url);
  await page.waitFor(`!$("fleet").hidden && $("fleet-jobs").children.length === 2`);

  const rows = (id) => page.evaluate(`[...$(${q(id)}).children].map((tr) => [...tr.children].map((td) => td.textContent))`);
  t.deepEqual(await rows('fleet-nodes'), [
    ['<img src=x onerror=alert(1)>', 'active', '0/0', 'mem 512/7000 MB cpu 0.5/2 disk 1024/50000 MB', 'javascript:alert(1)'],
    ['node-a', 'active', '1/2', 'mem 512/7000 MB cpu 0.5/2 disk 1024/50000 MB', 'http://10.0.0.5:7070/'],
  ]);
  t.deepEqual(await rows('fleet-jobs'), [
    ['junk', '?', '-', '-', '-', '-', 'unreadable: job: not JSON'],
    ['web.borud.fbu', 'service', '2', '1', '1/1', '0 on node-a (running, ready)', '1: 1.web.borud.fbu memoryMB: needs 64, most free 10 on node-a'],
  ]);
  t.is(await page.evaluate(`document.querySelectorAll("#fleet img").length`), 0);
  t.deepEqual(await page.evaluate(`[...document.querySelectorAll("#fleet-nodes a")].map((a) => a.getAttribute("href"))`), [null, 'http://10.0.0.5:7070/']);
  t.is(await page.evaluate(`$("fleet-state").textContent`), '2 nodes, 2 jobs');

  connected = false;
  await page.waitFor(`$("fleet-state").textContent.startsWith("not current: ZOOKEEPER_UNAVAILABLE")`);
  t.false(await page.evaluate(`$("fleet").hidden`), 'the last view stays');
  t.is((await rows('fleet-jobs')).length, 2);
});

test('a daemon that knows no fleet (503 from the start) never shows the section', async (t) => {
  const server = new ApiServer({ listen: '127.0.0.1:0', log: silentLogger(), metrics: createMetricsRegistry(false), node: {}, routers: [clusterRoutes(() => undefined)], bodyLimitBytes: 1024 });
  const { url } = await server.start();
  t.teardown(() => server.close(0));
  const browser = await startChromium(t);
  const page = await browser.open(url);
  // the node part fails here (no node routes behind it): wait for that refresh to be over
  await page.waitFor(`$("error").textContent !== ""`);
  await new Promise((r) => setTimeout(r, 2500));
  t.true(await page.evaluate(`$("fleet").hidden`));
  t.is(await page.evaluate(`$("fleet-nodes").children.length`), 0);
});
