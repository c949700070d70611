#!/usr/bin/env node
// Makes a fresh checkout runnable: `npm ci` when node_modules is missing or stale, and with
// --test the Debian packages the tests use for real parts (ZooKeeper, zip tools, openssl…),
// installed with apt-get when we are root, or named in a clear error otherwise.
// `npm start` and `npm test` run it first, so those two commands are the whole set-up.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const say = (msg) => process.stderr.write(`[setup] ${msg}\n`);
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts }).status === 0;
const has = (cmd, args = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

// node_modules/.package-lock.json is npm's record of what it installed: older than the
// lock file means package.json changed since the last install.
const installed = path.join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(path.join(root, 'package-lock.json')).mtimeMs) {
  say('installing npm dependencies (npm ci)');
  if (!run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'])) process.exit(1);
}

if (process.argv.includes('--test')) {
  // command that proves the tool is there → Debian package that provides it
  const needs = [
    [['java', ['-cp', '/usr/share/java/zookeeper.jar', 'org.apache.zookeeper.Version']], 'zookeeper'],
    [['zip', ['-v']], 'zip'],
    [['unzip', ['-v']], 'unzip'],
    [['7z', ['i']], 'p7zip-full'],
    [['jar', ['--version']], 'default-jdk-headless'],
    [['script', ['--version']], 'bsdutils'],
    [['openssl', ['version']], 'openssl'],
    [['curl', ['--version']], 'curl'],
    [['python3', ['--version']], 'python3'],
    [['unshare', ['--version']], 'util-linux'],
    [['supervisord', ['--version']], 'supervisor'],
    [['systemd-analyze', ['--version']], 'systemd'],
    [['chromium', ['--version']], 'chromium'], // the API's cross-site attack tests
  ];
  const missing = needs.filter(([[cmd, args]]) => !has(cmd, args)).map(([, pkg]) => pkg);
  if (missing.length) {
    if (process.getuid?.() === 0 && has('apt-get', ['--version'])) {
      say(`installing Debian packages: ${missing.join(' ')}`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      if (!run('apt-get', ['update', '-qq'], { env }) || !run('apt-get', ['install', '-y', '-qq', ...missing], { env })) {
        say('apt-get failed');
        process.exit(1);
      }
    } else {
      say(`the tests need these Debian packages: sudo apt-get install ${missing.join(' ')}`);
      process.exit(1);
    }
  }
}
