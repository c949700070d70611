import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_TIMEOUTS, parseArtifactId, type FetchTimeouts } from '../artifacts/index.js';
import type { Config } from '../config/index.js';
import { ALL_STATES, type Containment, type NodeResources, type Resources, type Service, type ServiceState } from '../contract/index.js';
import type { Cgroups } from '../cgroups/index.js';
import { NodeeError, errnoOf, messageOf } from '../lib/errors.js';
import { JsonStore } from '../lib/json-store.js';
import type { Logger } from '../lib/log.js';
import type { Registry } from '../lib/metrics.js';
import { parseCoordinate, servicePathsOf } from './coordinate.js';
import { isRoot } from '../lib/proc.js';
import { addUp, admit } from './admission.js';
import { ServiceEvents } from './events.js';
import { LogRotator } from './log-rotator.js';
import { readManifest, withDefaults } from './manifest.js';
import { serviceMetrics } from './metrics.js';
import { PortPool } from './ports.js';
import { RecordDir } from './record-store.js';
import { ServiceRunner, type RunnerDeps } from './runner.js';
import { parseSpec, type ParsedSpec } from './spec.js';
import { freshRecord, type ServiceRecord } from './state.js';
import { purgeRuntimeDir, removeFreshDir } from './steps/runtime-dir.js';
import { createBatch } from './batch.js';
import { SoftwareNamespace } from './steps/isolation.js';
import { UsageSampler } from './usage.js';
import { HealthChecks } from '../health/index.js';
import { NotifyHub } from '../notify/index.js';
import { requiresProblem } from './requires.js';
import { upgradeService } from './upgrade.js';


export interface SupervisorOptions {
  prefix: string;
  ports: Config['ports'];
  logs: Config['logs'];
  /** Bounds a `restore` archive like an artifact. */
  limits: Config['limits'];
  /** `files[].url` and `restore.url` wait like artifact downloads (config `downloads`). */
  downloadTimeouts?: FetchTimeouts;
  log: Logger;
  metrics: Registry;
  artifacts: { installedPath(id: string): string | undefined };
  /** How often processes adopted from an earlier daemon are checked (they send no exit event). */
  adoptPollMs?: number;
  /** Root services see `<prefix>/software` read-only (private mount namespace). Default: on when root. */
  isolateSoftware?: boolean;
  /** What this node offers to reservations (config `capacity`, measured where not given). */
  capacity: NodeResources;
  /** The host's cgroups (Cgroups.detect); absent: containment 'none', process groups only. */
  cgroups?: Cgroups;
}

/**
 * Every service on this node: creates them from specs, admits them against the node's
 * capacity, answers the API, persists their records under `<prefix>/state/services/`,
 * re-adopts live processes after a daemon restart, and drains the node. `events` carries
 * every committed change of every service (typed, see events.ts) and the node's drain state.
 */
export class Supervisor {
  readonly events = new ServiceEvents();
  private readonly runners = new Map<string, ServiceRunner>();
  /** Runners by coordinate, rebuilt after a service is added or removed. */
  private order: ServiceRunner[] | undefined;
  /** Services being created, with what they reserve: a second POST for one gets 409 before any await. */
  private readonly creating = new Map<string, Resources>();
  private readonly records: RecordDir;
  private readonly nodeStore: JsonStore<{ draining: boolean }>;
  private readonly pool: PortPool;
  private readonly rotator: LogRotator;
  private readonly usageSampler: UsageSampler;
  /** One check scheduler and one notify relay for every service of the node. */
  private readonly health: HealthChecks;
  private readonly notify: NotifyHub;
  private readonly adopted;
  private readonly log: Logger;
  private namespace: SoftwareNamespace | undefined;
  private runnerDeps: RunnerDeps | undefined;
  private poller: NodeJS.Timeout | undefined;
  private nodeWrite: Promise<void> = Promise.resolve();
  private draining = false;
  private closed = false;

  constructor(private readonly o: SupervisorOptions) {
    this.log = o.log;
    const state = path.join(o.prefix, 'state');
    this.records = new RecordDir(path.join(state, 'services'), o.log);
    this.nodeStore = new JsonStore(path.join(state, 'node-drain.json'), 1);
    this.pool = new PortPool(o.ports);
    this.rotator = new LogRotator({ maxBytes: o.logs.maxBytes, keep: o.logs.keep, log: o.log });
    this.usageSampler = new UsageSampler(() => this.runners.values());
    this.health = new HealthChecks({ onError: (err) => this.log.error({ err }, 'a health check result could not be handled') });
    this.notify = new NotifyHub({ log: o.log.child({ component: 'notify' }) });
    this.adopted = serviceMetrics(o.metrics, this.events, {
      counts: () => this.counts(),
      usage: async () => {
        await this.usageSampler.fresh({ wait: true });
        return [...this.runners.values()].map((r) => [r.coordinate, r.usage] as const);
      },
      ready: () => [...this.runners.values()].map((r) => [r.coordinate, r.ready] as const),
    }).adopted;
    this.events.on('service', (e) => {
      if (e.from !== e.to) this.log.debug({ coordinate: e.coordinate, from: e.from, to: e.to }, 'service state');
      if (e.changed.includes('ready') && e.service.ready) this.wakeDependents(e.coordinate);
    });
  }

  get nodeState(): 'active' | 'draining' {
    return this.draining ? 'draining' : 'active';
  }

  /** Loads the records, re-adopts live processes, restarts by policy those that died meanwhile. */
  async init(): Promise<void> {
    this.namespace = await this.openNamespace();
    // root's, 0755: the notify sockets' directories go in it (never in a runtime dir a service user owns)
    mkdirSync(path.join(this.o.prefix, 'run'), { recursive: true, mode: 0o755 });
    this.draining = (await this.nodeStore.read())?.draining ?? false;
    const records = await this.records.loadAll();
    let adopted = 0;
    for (const record of records) {
      const runner = this.newRunner(record);
      this.track(runner);
      if (await runner.resume()) adopted++;
    }
    this.adopted.inc(adopted);
    // a required service adopted (ready from its record) announced nothing: look once now
    for (const r of this.runners.values()) r.wake();
    this.poller = setInterval(() => {
      for (const r of this.runners.values()) if (r.isAdopted) r.pollAdopted();
    }, this.o.adoptPollMs ?? 1000).unref();
    this.log.info({ services: records.length, adopted, nodeState: this.nodeState }, 'supervisor ready');
  }

  async create(input: unknown): Promise<Service> {
    return this.createParsed(parseSpec(input));
  }

  /**
   * Many services in one request (`{"services": [spec, ...]}`), as a deployment script
   * would POST them one by one, minus the round trips. Every spec is validated first, so a
   * bad one starts nothing (400 naming `services[i]`). Then they are created a few at a
   * time; after the first failure no new one is begun. The services created are kept (they
   * run) and returned with the failure, so the caller knows exactly what exists.
   */
  createMany(inputs: unknown): Promise<{ services: Service[]; failure?: NodeeError }> {
    return createBatch(inputs, (spec, peers) => this.createParsed(spec, peers));
  }

  /** `peers`: the other specs of the same batch, which a spec may require before they exist. */
  private async createParsed(parsed: ParsedSpec, peers?: ReadonlyMap<string, readonly string[]>): Promise<Service> {
    if (this.draining) throw new NodeeError('NODE_DRAINING', 'the node is draining: no new service may start');
    const coordinate = parsed.coordinate;
    if (this.runners.has(coordinate) || this.creating.has(coordinate)) {
      throw new NodeeError('SERVICE_EXISTS', `service ${coordinate} already exists`);
    }
    const problem = requiresProblem(coordinate, parsed.requires, (c) => this.runners.get(c)?.requires ?? peers?.get(c));
    if (problem) throw new NodeeError('BAD_REQUEST', `requires: ${problem}`);
    // checked and reserved in one synchronous step: concurrent creates cannot both take the last room
    this.admit(coordinate, parsed.resources);
    this.creating.set(coordinate, parsed.resources);
    let runner: ServiceRunner | undefined;
    const paths = servicePathsOf(this.o.prefix, coordinate);
    const freshDir = !existsSync(paths.runtimeDir);
    try {
      const softwareDir = this.o.artifacts.installedPath(parsed.artifact);
      if (!softwareDir) throw new NodeeError('ARTIFACT_NOT_INSTALLED', `artifact ${parsed.artifact} is not installed`);
      const spec = withDefaults(parsed, await readManifest(softwareDir));
      runner = this.newRunner(freshRecord(spec, new Date()));
      // validated, ports taken, the record on disk before any process exists: a 201 is never for a service a restart forgets
      await runner.create();
      this.track(runner);
      this.creating.delete(coordinate);
      const service = await runner.start();
      this.log.info({ coordinate, artifact: spec.artifact, pid: service.pid }, 'service created');
      return service;
    } catch (err) {
      // a service whose first start cannot even be prepared is not created: the client retries the POST
      if (runner) {
        if (this.runners.get(coordinate) === runner) this.untrack(coordinate);
        await runner.remove(async () => undefined, () => undefined).catch(() => undefined);
      }
      if (freshDir) await removeFreshDir(paths, this.o.prefix);
      throw err;
    } finally {
      this.creating.delete(coordinate);
    }
  }

  /** Wakes the waiting services that require `coordinate` (it just became ready). */
  private wakeDependents(coordinate: string): void {
    for (const r of this.runners.values()) if (r.state === 'waiting' && r.requires.includes(coordinate)) r.wake();
  }

  /** Of `requires`, the coordinates not ready now: unknown here, not running, or not ready. */
  private unready(requires: readonly string[]): string[] {
    return requires.filter((c) => this.runners.get(c)?.ready !== true);
  }

  /** Every service, with the usage last measured (see measure()). */
  list(o: { reveal?: boolean } = {}): Service[] {
    return this.sorted().map((r) => r.view(o.reveal));
  }

  /** `{"services":[...]}` as the API sends it, built from each service's cached JSON (env masked). */
  listJson(): string {
    return `{"services":[${this.sorted()
      .map((r) => r.viewJson())
      .join(',')}]}`;
  }

  /**
   * Brings usage up to date before an answer shows it: one service's cgroup read now, or all
   * of them from one shared sample refreshed in the background (see usage.ts).
   */
  async measure(coordinate?: string): Promise<void> {
    if (coordinate === undefined) await this.usageSampler.fresh({ wait: false });
    else this.runner(coordinate).measure();
  }

  private sorted(): ServiceRunner[] {
    return (this.order ??= [...this.runners.values()].sort((a, b) => (a.coordinate < b.coordinate ? -1 : 1)));
  }

  /** One service; `reveal` shows its env values (the API asks with `?reveal=env`). */
  get(coordinate: string, o: { reveal?: boolean } = {}): Service {
    return this.runner(coordinate).view(o.reveal);
  }

  async start(coordinate: string): Promise<Service> {
    const runner = this.runner(coordinate);
    if (this.draining) throw new NodeeError('NODE_DRAINING', 'the node is draining: no service may start');
    if (!runner.reserving) this.admit(coordinate, runner.resources);
    return runner.start();
  }

  async stop(coordinate: string): Promise<Service> {
    return this.runner(coordinate).stop();
  }

  async restart(coordinate: string): Promise<Service> {
    const runner = this.runner(coordinate);
    if (this.draining) throw new NodeeError('NODE_DRAINING', 'the node is draining: no service may start');
    if (!runner.reserving) this.admit(coordinate, runner.resources);
    return runner.restart();
  }

  /**
   * POST /upgrade: the same service (runtime dir, ports, everything else of its spec) on another
   * installed artifact, rolled back if it is not ready within the timeout (upgrade.ts).
   */
  async upgrade(coordinate: string, o: { artifact: string; timeoutSeconds: number }): Promise<Service> {
    const runner = this.runner(coordinate);
    const artifact = parseArtifactId(o.artifact).id;
    if (!this.o.artifacts.installedPath(artifact)) throw new NodeeError('ARTIFACT_NOT_INSTALLED', `artifact ${artifact} is not installed`);
    if (this.draining) throw new NodeeError('NODE_DRAINING', 'the node is draining: no service may start');
    if (!runner.reserving) this.admit(coordinate, runner.resources);
    return upgradeService(runner, { ...runner.spec, artifact }, o.timeoutSeconds * 1000, { events: this.events, log: this.log });
  }

  drain(coordinate: string): Promise<Service> {
    return this.runner(coordinate).drain();
  }

  async remove(coordinate: string, o: { purge: boolean }): Promise<void> {
    const runner = this.runner(coordinate);
    // purge first: a purge that fails leaves the service, so the DELETE can be repeated
    const purge = async () => {
      if (!o.purge) return;
      await purgeRuntimeDir(runner.paths).catch((err: unknown) => {
        throw new NodeeError('PURGE_FAILED', `cannot delete the runtime dir of ${coordinate} (${errnoOf(err) ?? messageOf(err)}); the service is kept`, { cause: err });
      });
    };
    await runner.remove(purge, () => this.untrack(coordinate));
    this.log.info({ coordinate, purge: o.purge }, 'service removed');
  }

  /**
   * Node drain: refuse new starts and drain every service. Persisted across daemon restarts;
   * resolves once the node's state and every service's record are on disk.
   */
  async drainNode(): Promise<void> {
    this.draining = true;
    this.log.info('node draining');
    this.events.emit('node', { state: 'draining' });
    // every write is awaited, failed or not: a rejection left unawaited would end the daemon
    const writes = await Promise.allSettled([this.persistNodeState(), ...[...this.runners.values()].map((r) => r.drain())]);
    const failed = writes.find((w) => w.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Accepts starts again; drained services stay stopped until started. */
  async undrainNode(): Promise<void> {
    this.draining = false;
    this.log.info('node active');
    this.events.emit('node', { state: 'active' });
    await this.persistNodeState();
  }

  get containment(): Containment {
    return this.o.cgroups?.containment ?? 'none';
  }

  /** The node's capacity and what services not at rest reserve of it (NodeStatus.resources). */
  resources(): { capacity: NodeResources; reserved: NodeResources } {
    return { capacity: { ...this.o.capacity }, reserved: this.reserved() };
  }

  /**
   * What services that run or are about to reserve: not stopped/exited/failed, a start asked
   * for, or being created. `except` leaves one service out (its own start is being admitted).
   */
  private reserved(): NodeResources {
    const held: Resources[] = [...this.creating.values()];
    for (const r of this.runners.values()) if (r.reserving) held.push(r.resources);
    return addUp(held);
  }

  private admit(coordinate: string, asked: Resources): void {
    admit(coordinate, asked, this.o.capacity, this.reserved());
  }

  /** Any service (whatever its state) that may start from this artifact. */
  usesArtifact(id: string): boolean {
    for (const r of this.runners.values()) if (r.artifact === id) return true;
    return false;
  }

  counts(): Record<ServiceState, number> {
    const out = Object.fromEntries(ALL_STATES.map((s) => [s, 0])) as Record<ServiceState, number>;
    for (const r of this.runners.values()) out[r.state] += 1;
    return out;
  }

  /** The log dir of a service (root's, outside its runtime dir), for the logs route. */
  logDir(coordinate: string): string {
    return this.runner(coordinate).paths.logDir;
  }

  /** The daemon is exiting: persist everything and leave every service running. Safe twice. */
  async detach(): Promise<void> {
    this.closed = true;
    this.events.removeAllListeners();
    if (this.poller) clearInterval(this.poller);
    this.rotator.close();
    this.health.close();
    this.namespace?.close();
    await Promise.all([...this.runners.values()].map((r) => r.detach()));
    // the services keep their NOTIFY_SOCKET path: the next daemon binds it again when it adopts them
    await this.notify.close().catch((err: unknown) => this.log.warn({ err }, 'notify relay did not end cleanly'));
    await this.nodeWrite;
  }

  /** STATE_WRITE_FAILED when it cannot be written (the store goes on retrying). */
  private persistNodeState(): Promise<void> {
    const write = this.nodeStore.write({ draining: this.draining });
    this.nodeWrite = write.catch((err: unknown) => this.log.error({ err }, 'cannot persist the node drain state'));
    return write;
  }

  private runner(coordinate: string): ServiceRunner {
    parseCoordinate(coordinate);
    const runner = this.runners.get(coordinate);
    if (!runner) throw new NodeeError('SERVICE_NOT_FOUND', `no service ${coordinate}`);
    return runner;
  }

  /**
   * The map and the sorted listing change together: a listing built while a create awaited its
   * first write (the ZooKeeper record is built on the create's own event) must not be kept.
   */
  private track(runner: ServiceRunner): void {
    this.runners.set(runner.coordinate, runner);
    this.order = undefined;
  }

  private untrack(coordinate: string): void {
    this.runners.delete(coordinate);
    this.order = undefined;
  }

  private newRunner(record: ServiceRecord): ServiceRunner {
    const coordinate = record.spec.coordinate;
    // what every runner shares, made once (after init opened the namespace), not once per service
    this.runnerDeps ??= {
      log: this.log,
      artifacts: this.o.artifacts,
      pool: this.pool,
      rotator: this.rotator,
      limits: this.o.limits,
      downloadTimeouts: this.o.downloadTimeouts ?? DEFAULT_TIMEOUTS,
      cgroups: this.o.cgroups?.containment === 'none' ? undefined : this.o.cgroups,
      namespace: this.namespace,
      events: this.events,
      health: this.health,
      notify: { hub: this.notify, runDir: path.join(this.o.prefix, 'run') },
      unready: (requires) => this.unready(requires),
    };
    return new ServiceRunner(record, servicePathsOf(this.o.prefix, coordinate), this.records.fileFor(coordinate), this.runnerDeps);
  }

  /** Root services see the software tree read-only; a non-root daemon relies on mode bits. */
  private async openNamespace(): Promise<SoftwareNamespace | undefined> {
    if (this.o.isolateSoftware === false || !isRoot()) return undefined;
    const softwareRoot = path.join(this.o.prefix, 'software');
    mkdirSync(softwareRoot, { recursive: true });
    const ns = await SoftwareNamespace.open(realpathSync(softwareRoot), this.log);
    if (ns) this.log.info({ softwareRoot }, 'root services see the software tree read-only (mount namespace)');
    return ns;
  }
}
