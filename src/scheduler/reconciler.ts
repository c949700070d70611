import path from 'node:path';
import type { Assignment } from '../contract/index.js';
import { messageOf } from '../lib/errors.js';
import { JsonStore } from '../lib/json-store.js';
import type { Logger } from '../lib/log.js';
import { SingleFlight } from '../lib/single-flight.js';
import { zkCode, type ZkClient } from '../registry/index.js';
import { decodeZnode, parseAssignment } from './job.js';

/** What the reconciler asks of its node: the daemon implements it over its store and supervisor. */
export interface NodeOps {
  /** The service of this coordinate, or undefined when there is none. */
  service(coordinate: string): { artifact: string; state: string } | undefined;
  /** Installs the artifact from the configured repositories unless it is installed. */
  install(artifact: string): Promise<void>;
  /** Creates and starts the service (the API's POST /v1/services). */
  create(spec: Record<string, unknown>): Promise<void>;
  /** Runs it on another artifact, rolled back if not ready in time (POST /upgrade). */
  upgrade(coordinate: string, artifact: string): Promise<void>;
  /** Drains it (its spec's drain, else a stop), waits for rest, and removes it. */
  retire(coordinate: string): Promise<void>;
}

export interface ReconcilerOptions {
  client: ZkClient;
  /** `<cell>/assignments/<instance>`. */
  path: string;
  /** `<cell>/jobs`: an assignment whose job is not there is never acted on. */
  jobsPath: string;
  ops: NodeOps;
  /** `<prefix>/state`: what this node runs for the scheduler is kept there across restarts. */
  stateDir: string;
  /** config scheduler.allowRoot: run scheduled specs without `user` (as root). */
  allowRoot: boolean;
  log: Logger;
  /** How soon a failed step is tried again. */
  retryMs?: number;
  /** A full pass this often even when no watch fired (default 10 s): a lost watch costs seconds, not forever. */
  resyncMs?: number;
}

/** What this node runs for the scheduler: coordinate → the assignment it was made from. */
type Managed = Record<string, { job: string; jobVersion: number; artifact: string; /** the spec less its artifact, canonical JSON */ spec: string }>;

/**
 * The node side of fleet scheduling (Helix's participant): watches `assignments/<instance>`
 * and converges the node to it. Level-triggered: every pass compares everything assigned
 * with everything it runs for the scheduler, so a missed watch or a restart changes nothing.
 * An assignment new here is installed, created and started; a new job version that only
 * changes the artifact is an upgrade, any other change a replacement; an assignment gone is
 * drained and removed. What it runs for the scheduler is kept on disk, so a node that comes
 * back after its assignments were moved away stops those services. What it will not run (a
 * root spec without `scheduler.allowRoot`, a spec this node refuses) is `refused`, published
 * in the node record for the leader to show as the instance's pending reason.
 */
export class Reconciler {
  private readonly store: JsonStore<Managed>;
  private managed: Managed = {};
  private readonly refusedNow = new Map<string, string>();
  private readonly flight: SingleFlight;
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private closed = false;
  /** Called when `refused` changed (the daemon writes the node record again). */
  onRefusedChange: () => void = () => undefined;

  constructor(private readonly o: ReconcilerOptions) {
    this.store = new JsonStore(path.join(o.stateDir, 'scheduled.json'), 1);
    this.flight = new SingleFlight(
      () => this.pass(),
      () => !this.closed,
      (err) => {
        this.o.log.warn({ err: messageOf(err) }, 'assignments not read; trying again');
        this.later();
      },
    );
  }

  async start(): Promise<void> {
    this.managed = (await this.store.read().catch((err: unknown) => {
      this.o.log.error({ err }, 'scheduled.json unreadable: starting with no scheduled services');
      return undefined;
    })) ?? {};
    // a new session lost every watch of the old one: look again
    this.o.client.on('session', () => this.poke());
    this.resync = setInterval(() => this.poke(), this.o.resyncMs ?? 10_000);
    this.resync.unref();
    this.o.client.on('state', (state: string) => {
      if (state === 'connected') this.poke();
    });
    this.poke();
  }

  /** Coordinates assigned here that this node will not run, and why. */
  refused(): Record<string, string> {
    return Object.fromEntries([...this.refusedNow].sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.resync);
  }

  /** Runs a pass now, or right after the one under way (passes never overlap). */
  poke(): void {
    this.flight.kick();
  }

  private later(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.poke(), this.o.retryMs ?? 2000);
    this.timer.unref();
  }

  private readonly onEvent = (): void => this.poke();

  /** Reads every assignment of this node (watching them) and converges to them. */
  private async pass(): Promise<void> {
    if (this.o.client.state !== 'connected') return this.later();
    const assigned = await this.read();
    const refused = new Map<string, string>();
    let failed = false;
    for (const [coordinate, a] of assigned) {
      try {
        const why = await this.converge(coordinate, a);
        if (why) refused.set(coordinate, why);
      } catch (err) {
        failed = true;
        refused.set(coordinate, messageOf(err));
        this.o.log.warn({ coordinate, err: messageOf(err) }, 'scheduled service not converged; trying again');
      }
    }
    for (const coordinate of Object.keys(this.managed)) {
      if (assigned.has(coordinate)) continue;
      try {
        if (this.o.ops.service(coordinate)) await this.o.ops.retire(coordinate);
        delete this.managed[coordinate];
        await this.store.write(this.managed);
        this.o.log.info({ coordinate }, 'assignment gone: service drained and removed');
      } catch (err) {
        failed = true;
        this.o.log.warn({ coordinate, err: messageOf(err) }, 'unassigned service not removed; trying again');
      }
    }
    const changed = JSON.stringify([...refused]) !== JSON.stringify([...this.refusedNow]);
    this.refusedNow.clear();
    for (const [c, why] of refused) this.refusedNow.set(c, why);
    if (changed) this.onRefusedChange();
    if (failed) this.later();
  }

  /** Every assignment of this node, garbage ones left out (and said so). */
  private async read(): Promise<Map<string, Assignment | string>> {
    const out = new Map<string, Assignment | string>();
    const exists = await this.o.client.exists(this.o.path, this.onEvent);
    if (!exists) return out;
    const children = await this.o.client.getChildren(this.o.path, this.onEvent).catch((err: unknown) => {
      if (zkCode(err) === 'NO_NODE') return [];
      throw err;
    });
    for (const name of children.sort()) {
      try {
        const { data } = await this.o.client.getData(`${this.o.path}/${name}`, this.onEvent);
        const decoded = decodeZnode(data, parseAssignment);
        if ('error' in decoded) out.set(name, `not an assignment: ${decoded.error}`);
        else if (decoded.value.spec.coordinate !== name) out.set(name, `its spec is for ${decoded.value.spec.coordinate}`);
        else out.set(name, decoded.value);
      } catch (err) {
        if (zkCode(err) !== 'NO_NODE') throw err;
      }
    }
    return out;
  }

  /** Brings one assigned coordinate to its assignment; resolves why it is refused, if it is. */
  private async converge(coordinate: string, a: Assignment | string): Promise<string | undefined> {
    if (typeof a === 'string') return a;
    const artifact = String(a.spec.artifact);
    if (a.spec.user === undefined && !this.o.allowRoot) return 'refused: the spec has no user (it would run as root) and this node\'s scheduler.allowRoot is false';
    const mine = this.managed[coordinate];
    const existing = this.o.ops.service(coordinate);
    if (existing && !mine) return `refused: a service ${coordinate} exists on this node and was not made by the scheduler`;
    if (mine && existing && mine.jobVersion === a.jobVersion) return undefined;
    if (mine && existing && mine.artifact === artifact && mine.spec === specKey(a.spec)) {
      // a new job version that changed nothing of this instance (a scale, a constraint): keep it running
      this.managed[coordinate] = { ...mine, jobVersion: a.jobVersion };
      await this.store.write(this.managed);
      return undefined;
    }
    // only the leader writes assignments, but a node checks what it can: a job that does not exist ordered nothing
    if (!(await this.o.client.exists(`${this.o.jobsPath}/${a.job}`))) return `refused: its job ${a.job} does not exist`;
    await this.o.ops.install(artifact);
    if (mine && existing) {
      // a new job version: the artifact alone changed → upgrade in place; anything else → replace
      if (mine.spec === specKey(a.spec)) await this.o.ops.upgrade(coordinate, artifact);
      else {
        await this.o.ops.retire(coordinate);
        await this.o.ops.create(a.spec);
      }
    } else {
      await this.o.ops.create(a.spec);
    }
    this.managed[coordinate] = { job: a.job, jobVersion: a.jobVersion, artifact, spec: specKey(a.spec) };
    await this.store.write(this.managed);
    this.o.log.info({ coordinate, job: a.job, jobVersion: a.jobVersion, artifact }, 'scheduled service converged');
    return undefined;
  }
}

/** The spec without its artifact, as canonical JSON (keys sorted at every depth): equal means an upgrade is enough. */
function specKey(spec: Record<string, unknown>): string {
  const { artifact: _artifact, ...rest } = spec;
  return JSON.stringify(canonical(rest));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
}
