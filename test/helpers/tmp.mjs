import { mkdtemp, rm, chmod } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A fresh temp dir removed after the test (read-only artifact trees included). */
export async function tempDir(t, prefix = 'nodee-test-') {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  t.teardown(async () => {
    // installed artifacts are read-only: give write back before removing
    try {
      execFileSync('chmod', ['-R', 'u+w', dir], { stdio: 'ignore' });
    } catch {}
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A loopback port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `check` (sync or async) until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor(check, { timeoutMs = 10_000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export { chmod };
