/**
 * Resources as the ZooKeeper record, the CLI and the web console show them. One set of
 * functions for all three, so `nodee status`, `nodee cluster ls` and the console never read
 * differently. The console runs them in the browser: console-script.ts splices in their
 * source (`String(fn)`), so each is a plain function declaration that uses nothing but the
 * others listed in RESOURCE_TEXT_FUNCTIONS and the language itself.
 */

// The shapes of the contract's Resources, NodeResources and ExitInfo, spelled out here because
// lib sits below src/contract (test/foundation/layers.test.mjs); the contract's types fit them.
interface Resources {
  memoryMB?: number;
  cpu?: number;
  pids?: number;
  diskMB?: number;
}
type NodeResources = Required<Omit<Resources, 'pids'>>;
interface ExitInfo {
  code: number | null;
  signal: string | null;
  oom?: boolean;
  reason?: string;
}

/**
 * The four known resource figures of a ServiceSpec (Service.spec is untyped JSON; a spec
 * written by nodee 0.1 has none): anything else, or a key that is not a finite number, is left
 * out, so nothing unvalidated reaches the ZooKeeper record.
 */
export function specResources(spec: Record<string, unknown>): Resources {
  const given = spec.resources;
  const out: Resources = {};
  if (given === null || typeof given !== 'object') return out;
  for (const key of ['memoryMB', 'cpu', 'pids', 'diskMB'] as const) {
    const v = (given as Record<string, unknown>)[key];
    if (typeof v === 'number' && Number.isFinite(v)) out[key] = v;
  }
  return out;
}

/** A figure as people read it: at most two decimals, none trailing (a sum of 0.1 and 0.2 reads 0.3). */
export function figure(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** NodeStatus.resources, reserved/capacity of each: "mem 512/7000 MB cpu 0.5/2 disk 0/50000 MB". */
export function reservedText(r: { capacity: NodeResources; reserved: NodeResources }): string {
  const pair = (k: keyof NodeResources) => figure(r.reserved[k]) + '/' + figure(r.capacity[k]);
  return 'mem ' + pair('memoryMB') + ' MB cpu ' + pair('cpu') + ' disk ' + pair('diskMB') + ' MB';
}

/** Labels as `zone=eu-1a,ssd=true` (kubectl's way), in their order; "-" for none. */
export function labelsText(labels: Record<string, string> | undefined): string {
  const pairs = Object.entries(labels || {}).map(([k, v]) => k + '=' + v);
  return pairs.length ? pairs.join(',') : '-';
}

/** A spec's resources, only those given: "mem 256 MB cpu 0.5 pids 512 disk 1024 MB"; "" for none. */
export function resourcesText(r: Resources): string {
  const parts: string[] = [];
  if (r.memoryMB !== undefined) parts.push('mem ' + figure(r.memoryMB) + ' MB');
  if (r.cpu !== undefined) parts.push('cpu ' + figure(r.cpu));
  if (r.pids !== undefined) parts.push('pids ' + r.pids);
  if (r.diskMB !== undefined) parts.push('disk ' + figure(r.diskMB) + ' MB');
  return parts.join(' ');
}

/** Memory in use against the limit: "12.3/256 MB", "12.3 MB", "-/256 MB" (not known), "-". */
export function memoryText(bytes: number | null, limitMB: number | undefined): string {
  const used = bytes === null ? '-' : (bytes / 1024 / 1024).toFixed(1);
  if (limitMB !== undefined) return used + '/' + figure(limitMB) + ' MB';
  return bytes === null ? '-' : used + ' MB';
}

/** CPU time used, in seconds: "1.25 s", "-" when not known. */
export function cpuText(seconds: number | null): string {
  return seconds === null ? '-' : figure(seconds) + ' s';
}

/** Processes against the limit: "3/512", "3", "-/512", "-". */
export function pidsText(n: number | null, limit: number | undefined): string {
  const now = n === null ? '-' : String(n);
  return limit === undefined ? now : now + '/' + limit;
}

/**
 * lastExit as an operator reads it: the signal, else the code; an exit nobody saw (code and
 * signal both null) is "unknown"; the kernel's OOM killer is named, as a bare SIGKILL says
 * nothing of why, and so is a liveness check or watchdog that had nodee end it.
 */
export function exitText(e: ExitInfo | null): string {
  if (!e) return '-';
  const how = e.signal ? e.signal : e.code !== null && e.code !== undefined ? 'code ' + e.code : 'unknown';
  if (e.oom) return how + ' (OOM)';
  return e.reason ? how + ' (' + e.reason + ')' : how;
}

/** What console-script.ts splices into the page, in an order where each is declared once. */
export const RESOURCE_TEXT_FUNCTIONS: readonly ((...args: never[]) => unknown)[] = [
  specResources,
  figure,
  reservedText,
  labelsText,
  resourcesText,
  memoryText,
  cpuText,
  pidsText,
  exitText,
];
