import { NodeeError, messageOf } from '../lib/errors.js';
import type { FetchTimeouts } from '../artifacts/index.js';
import type { Config } from '../config/index.js';
import type { ExitStatus, Resources, Service, ServiceState } from '../contract/index.js';
import type { Logger } from '../lib/log.js';
import { isSameProcess } from '../lib/proc.js';
import type { LogRotator } from './log-rotator.js';
import type { ServiceMetrics } from './metrics.js';
import { RestartPolicy, describe } from './policy.js';
import type { RecordFile } from './record-store.js';
import { AT_REST, canTransition, type ServiceRecord } from './state.js';
import { resolveCommand } from './steps/command.js';
import { commandLine, serviceEnvironment } from './steps/environment.js';
import { prepareFirstStart } from './steps/prepare.js';
import { ensureRuntimeDir } from './steps/runtime-dir.js';
import { LiveProcess, UNKNOWN_EXIT } from './live-process.js';
import type { ServicePaths } from './coordinate.js';
import type { SoftwareNamespace } from './steps/isolation.js';
import { spawnService } from './steps/spawn.js';
import { stopTree } from './steps/stop.js';
import { resolveUser, type RunAs } from './steps/user.js';

export interface RunnerDeps {
  log: Logger;
  artifacts: { installedPath(id: string): string | undefined };
  limits: Config['limits'];
  downloadTimeouts: FetchTimeouts;
  rotator: LogRotator;
  namespace: SoftwareNamespace | undefined;
  metrics: ServiceMetrics;
  /** Called after every committed change, with the state before it. */
  onChange(runner: ServiceRunner, from: ServiceState): void;
  now?: () => number;
}

/**
 * One service's life. Operator requests (start, stop, restart, remove) and policy
 * restarts run one at a time through `ops`; a process exit is an event handled at once.
 * Every change of the record goes through commit(), which checks the transition,
 * persists and notifies.
 *
 * Prestart steps run before every start and are each safe to repeat: runtime dir, then
 * (once, before the first start) files and restore, then command resolution and spawn.
 */
export class ServiceRunner {
  readonly coordinate: string;
  private live: LiveProcess | undefined;
  private ops: Promise<unknown> = Promise.resolve();
  private backoffTimer: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  /** A drained leader that exited: its group may still hold children to stop. */
  private leftoverGroup: number | undefined;
  /** Removed, or the daemon is exiting: events and timers no longer act on the service. */
  private closed = false;
  private readonly policy: RestartPolicy;
  private user: RunAs | undefined;
  private json: string | undefined;

  constructor(
    private readonly record: ServiceRecord,
    readonly paths: ServicePaths,
    private readonly file: RecordFile,
    private readonly deps: RunnerDeps,
  ) {
    this.coordinate = record.spec.coordinate;
    this.policy = new RestartPolicy(record.spec.restart, deps.now);
  }

  get runtimeDir(): string {
    return this.paths.runtimeDir;
  }

  get state(): ServiceState {
    return this.record.state;
  }

  get artifact(): string {
    return this.record.spec.artifact;
  }

  get resources(): Resources {
    return this.record.spec.resources ?? {};
  }

  get ports(): Record<string, number> {
    return this.record.ports;
  }

  /** view() as JSON, kept until the next change: listing 1,000 services is a join of strings. */
  viewJson(): string {
    return (this.json ??= JSON.stringify(this.view()));
  }

  /**
   * The service as the API shows it. `spec.env` values are secrets (passwords, keys): they
   * are masked unless `reveal` (the API's `?reveal=env`, behind the token) asks for them.
   */
  view(reveal = false): Service {
    const r = this.record;
    const spec = reveal ? r.spec : { ...r.spec, env: maskValues(r.spec.env) };
    return {
      coordinate: this.coordinate,
      artifact: r.spec.artifact,
      state: r.state,
      pid: r.pid,
      startedAt: r.startedAt,
      restarts: r.restarts,
      lastExit: r.lastExit,
      runtimeDir: this.runtimeDir,
      ports: r.ports,
      usage: { memoryBytes: null, cpuSeconds: null, pids: null },
      spec: spec as unknown as Record<string, unknown>,
    };
  }

  /** The spec's user as create just resolved it, so the first launch does not resolve it again. */
  knowUser(user: RunAs): void {
    this.user = user;
  }

  /** Writes the record as it is now and resolves once it is on disk (STATE_WRITE_FAILED if not). */
  persisted(): Promise<void> {
    this.file.save(this.record);
    return this.file.flush();
  }

  // ---- operator requests -------------------------------------------------------------

  start(): Promise<Service> {
    return this.enqueue(async () => {
      this.clearTimers();
      // a start during a drain lets the old process finish stopping, then starts afresh
      if (this.record.state === 'draining') await this.halt();
      this.commit(this.record.state, { desired: 'running' });
      if (this.live) return;
      await this.launchFresh();
    });
  }

  stop(): Promise<Service> {
    return this.enqueue(() => this.halt());
  }

  restart(): Promise<Service> {
    return this.enqueue(async () => {
      await this.halt();
      this.commit(this.record.state, { desired: 'running' });
      await this.launchFresh();
    });
  }

  /** An operator's start: the policy starts counting afresh, and a failed launch is final. */
  private async launchFresh(): Promise<void> {
    this.policy.reset();
    await this.launch().catch((err: unknown) => {
      this.commit('failed', { desired: 'stopped' });
      throw err;
    });
  }

  /**
   * Draining, the drain signal sent, stopped at exit or at the timeout. Resolves once
   * `draining` (or the stop it turned into) is on disk, not when the drain ends.
   */
  async drain(): Promise<Service> {
    const { state } = this.record;
    if (state === 'draining' || state === 'stopping' || this.closed) return this.view();
    this.commit(state, { desired: 'stopped' });
    if (!this.live || state !== 'running') {
      void this.stop().catch((err: unknown) => this.deps.log.error({ err, coordinate: this.coordinate }, 'drain: stop failed'));
    } else {
      this.commit('draining');
      const { signal, timeoutSeconds } = this.record.spec.drain;
      if (signal) this.signalGroup(this.live.pid, signal as NodeJS.Signals);
      this.armDrainTimer(timeoutSeconds * 1000);
    }
    // the answer is the drain as committed; the service may move on while the record is written
    const view = this.view();
    await this.file.flush();
    return view;
  }

  /**
   * Once the service is at rest (409 SERVICE_RUNNING otherwise): runs `purge` (which may
   * fail and then leaves everything as it was), then deletes the record and runs `forget`.
   */
  remove(purge: () => Promise<void>, forget: () => void): Promise<void> {
    return this.enqueue(async () => {
      if (!AT_REST.includes(this.record.state) || this.live) {
        throw new NodeeError('SERVICE_RUNNING', `service ${this.coordinate} is ${this.record.state}; stop it before removing it`);
      }
      await purge();
      this.clearTimers();
      this.closed = true;
      this.deps.rotator.remove(this.paths.logDir);
      await this.file.delete();
      forget();
    }).then(() => undefined);
  }

  // ---- daemon life ---------------------------------------------------------------------

  /**
   * After a daemon restart: adopt the recorded process when it is still the same one
   * (pid and start time), otherwise treat it as an exit nobody saw and apply the policy.
   * Returns true when a live process was adopted.
   */
  resume(orphan?: { pid: number; startTime: number }): boolean {
    const r = this.record;
    if (orphan && r.pid === null && (r.state === 'starting' || r.state === 'running')) {
      // the daemon died between spawning and recording the pid: the process is ours all the same
      this.commit(r.state, { pid: orphan.pid, startTime: orphan.startTime, startedAt: r.startedAt ?? this.nowIso() });
    }
    if (r.pid !== null && r.startTime !== null && isSameProcess(r.pid, r.startTime)) {
      this.attach(LiveProcess.adopted(r.pid, r.startTime));
      this.deps.rotator.add(this.paths.logDir);
      this.deps.log.info({ coordinate: this.coordinate, pid: r.pid }, 'adopted a live service process');
      if (r.state === 'starting') this.commit('running');
      // a drain goes on for a full drain window; a stop that was under way is finished
      if (r.state === 'draining') this.armDrainTimer(r.spec.drain.timeoutSeconds * 1000);
      else if (r.state === 'stopping' || r.desired === 'stopped') void this.stop().catch(() => undefined);
      return true;
    }
    if (r.pid !== null) {
      this.deps.log.warn({ coordinate: this.coordinate, pid: r.pid }, 'service process died while no daemon watched it');
      this.commit(r.state, { pid: null, startTime: null, lastExit: { ...UNKNOWN_EXIT, at: this.nowIso() } });
    }
    switch (r.state) {
      case 'running':
      case 'starting':
        if (r.desired === 'running') this.afterExit(UNKNOWN_EXIT);
        else this.commit('stopped');
        break;
      case 'backoff':
        if (r.desired === 'running') void this.relaunch();
        else this.commit('stopped');
        break;
      case 'stopping':
      case 'draining':
        this.commit('stopped');
        break;
      default:
        break;
    }
    return false;
  }

  /** Starting or running with no pid on record: the daemon may have died right after a spawn. */
  get mayHaveOrphan(): boolean {
    return this.record.pid === null && (this.record.state === 'starting' || this.record.state === 'running');
  }

  /** For adopted processes, which send no exit event: called by the supervisor's poll. */
  pollAdopted(): void {
    if (this.live?.isAdopted) this.live.poll();
  }

  get isAdopted(): boolean {
    return this.live?.isAdopted === true;
  }

  /** The daemon is exiting: keep the process running, stop listening, keep the record. */
  async detach(): Promise<void> {
    this.closed = true;
    this.clearTimers();
    this.live?.detach();
    // the daemon goes on exiting on a full disk: the record keeps what was last written
    await this.file.flush().catch((err: unknown) => this.deps.log.error({ err, coordinate: this.coordinate }, 'service state not saved at exit'));
  }

  // ---- the life cycle ------------------------------------------------------------------

  private async launch(): Promise<void> {
    if (this.live || this.closed) return;
    this.commit('starting', { pid: null, startTime: null });
    const spec = this.record.spec;
    const softwareDir = this.deps.artifacts.installedPath(spec.artifact);
    if (!softwareDir) throw new NodeeError('ARTIFACT_NOT_INSTALLED', `artifact ${spec.artifact} is not installed`);
    if (spec.user && !this.user) this.user = resolveUser(spec.user);
    const env = serviceEnvironment({ spec, runtimeDir: this.runtimeDir, softwareDir, ports: this.record.ports, user: this.user });
    await ensureRuntimeDir(this.paths, this.user, this.deps.log);
    if (!this.record.prepared) {
      const { coordinate, files, restore } = spec;
      const { limits, downloadTimeouts } = this.deps;
      const job = { coordinate, files, restore, softwareDir, runtimeDir: this.runtimeDir, env, limits, downloadTimeouts };
      await prepareFirstStart(job, this.user, this.deps.log);
      this.commit('starting', { prepared: true });
    }
    const argv = commandLine(spec, env);
    argv[0] = resolveCommand(argv[0]!, softwareDir, env.PATH);
    const spawned = await spawnService({
      argv,
      env,
      cwd: this.runtimeDir,
      logDir: this.paths.logDir,
      user: this.user,
      namespace: this.deps.namespace,
    });
    if (this.closed) {
      spawned.child.unref();
      return;
    }
    this.attach(LiveProcess.spawned(spawned));
    this.deps.rotator.add(this.paths.logDir);
    this.deps.metrics.starts.inc();
    this.commit('running', { pid: spawned.pid, startTime: spawned.startTime, startedAt: this.nowIso() });
  }

  /** A policy restart (no operator waiting): a failed start counts as another exit. */
  private relaunch(): Promise<unknown> {
    return this.enqueue(async () => {
      if (this.record.desired !== 'running' || this.live || this.closed) return;
      try {
        await this.launch();
      } catch (err) {
        this.deps.log.error({ err, coordinate: this.coordinate }, `start failed: ${messageOf(err)}`);
        this.commit(this.record.state, { lastExit: { ...UNKNOWN_EXIT, at: this.nowIso() } });
        this.afterExit(UNKNOWN_EXIT);
      }
    });
  }

  private attach(live: LiveProcess): void {
    this.live = live;
    void live.exited.then((exit) => {
      if (this.live !== live || this.closed) return;
      try {
        this.onExit(exit);
      } catch (err) {
        // a bug here must not take the daemon (and its view of every other service) down
        this.deps.log.error({ err, coordinate: this.coordinate }, 'cannot handle a service exit');
      }
    });
  }

  private onExit(exit: ExitStatus): void {
    const live = this.live!;
    this.live = undefined;
    const lastExit = { code: exit.code, signal: exit.signal, at: this.nowIso() };
    const patch = { pid: null, startTime: null, lastExit };
    switch (this.record.state) {
      case 'stopping':
        // halt() is waiting for the tree and finishes the stop
        this.commit('stopping', patch);
        return;
      case 'draining':
        this.clearTimers();
        this.leftoverGroup = live.pid;
        this.commit('draining', patch);
        void this.stop().catch(() => undefined);
        return;
      default:
        break;
    }
    // whatever the leader forked goes with it: a crashed service leaves no workers behind
    this.signalGroup(live.pid, 'SIGKILL');
    this.commit(this.record.state, patch);
    this.deps.log.info({ coordinate: this.coordinate, pid: live.pid, ...exit }, `service ${describe(exit)}`);
    if (this.record.desired !== 'running') this.commit('stopped');
    else this.afterExit(exit);
  }

  /** The policy's answer to an exit (or a failed start) of a service meant to run. */
  private afterExit(exit: ExitStatus): void {
    const decision = this.policy.decide(exit);
    if (decision.action === 'exited' || decision.action === 'failed') {
      if (decision.action === 'failed') this.deps.log.warn({ coordinate: this.coordinate, reason: decision.reason }, 'service failed');
      this.commit(decision.action);
      return;
    }
    this.deps.metrics.restarts.inc();
    this.commit(decision.delayMs === 0 ? this.record.state : 'backoff', { restarts: this.record.restarts + 1 });
    if (decision.delayMs === 0) {
      void this.relaunch();
      return;
    }
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      void this.relaunch();
    }, decision.delayMs);
  }

  /** Stops whatever runs, waits for the whole tree, ends at stopped. Safe to repeat. */
  private async halt(): Promise<void> {
    this.clearTimers();
    this.commit(this.record.state, { desired: 'stopped' });
    const live = this.live;
    const group = live?.pid ?? this.leftoverGroup;
    this.leftoverGroup = undefined;
    if (group !== undefined) {
      if (this.record.state !== 'stopping') this.commit('stopping');
      const { signal, timeoutSeconds } = this.record.spec.stop;
      const result = await stopTree({
        pid: group,
        runtimeDir: this.runtimeDir,
        signal: signal as NodeJS.Signals,
        timeoutMs: timeoutSeconds * 1000,
        leaderGone: () => {
          return !live || live.poll();
        },
      });
      if (result.killed) this.deps.log.warn({ coordinate: this.coordinate }, `did not stop within ${timeoutSeconds} s: killed`);
      if (result.survivors.length) this.deps.log.error({ coordinate: this.coordinate, pids: result.survivors }, 'processes survived SIGKILL');
      if (live) {
        const exit = await live.exited;
        if (this.live === live) this.onExit(exit);
      }
      this.deps.metrics.stops.inc();
    }
    if (this.record.state !== 'stopped') this.commit('stopped', { pid: null, startTime: null });
  }

  // ---- helpers ---------------------------------------------------------------------------

  /** The one place the record changes: checked, persisted, announced. */
  private commit(to: ServiceState, patch: Partial<ServiceRecord> = {}): void {
    const from = this.record.state;
    if (!canTransition(from, to)) throw new Error(`${this.coordinate}: illegal state change ${from} -> ${to}`);
    Object.assign(this.record, patch, { state: to });
    this.json = undefined;
    this.file.save(this.record);
    this.deps.onChange(this, from);
  }

  /**
   * Operator requests answer once the record is on disk: a 2xx survives a kill -9 right
   * after it, and a record that could not be written is the request's STATE_WRITE_FAILED.
   * The operation's own error, when it has one, is the one reported.
   */
  private enqueue(op: () => Promise<void>): Promise<Service> {
    const next = this.ops
      .then(async () => {
        try {
          await op();
        } catch (err) {
          await this.file.flush().catch(() => undefined);
          throw err;
        }
        await this.file.flush();
      })
      .then(() => this.view());
    this.ops = next.catch(() => undefined);
    return next;
  }

  private armDrainTimer(ms: number): void {
    clearTimeout(this.drainTimer);
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      void this.stop().catch(() => undefined);
    }, ms);
  }

  private clearTimers(): void {
    clearTimeout(this.backoffTimer);
    clearTimeout(this.drainTimer);
    this.backoffTimer = this.drainTimer = undefined;
  }

  private signalGroup(pgid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(-pgid, signal);
    } catch {
      // already gone
    }
  }

  private nowIso(): string {
    return new Date((this.deps.now ?? Date.now)()).toISOString();
  }
}

function maskValues(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(env).map((k) => [k, '***']));
}

