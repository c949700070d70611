import { readFile } from 'node:fs/promises';

/** A mounted cgroup hierarchy: where it is, and what part of the cgroup tree it shows. */
export interface Hierarchy {
  /** 'unified' for cgroup2; for v1 the controllers it carries, e.g. ['cpu', 'cpuacct']. */
  controllers: string[];
  v2: boolean;
  mountPoint: string;
  /** The cgroup path the mount shows at its mount point ('/' unless a container bind-mounts a subtree). */
  root: string;
  /** The super block's options (`rw,nsdelegate,memory_recursiveprot`...): a remount must repeat them. */
  superOptions: string[];
}

/** Undo the octal escapes (\040 for a space...) of /proc/self/mountinfo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The v1 controllers nodee uses. */
const V1_CONTROLLERS = new Set(['memory', 'cpu', 'cpuacct', 'pids', 'freezer']);

/**
 * The cgroup hierarchies of /proc/self/mountinfo. Where one hierarchy is mounted several times
 * (a bind mount of a subtree, a container's view) the first mount of the hierarchy's root wins,
 * else the first one seen: cgroup paths are then resolved against that mount's root.
 */
export function parseMountinfo(text: string): Hierarchy[] {
  const found = new Map<string, Hierarchy>();
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const root = unescape(left[3] ?? '');
    const mountPoint = unescape(left[4] ?? '');
    let h: Hierarchy;
    if (fstype === 'cgroup2') h = { controllers: ['unified'], v2: true, mountPoint, root, superOptions: superOpts.split(',') };
    else if (fstype === 'cgroup') {
      const controllers = superOpts.split(',').filter((o) => V1_CONTROLLERS.has(o));
      if (controllers.length === 0) continue; // name=systemd, devices, blkio...: not ours
      h = { controllers, v2: false, mountPoint, root, superOptions: superOpts.split(',') };
    } else continue;
    const key = h.controllers.join(',');
    const seen = found.get(key);
    if (seen === undefined || (seen.root !== '/' && root === '/')) found.set(key, h);
  }
  return [...found.values()];
}

/** /proc/self/cgroup: hierarchy key ('unified' for the `0::` line, else its v1 controllers joined by ',') → cgroup path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m === null) continue;
    const [, id, ctl = '', p = ''] = m;
    if (id === '0' && ctl === '') out.set('unified', p);
    else {
      const controllers = ctl.split(',').filter((c) => V1_CONTROLLERS.has(c));
      if (controllers.length > 0) out.set(controllers.join(','), p);
    }
  }
  return out;
}

export async function readMounts(): Promise<{ hierarchies: Hierarchy[]; own: Map<string, string> }> {
  const [mi, cg] = await Promise.all([readFile('/proc/self/mountinfo', 'utf8'), readFile('/proc/self/cgroup', 'utf8')]);
  return { hierarchies: parseMountinfo(mi), own: parseProcCgroup(cg) };
}
