import { spawn } from 'node:child_process';
import { writeFile, mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { tempDir, freePort, waitFor } from './tmp.mjs';

export const ZK_CLASSPATH = '/usr/share/java/zookeeper.jar';

/** Asks a four-letter word; resolves the answer or '' when the server is not there. */
export function fourLetter(port, word = 'ruok', host = '127.0.0.1') {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    let out = '';
    sock.setTimeout(1000, () => sock.destroy());
    sock.on('connect', () => sock.write(word));
    sock.on('data', (d) => (out += d));
    sock.on('close', () => resolve(out));
    sock.on('error', () => resolve(''));
  });
}

/** A server's zoo.cfg on loopback; `extra` lines (an ensemble's server.N) are appended. */
export function zooCfg({ tickTime, dataDir, clientPort, extra = [] }) {
  return [
    `tickTime=${tickTime}`,
    `dataDir=${dataDir}`,
    `clientPort=${clientPort}`,
    'clientPortAddress=127.0.0.1',
    `minSessionTimeout=${tickTime * 2}`,
    `maxSessionTimeout=${tickTime * 120}`,
    'admin.enableServer=false',
    '4lw.commands.whitelist=*',
    'maxClientCnxns=0',
    ...extra,
    '',
  ].join('\n');
}

/**
 * One ZooKeeper for all the tests of a file (a JVM start is ~1 s): registers ava's
 * before/after hooks and returns a getter for the running server.
 */
export function sharedZookeeper(test, options) {
  let zk;
  const hooks = [];
  test.before(async () => {
    zk = await startZookeeper({ teardown: (fn) => hooks.push(fn) }, options);
  });
  test.after.always(async () => {
    for (const fn of hooks.reverse()) await fn();
  });
  return () => zk;
}

/**
 * A real standalone ZooKeeper on a free loopback port. tickTime 500 ms lets sessions be
 * as short as 1 s. stop()/start() keep the port and the data dir (a server restart);
 * kill9() is a crash.
 */
export async function startZookeeper(t, { tickTime = 500 } = {}) {
  const dir = await tempDir(t, 'nodee-zk-');
  const port = await freePort();
  const dataDir = path.join(dir, 'data');
  await mkdir(dataDir, { recursive: true });
  const cfg = path.join(dir, 'zoo.cfg');
  await writeFile(cfg, zooCfg({ tickTime, dataDir, clientPort: port }));
  let proc;
  let output = '';
  const zk = {
    port,
    connect: `127.0.0.1:${port}`,
    dataDir,
    get output() {
      return output;
    },
    async start() {
      proc = spawn('java', ['-Xmx128m', '-XX:+UseSerialGC', '-cp', ZK_CLASSPATH, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      proc.stdout.on('data', (d) => (output += d));
      proc.stderr.on('data', (d) => (output += d));
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.exited = exited;
      await waitFor(async () => (await fourLetter(port)) === 'imok', { timeoutMs: 30_000, intervalMs: 100, what: `zookeeper on ${port}` });
    },
    async stop() {
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      await proc.exited;
    },
    async kill9() {
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await proc.exited;
    },
  };
  t.teardown(() => zk.kill9());
  await zk.start();
  return zk;
}
