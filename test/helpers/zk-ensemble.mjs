import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir, freePort, waitFor } from './tmp.mjs';
import { fourLetter, zooCfg, ZK_CLASSPATH } from './zookeeper.mjs';

/**
 * A real ZooKeeper ensemble on loopback (QuorumPeerMain, one dataDir with a myid file per
 * server). Resolves once every server serves as leader or follower. Each server can be
 * stopped, killed -9 and started again on the same ports and data. Killed at teardown.
 */
export async function startEnsemble(t, { size = 3, tickTime = 500 } = {}) {
  const dir = await tempDir(t, 'nodee-zk-ensemble-');
  const ids = Array.from({ length: size }, (_, i) => i + 1);
  const ports = [];
  for (const id of ids) ports.push({ id, client: await freePort(), quorum: await freePort(), election: await freePort() });
  const serverLines = ports.map((p) => `server.${p.id}=127.0.0.1:${p.quorum}:${p.election}`);

  const servers = [];
  for (const p of ports) {
    const dataDir = path.join(dir, `zk${p.id}`);
    await mkdir(dataDir, { recursive: true });
    await writeFile(path.join(dataDir, 'myid'), `${p.id}\n`);
    const cfg = path.join(dir, `zoo${p.id}.cfg`);
    await writeFile(cfg, zooCfg({ tickTime, dataDir, clientPort: p.client, extra: ['initLimit=20', 'syncLimit=10', ...serverLines] }));
    let proc;
    let output = '';
    const server = {
      id: p.id,
      port: p.client,
      connect: `127.0.0.1:${p.client}`,
      get output() {
        return output;
      },
      get running() {
        return proc !== undefined && proc.exitCode === null && proc.signalCode === null;
      },
      launch() {
        proc = spawn('java', ['-Xmx128m', '-XX:+UseSerialGC', '-cp', ZK_CLASSPATH, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        proc.stdout.on('data', (d) => (output += d));
        proc.stderr.on('data', (d) => (output += d));
        proc.exited = new Promise((resolve) => proc.once('exit', resolve));
      },
      /** 'leader', 'follower', or '' when not serving. */
      async mode() {
        const m = /Mode: (\w+)/.exec(await fourLetter(p.client, 'srvr'));
        return m ? m[1] : '';
      },
      async start() {
        server.launch();
        await waitFor(async () => (await server.mode()) !== '', { timeoutMs: 60_000, intervalMs: 200, what: `ensemble server ${p.id} serving` });
      },
      async stop() {
        if (!server.running) return;
        proc.kill('SIGTERM');
        await proc.exited;
      },
      async kill9() {
        if (!server.running) return;
        proc.kill('SIGKILL');
        await proc.exited;
      },
      /** True when this server holds a connection of session `hexId` (from the `cons` word). */
      async hasSession(hexId) {
        const cons = await fourLetter(p.client, 'cons');
        const want = BigInt('0x' + hexId);
        return [...cons.matchAll(/sid=0x([0-9a-f]+)/g)].some((m) => BigInt('0x' + m[1]) === want);
      },
    };
    servers.push(server);
  }
  t.teardown(() => Promise.all(servers.map((s) => s.kill9())));
  // a quorum needs a majority up at once: launch all, then wait for each
  for (const s of servers) s.launch();
  for (const s of servers) {
    await waitFor(async () => (await s.mode()) !== '', { timeoutMs: 60_000, intervalMs: 200, what: `ensemble server ${s.id} serving` });
  }
  return {
    servers,
    connect: servers.map((s) => s.connect).join(','),
    /** The server that holds session `hexId`'s connection, if any. */
    async serverOf(hexId) {
      for (const s of servers) if (s.running && (await s.hasSession(hexId))) return s;
      return undefined;
    },
  };
}
