#!/usr/bin/env node
// `npm start`: the daemon on an embedded default, for a laptop or a first look.
// Everything lives under .local/ in the checkout: the prefix, an artifact directory used as
// a file:// repository (drop ZIPs in .local/artifacts/<groupPath>/<artifactId>/<version>/),
// and, when Debian's zookeeper package is installed, a local ZooKeeper the node registers in.
// Without it the daemon runs standalone and says so.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const local = path.join(root, '.local');
const prefix = path.join(local, 'prefix');
const artifacts = path.join(local, 'artifacts');
const zkJar = '/usr/share/java/zookeeper.jar';
const say = (msg) => process.stderr.write(`[npm start] ${msg}\n`);

for (const dir of [prefix, artifacts]) mkdirSync(dir, { recursive: true });

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function ruok(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    sock.setTimeout(1000, () => sock.destroy());
    sock.on('connect', () => sock.write('ruok'));
    sock.on('data', (d) => (out += d));
    sock.on('close', () => resolve(out === 'imok'));
    sock.on('error', () => resolve(false));
  });
}

async function startZookeeper() {
  const javaOk = spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
  if (!existsSync(zkJar) || !javaOk) {
    say('no ZooKeeper installed (apt-get install zookeeper): the daemon runs standalone');
    return undefined;
  }
  let port = 2181;
  if (await ruok(port)) {
    say(`a ZooKeeper already answers on 127.0.0.1:${port}: using it`);
    return { connect: `127.0.0.1:${port}`, stop: async () => {} };
  }
  while (!(await portFree(port))) port++;
  const dataDir = path.join(local, 'zookeeper');
  mkdirSync(dataDir, { recursive: true });
  const cfg = path.join(local, 'zoo.cfg');
  writeFileSync(cfg, `tickTime=2000\ndataDir=${dataDir}\nclientPort=${port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=ruok,stat,srvr\n`);
  // its own process group: a Ctrl-C in the terminal must not stop it before the daemon
  const zk = spawn('java', ['-Xmx256m', '-cp', zkJar, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg], { stdio: 'ignore', detached: true });
  const zkExited = new Promise((resolve) => zk.once('exit', resolve));
  for (let i = 0; i < 100 && !(await ruok(port)); i++) await new Promise((r) => setTimeout(r, 200));
  if (!(await ruok(port))) {
    zk.kill('SIGKILL');
    say('the local ZooKeeper did not start: the daemon runs standalone');
    return undefined;
  }
  say(`local ZooKeeper on 127.0.0.1:${port} (data in ${path.relative(root, dataDir)})`);
  return {
    connect: `127.0.0.1:${port}`,
    stop: async () => {
      zk.kill('SIGTERM');
      const late = setTimeout(() => zk.kill('SIGKILL'), 10_000);
      await zkExited;
      clearTimeout(late);
    },
  };
}

const zk = await startZookeeper();
const config = {
  prefix,
  api: { listen: process.env.NODEE_LISTEN ?? '127.0.0.1:7070' },
  repositories: [{ url: `file://${artifacts}/{groupPath}/{artifactId}/{version}/{artifactId}-{version}.zip`, checksum: 'if-present' }],
  ...(zk ? { zookeeper: { connect: zk.connect, nodesPath: '/meta/cell/nodes' } } : {}),
};
const configFile = path.join(local, 'nodee.yaml');
writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
say(`prefix ${path.relative(root, prefix)}, artifacts from ${path.relative(root, artifacts)}, config ${path.relative(root, configFile)}`);
const listen = config.api.listen;
const urlFlag = listen === '127.0.0.1:7070' ? '' : ` --url http://${listen}`;
say(`API and console on http://${listen}/ ; try:`);
say(`  node dist/cli.js status${urlFlag}`);
say(`  node dist/cli.js service list${urlFlag}`);
if (zk) say(`  node dist/cli.js cluster ls --config ${path.relative(root, configFile)}`);

// The daemon runs in a process group of its own too, so exactly one signal reaches it (a
// second would mean "now"), from here: stop the daemon first, so it can remove its znode,
// then the ZooKeeper it registered in. The same on SIGINT (Ctrl-C), SIGTERM and SIGHUP.
const { DAEMON_NODE_FLAGS } = await import('../dist/daemon/node-flags.js');
const daemon = spawn(process.execPath, [...DAEMON_NODE_FLAGS, path.join(root, 'dist', 'cli.js'), 'daemon', '--config', configFile], { stdio: 'inherit', detached: true });
let stopping = false;
const stop = (why) => {
  if (stopping) return;
  stopping = true;
  say(`${why}: stopping the daemon${zk ? ', then the local ZooKeeper' : ''}`);
  daemon.kill('SIGTERM');
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stop(signal));
// npm does not always pass its signal on (its `sh -c` may die first): a new parent means
// whoever ran us is gone, and nothing may be left behind
const parent = process.ppid;
const watch = setInterval(() => process.ppid !== parent && stop('npm start went away'), 500);
daemon.on('exit', async (code, signal) => {
  clearInterval(watch);
  await zk?.stop();
  process.exit(code ?? (signal ? 1 : 0));
});
