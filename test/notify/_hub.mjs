import { spawn } from 'node:child_process';
import { NotifyHub } from '../../dist/notify/index.js';

/** A logger that keeps what it was told. */
export function recorder() {
  const lines = [];
  const at = (level) => (obj, msg) => lines.push({ level, ...obj, msg });
  return { lines, info: at('info'), warn: at('warn'), debug: at('debug'), error: at('error') };
}

/** A hub closed at teardown, with every message and refusal it reported, by key. */
export function collectingHub(t, o = {}) {
  const log = recorder();
  const hub = new NotifyHub({ log, restartDelayMs: { min: 20, max: 200 }, ...o });
  const messages = [];
  const refused = [];
  hub.on('message', (key, message) => messages.push({ key, ...message }));
  hub.on('refused', (key, reason, bytes) => refused.push({ key, reason, bytes }));
  t.teardown(() => hub.close());
  return { hub, messages, refused, log };
}

/**
 * A real sd_notify client in Python: sends each payload (hex) as one datagram to the socket,
 * `gapMs` apart. Exit 0 when all were sent; otherwise prints the errno's name and exits 3.
 */
const PY = `
import socket, sys, time, errno
path, gap = sys.argv[1], float(sys.argv[2]) / 1000
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
try:
    for i, h in enumerate(sys.argv[3:]):
        if i: time.sleep(gap)
        s.sendto(bytes.fromhex(h), path)
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
    sys.exit(3)
`;

/** Runs the Python client (as `user` via setpriv when given); resolves {code, out}. */
export function pySend(socketPath, payloads, { gapMs = 0, user } = {}) {
  const argv = ['/usr/bin/python3', '-c', PY, socketPath, String(gapMs), ...payloads.map((p) => Buffer.from(p).toString('hex'))];
  const cmd = user ? ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', ...argv] : argv;
  return run(cmd[0], cmd.slice(1), {});
}

/** Runs a command; resolves {code, out} with stdout and stderr together. */
export function run(file, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out: out.trim() }));
  });
}
