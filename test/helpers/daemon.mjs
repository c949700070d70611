import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './tmp.mjs';
import { cgroupParentFor, removeCgroupTree } from './cgroups.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');

/**
 * The built daemon as a real process on a temp prefix and a free loopback port.
 * `config` is merged over a minimal config (JSON is valid YAML); pass `prefix` to reuse one
 * (a daemon restart). Resolves once the daemon says it started; rejects with its stderr
 * if it exits first. Teardown kills it and every service process it left under its prefix.
 */
export async function startDaemon(t, { config = {}, args = [], env = {}, prefix, expectFailure = false } = {}) {
  prefix ??= await tempDir(t, 'nodee-prefix-');
  const dir = await tempDir(t, 'nodee-conf-');
  const configFile = path.join(dir, 'nodee.yaml');
  // each test daemon's service cgroups under a parent of its own, the same after a restart on this prefix
  const cgroup = { parent: cgroupParentFor(prefix), ...(config.cgroup ?? {}) };
  const full = { prefix, instance: 'test-node', ...config, cgroup, api: { listen: '127.0.0.1:0', ...(config.api ?? {}) } };
  await writeFile(configFile, JSON.stringify(full, null, 2));
  const proc = spawn(process.execPath, [CLI, 'daemon', '--config', configFile, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  // 'exit' can come before the last of stdout/stderr has been read: wait for both pipes to
  // end too (bounded, in case something the daemon started ever held one open)
  const drained = Promise.all([proc.stdout, proc.stderr].map((s) => new Promise((r) => s.once('close', r))));
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal))).then(async (code) => {
    await Promise.race([drained, new Promise((r) => setTimeout(r, 2000))]);
    return code;
  });

  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
    killServicesUnder(prefix);
    await removeCgroupTree(cgroup.parent);
  });

  if (expectFailure) {
    const code = await exited;
    return { code, stdout, stderr, configFile, prefix };
  }

  const url = await new Promise((resolve, reject) => {
    const onData = () => {
      for (const line of stdout.split('\n')) {
        if (!line.includes('"nodee started"')) continue;
        try {
          resolve(JSON.parse(line).url);
          proc.stdout.off('data', onData);
        } catch {}
      }
    };
    proc.stdout.on('data', onData);
    exited.then((code) => reject(new Error(`daemon exited (${code}) before starting:\n${stderr}\n${stdout}`)));
    // generous: a full run starts ZooKeepers and many daemons at once on two cores
    setTimeout(() => reject(new Error(`daemon did not start in 45 s:\n${stderr}\n${stdout}`)), 45_000).unref();
  });
  const base = url.replace(/\/$/, '');

  return {
    url: base,
    prefix,
    configFile,
    proc,
    pid: proc.pid,
    logs: () => stdout,
    stderr: () => stderr,
    /** Parsed JSON log lines. */
    events: () => stdout.split('\n').filter(Boolean).flatMap((l) => { try { return [JSON.parse(l)]; } catch { return []; } }),
    async api(method, p, body, { token, headers = {}, raw } = {}) {
      const h = { ...headers };
      if (token) h.authorization = `Bearer ${token}`;
      let payload;
      if (raw !== undefined) payload = raw;
      else if (body !== undefined) {
        payload = JSON.stringify(body);
        h['content-type'] ??= 'application/json';
      }
      const res = await fetch(base + p, { method, headers: h, body: payload });
      const text = await res.text();
      let parsed = text;
      if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
      return { status: res.status, body: parsed, headers: res.headers, text };
    },
    /** Sends `signal` and resolves the exit code (or signal name). */
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill(signal);
      return exited;
    },
    async kill9() {
      proc.kill('SIGKILL');
      return exited;
    },
    exited,
  };
}

/** Runs the CLI as a real process; resolves { code, stdout, stderr }. */
export function cli(args, { env = {}, input } = {}) {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    if (input !== undefined) proc.stdin.end(input);
    else proc.stdin.end();
    // 'close', not 'exit': only then has all of stdout and stderr been read
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Services outlive the daemon by design, so a test's teardown must reap them: every
 * process whose environment names a runtime dir under this prefix is killed.
 */
export function killServicesUnder(prefix) {
  const marker = `NODEE_RUNTIME_DIR=${path.join(prefix, 'runtime')}`;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let environ;
    try {
      environ = readFileSync(`/proc/${name}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (environ.split('\0').some((kv) => kv.startsWith(marker))) {
      try {
        process.kill(Number(name), 'SIGKILL');
      } catch {}
    }
  }
}
