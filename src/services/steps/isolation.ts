import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../lib/log.js';
import { findOnPath } from './command.js';

/**
 * Run as root, a service could write the immutable software tree (root ignores mode bits).
 * So root services run in a mount namespace where `<prefix>/software` is a read-only bind
 * mount. One namespace serves every service: a small holder process (`sleep`) keeps it
 * alive, and each service enters it with `nsenter`, one exec in place (the pid nodee
 * records is still the service's own), about a millisecond instead of the 3-4 ms of a
 * fresh `unshare` + `mount` per start. Propagation is slave, so mounts made on the host
 * later (and new artifacts) still show up inside; nothing done inside reaches the host.
 *
 * The holder dies with the daemon (PDEATHSIG), so no namespace outlives the daemon that
 * made it; services keep theirs alive on their own. A new daemon makes a new one.
 */
const HOLDER_SCRIPT = 'mount --bind -o ro "$1" "$1" || exit 126; echo ready; exec sleep infinity';

export class SoftwareNamespace {
  private holder: ChildProcess | undefined;
  private opening: Promise<void> | undefined;
  private closed = false;

  private constructor(
    private readonly softwareRoot: string,
    private readonly tools: { unshare: string; nsenter: string; setpriv: string },
    private readonly log: Logger,
  ) {}

  /** A working namespace, or undefined (with a warning) when this host cannot make one. */
  static async open(softwareRoot: string, log: Logger): Promise<SoftwareNamespace | undefined> {
    const unshare = findOnPath('unshare');
    const nsenter = findOnPath('nsenter');
    const setpriv = findOnPath('setpriv');
    if (!unshare || !nsenter || !setpriv) {
      log.warn('unshare, nsenter or setpriv (util-linux) missing: root services could write the software tree');
      return undefined;
    }
    const ns = new SoftwareNamespace(softwareRoot, { unshare, nsenter, setpriv }, log);
    try {
      await ns.ready();
      return ns;
    } catch (err) {
      ns.close();
      log.warn({ err }, 'cannot make a mount namespace: root services could write the software tree');
      return undefined;
    }
  }

  /** Resolves once the holder runs (starting a new one if the last died). */
  ready(): Promise<void> {
    if (this.holder && this.holder.exitCode === null && this.holder.signalCode === null) return Promise.resolve();
    this.opening ??= this.start().finally(() => (this.opening = undefined));
    return this.opening;
  }

  /** argv that runs `argv` inside the namespace, in `cwd`. */
  wrap(argv: string[], cwd: string): string[] {
    const pid = this.holder?.pid;
    if (pid === undefined) throw new Error('the software namespace is not open');
    return [this.tools.nsenter, `--mount=/proc/${pid}/ns/mnt`, `--wd=${cwd}`, '--', ...argv];
  }

  close(): void {
    this.closed = true;
    this.holder?.kill('SIGKILL');
    this.holder = undefined;
  }

  private start(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the software namespace is closed'));
    const t = this.tools;
    const holder = spawn(
      t.setpriv,
      ['--pdeathsig', 'SIGKILL', '--', t.unshare, '-m', '--propagation', 'slave', '/bin/sh', '-c', HOLDER_SCRIPT, 'nodee-ns', this.softwareRoot],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.holder = holder;
    let err = '';
    holder.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    holder.once('exit', (code, signal) => {
      if (!this.closed) this.log.warn({ code, signal, stderr: err.trim() }, 'software namespace holder exited; the next start makes a new one');
    });
    return new Promise<void>((resolve, reject) => {
      holder.once('error', reject);
      holder.once('exit', (code) => reject(new Error(`namespace holder exited (${code}): ${err.trim()}`)));
      holder.stdout!.setEncoding('utf8').once('data', (d: string) => {
        if (!d.startsWith('ready')) return reject(new Error(`namespace holder said ${d}`));
        // nothing more is read: let the pipes go so they hold neither the loop nor memory
        holder.stdout!.destroy();
        holder.stderr!.destroy();
        holder.unref();
        resolve();
      });
    });
  }
}
