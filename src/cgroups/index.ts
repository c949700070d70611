import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { lstat, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../lib/log.js';
import { errnoOf, messageOf, NodeeError } from '../lib/errors.js';
import { readMounts, type Hierarchy } from './mounts.js';
import { ServiceCgroup, type CgroupDirs, type ResourceLimits } from './service.js';

export { ServiceCgroup, type ResourceLimits, type Usage } from './service.js';

export type Containment = 'cgroup2' | 'cgroup1' | 'none';

const execFileAsync = promisify(execFile);

/** A service cgroup's name: a slug of the coordinate. No '/', no '..': it can only ever be one level below the base. */
const NAME = /^[a-z0-9._-]{1,200}$/;
/** A segment of an absolute parent or the instance: a systemd unit name (`nodee@a.service`) fits. */
const SEGMENT = /^[A-Za-z0-9._@-]{1,200}$/;
/** The controllers each service cgroup gets. */
const V2_CONTROLLERS = ['memory', 'cpu', 'pids'];

function safeName(name: string): boolean {
  return NAME.test(name) && !name.includes('..') && name !== '.';
}

function safeParent(p: string): boolean {
  if (!p.startsWith('/')) return false;
  return p.slice(1).split('/').every((s) => SEGMENT.test(s) && s !== '.' && s !== '..');
}

/** The directory showing cgroup path `cg` in hierarchy `h`, or undefined when the mount does not show it. */
function dirOf(h: Hierarchy, cg: string): string | undefined {
  if (h.root === '/') return path.join(h.mountPoint, cg);
  if (cg === h.root || cg.startsWith(h.root + '/')) return path.join(h.mountPoint, cg.slice(h.root.length));
  return undefined;
}

interface Layout {
  containment: 'cgroup2' | 'cgroup1';
  /** The base directory in each hierarchy, keyed memory, cpu, cpuacct, pids, freezer, unified. */
  bases: Record<string, string>;
}

export class Cgroups {
  private constructor(
    readonly containment: Containment,
    private readonly layout: Layout | undefined,
    /** Why containment is 'none' (undefined otherwise). */
    readonly reason?: string,
  ) {}

  /**
   * Find the host's cgroups and make the base cgroup services go under. Never throws: where
   * cgroups cannot be used it logs why, once, and answers containment 'none' (the runner then
   * falls back to process groups).
   */
  static async detect(o: { parent: string; instance: string; favorDynmods?: boolean; log: Logger }): Promise<Cgroups> {
    try {
      const layout = await makeLayout(o.parent, o.instance);
      o.log.info({ containment: layout.containment, bases: layout.bases }, 'cgroups: services get a cgroup of their own');
      if (o.favorDynmods) await favorDynmods(o.log);
      return new Cgroups(layout.containment, layout);
    } catch (err) {
      const reason = messageOf(err);
      o.log.warn({ parent: o.parent, reason }, 'cgroups unavailable: services are contained by process group only');
      return new Cgroups('none', undefined, reason);
    }
  }

  /** Make (or find again) a service's cgroup and set its limits. Idempotent. */
  async create(name: string, limits: ResourceLimits): Promise<ServiceCgroup> {
    const dirs = this.dirs(name);
    let fresh = true;
    await Promise.all(
      [...new Set(Object.values(dirs).filter((d): d is string => typeof d === 'string'))].map(async (dir) => {
        try {
          await mkdir(dir);
          return;
        } catch (err) {
          if (errnoOf(err) !== 'EEXIST') throw err;
        }
        fresh = false;
        // a name like "tasks" or "memory.max" would meet a control file, not a directory
        if (!(await lstat(dir)).isDirectory()) throw new NodeeError('INTERNAL', `cgroup name ${name} is a control file`);
      }),
    );
    const cg = new ServiceCgroup(name, dirs);
    // a cgroup just made is unlimited: only the limits the spec sets need writing
    await cg.setLimits(limits, { fresh });
    return cg;
  }

  /**
   * A service cgroup's handle, whether or not it exists now (reads of a missing one answer
   * nothing): what a service's tree and cgroup hook hold, and what re-adoption searches.
   */
  handle(name: string): ServiceCgroup {
    return new ServiceCgroup(name, this.dirs(name));
  }

  private dirs(name: string): CgroupDirs {
    if (this.layout === undefined) throw new NodeeError('INTERNAL', `no cgroups on this host: ${this.reason}`);
    if (!safeName(name)) throw new NodeeError('INTERNAL', `unsafe cgroup name ${JSON.stringify(name)}`);
    const b = this.layout.bases;
    const at = (k: string) => (b[k] === undefined ? undefined : path.join(b[k], name));
    if (this.layout.containment === 'cgroup2') {
      const d = at('unified')!;
      return { v2: true, memory: d, cpu: d, cpuacct: d, pids: d, unified: d };
    }
    return { v2: false, memory: at('memory')!, cpu: at('cpu')!, cpuacct: at('cpuacct'), pids: at('pids')!, freezer: at('freezer'), unified: at('unified') };
  }
}

/**
 * Every start moves the new process into its cgroup (a write to cgroup.procs). Without the
 * `favordynmods` mount option each such move takes the global cgroup_threadgroup_rwsem for
 * writing and waits out an RCU grace period first: about 8 ms here, 20-30 ms on busier hosts,
 * most of a restart. With it the move is cheap and forks and exits pay a little instead, the
 * trade the kernel documents for hosts that move tasks often. The option is global (one
 * hierarchy's flag switches the shared lock), so the cgroup2 mount is remounted with it,
 * repeating its other options (a remount drops what it does not name: nsdelegate...). Kernels
 * before 6.0 do not know it; a host that refuses gets a warning and slower restarts.
 */
async function favorDynmods(log: Logger): Promise<void> {
  const v2 = (await readMounts()).hierarchies.find((h) => h.v2);
  if (v2 === undefined || v2.superOptions.includes('favordynmods')) return;
  const options = ['remount', ...v2.superOptions.filter((x) => x !== 'rw' && x !== 'ro'), 'favordynmods'].join(',');
  try {
    await execFileAsync('mount', ['-o', options, v2.mountPoint]);
    log.info({ mountPoint: v2.mountPoint }, 'cgroups: remounted with favordynmods (cheap moves into a cgroup; config cgroup.favorDynmods)');
  } catch (err) {
    log.warn({ mountPoint: v2.mountPoint, reason: messageOf(err) }, 'cgroups: cannot set favordynmods: each service start waits for the kernel (an RCU grace period)');
  }
}

async function controllersOf(dir: string, file: 'cgroup.controllers' | 'cgroup.subtree_control'): Promise<string[]> {
  return (await readFile(path.join(dir, file), 'utf8')).trim().split(/\s+/).filter(Boolean);
}

/**
 * mkdir -p `dir` below the hierarchy's mount point, one level at a time (Node's recursive mkdir
 * reports a read-only mount as ENOENT). Returns the first directory made (undefined if all
 * existed), for rollBack().
 */
async function mkdirs(mountPoint: string, dir: string): Promise<string | undefined> {
  let first: string | undefined;
  let d = mountPoint;
  for (const seg of path.relative(mountPoint, dir).split(path.sep).filter(Boolean)) {
    d = path.join(d, seg);
    try {
      await mkdir(d);
      first ??= d;
    } catch (err) {
      if (errnoOf(err) !== 'EEXIST') throw err;
    }
  }
  return first;
}

/** Remove what mkdirs() made, so a refused parent leaves nothing behind. */
async function rollBack(made: Array<[string, string | undefined]>): Promise<void> {
  for (const [dir, first] of made) {
    if (first === undefined) continue;
    for (let d = dir; d.length >= first.length; d = path.dirname(d)) await rmdir(d).catch(() => {});
  }
}

async function makeLayout(parent: string, instance: string): Promise<Layout> {
  if (parent !== 'auto' && !safeParent(parent)) throw new Error(`cgroup parent ${JSON.stringify(parent)} is not 'auto' or an absolute cgroup path of plain names`);
  if (!SEGMENT.test(instance) || instance === '.' || instance === '..') throw new Error(`instance ${JSON.stringify(instance)} is not a plain name`);
  const { hierarchies, own } = await readMounts();
  const unified = hierarchies.find((h) => h.v2);
  const byController = (c: string) => hierarchies.find((h) => !h.v2 && h.controllers.includes(c));

  const v2Controllers = unified === undefined ? [] : await controllersOf(unified.mountPoint, 'cgroup.controllers').catch((): string[] => []);
  if (unified !== undefined && V2_CONTROLLERS.every((c) => v2Controllers.includes(c))) {
    return await layoutV2(unified, parent, instance, own.get('unified'));
  }
  const missing = ['memory', 'cpu', 'pids'].filter((c) => byController(c) === undefined);
  if (missing.length > 0) throw new Error(`no cgroup2 with memory, cpu, pids and no v1 ${missing.join(', ')} hierarchy`);
  if (byController('freezer') === undefined && unified === undefined) throw new Error('neither a v1 freezer nor a cgroup2 hierarchy to kill a whole service with');

  // v1/hybrid: the same cgroup path in each hierarchy, plus the unified mirror for cgroup.kill and cgroup.events
  const base = parent === 'auto' ? `/nodee/${instance}` : parent;
  const bases: Record<string, string> = {};
  const made: Array<[string, string | undefined]> = [];
  try {
    for (const key of ['memory', 'cpu', 'cpuacct', 'pids', 'freezer', 'unified']) {
      const h = key === 'unified' ? unified : byController(key);
      if (h === undefined) continue;
      const dir = dirOf(h, base);
      if (dir === undefined) throw new Error(`${h.mountPoint} does not show cgroup ${base}`);
      if (!Object.values(bases).includes(dir)) made.push([dir, await mkdirs(h.mountPoint, dir).catch((e) => { throw new Error(`cannot make ${dir}: ${messageOf(e)}`); })]);
      bases[key] = dir;
    }
  } catch (err) {
    await rollBack(made);
    throw err;
  }
  return { containment: 'cgroup1', bases };
}

/**
 * cgroup2. `auto`: the daemon's own cgroup when systemd delegated it (Delegate=yes), with the
 * daemon moved into the leaf `<own>/daemon` and services under `<own>/services` (cgroup2's "no
 * internal processes" rule: a cgroup that hands controllers to children holds no processes);
 * else `/nodee/<instance>`.
 */
async function layoutV2(h: Hierarchy, parent: string, instance: string, own: string | undefined): Promise<Layout> {
  let base: string;
  // already in our leaf: a daemon restarted in place, or systemd's DelegateSubgroup=daemon
  if (own !== undefined && own.endsWith('/daemon')) own = path.posix.dirname(own);
  if (parent !== 'auto') base = parent;
  else if (own !== undefined && (await delegated(h, own))) {
    const ownDir = dirOf(h, own)!;
    const leaf = path.join(ownDir, 'daemon');
    await mkdirs(h.mountPoint, leaf);
    // every process of our own cgroup (the daemon, a helper it started) moves to the leaf
    for (const pid of (await readFile(path.join(ownDir, 'cgroup.procs'), 'utf8')).split('\n').filter(Boolean)) {
      await writeFile(path.join(leaf, 'cgroup.procs'), pid).catch(() => {}); // one that exited meanwhile
    }
    base = path.posix.join(own, 'services');
  } else base = `/nodee/${instance}`;
  const dir = dirOf(h, base);
  if (dir === undefined) throw new Error(`${h.mountPoint} does not show cgroup ${base}`);
  const first = await mkdirs(h.mountPoint, dir).catch((e) => { throw new Error(`cannot make ${dir}: ${messageOf(e)}`); });
  try {
    // hand memory, cpu and pids down from the mount to the base, where not handed down already
    const rel = path.relative(h.mountPoint, dir).split(path.sep).filter(Boolean);
    for (let i = 0, d = h.mountPoint; i <= rel.length; d = path.join(d, rel[i] ?? ''), i++) {
      const on = await controllersOf(d, 'cgroup.subtree_control');
      const want = V2_CONTROLLERS.filter((c) => !on.includes(c));
      if (want.length > 0) await writeFile(path.join(d, 'cgroup.subtree_control'), want.map((c) => `+${c}`).join(' '));
    }
  } catch (err) {
    await rollBack([[dir, first]]);
    throw new Error(`cannot enable ${V2_CONTROLLERS.join(', ')} down to ${dir}: ${messageOf(err)}`);
  }
  return { containment: 'cgroup2', bases: { unified: dir } };
}

/**
 * Whether systemd delegated our own cgroup to us. systemd marks a Delegate=yes unit's cgroup with
 * the xattr trusted.delegate, which Node cannot read without a native module; what it can see is
 * that we are in a unit of our own (not the root) and that the controllers we need reach it.
 * Without Delegate=yes that is not enough for systemd to leave our sub-cgroups alone: the unit
 * file must say Delegate=yes (docs/cgroups.md).
 */
async function delegated(h: Hierarchy, own: string): Promise<boolean> {
  if (own === '/' || !/\.(service|scope)$/.test(own)) return false;
  const dir = dirOf(h, own);
  if (dir === undefined) return false;
  const available = await controllersOf(dir, 'cgroup.controllers').catch((): string[] => []);
  return V2_CONTROLLERS.every((c) => available.includes(c));
}
