import { spawn } from 'node:child_process';
import { WebSocket } from 'undici';
import { tempDir, waitFor } from './tmp.mjs';

export const CHROMIUM = '/usr/bin/chromium';

// headless, as root, with nothing talking to the outside on its own
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--remote-debugging-port=0',
  '--window-size=1280,900',
];

/**
 * A real headless Chromium on a fresh profile, driven over the DevTools protocol (no
 * playwright: one WebSocket is all it takes). Resolves `{ open(url) }`; `open` gives a new
 * tab `{ evaluate, waitFor, screenshot }` once its page has loaded. Teardown kills the
 * browser's whole process group.
 */
export async function startChromium(t) {
  const profile = await tempDir(t, 'nodee-chromium-');
  const proc = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, 'about:blank'], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  t.teardown(async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    try {
      process.kill(-proc.pid, 'SIGKILL'); // the browser, its zygote and renderers
    } catch {}
    await exited;
  });

  const wsUrl = await new Promise((resolve, reject) => {
    let stderr = '';
    proc.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (m) resolve(m[1]);
    });
    exited.then((code) => reject(new Error(`chromium exited (${code}) before it listened:\n${stderr}`)));
  });
  const cdp = await connect(wsUrl);
  t.teardown(() => cdp.close());

  return {
    async open(url) {
      const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
      await cdp.send('Page.enable', {}, sessionId);
      const loaded = cdp.once('Page.loadEventFired', sessionId);
      const nav = await cdp.send('Page.navigate', { url }, sessionId);
      if (nav.errorText) throw new Error(`cannot load ${url}: ${nav.errorText}`);
      await loaded;
      const evaluate = async (expression) => {
        const r = await cdp.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
        if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
        return r.result.value;
      };
      return {
        /** Runs `expression` in the page (awaiting a promise) and returns its JSON value. */
        evaluate,
        /** Polls `expression` in the page until its value is truthy, and returns that value. */
        waitFor(expression, { timeoutMs = 10_000, what = expression } = {}) {
          return waitFor(() => evaluate(expression), { timeoutMs, what });
        },
        /** A PNG of the viewport, as a Buffer. */
        async screenshot() {
          const { data } = await cdp.send('Page.captureScreenshot', { format: 'png' }, sessionId);
          return Buffer.from(data, 'base64');
        },
      };
    },
  };
}

async function connect(url) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
  let nextId = 0;
  const pending = new Map();
  const waiters = [];
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(`${p.method}: ${msg.error.message}`));
      else p?.resolve(msg.result);
      return;
    }
    for (const w of waiters.filter((w) => w.method === msg.method && w.sessionId === msg.sessionId)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(msg.params);
    }
  };
  return {
    send(method, params = {}, sessionId) {
      const id = ++nextId;
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
    },
    /** The next event `method` of that session. */
    once(method, sessionId) {
      return new Promise((resolve) => waiters.push({ method, sessionId, resolve }));
    },
    close() {
      ws.close();
    },
  };
}
