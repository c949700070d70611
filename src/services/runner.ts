import { NodeeError, messageOf } from '../lib/errors.js';
import type { ExitInfo, ExitStatus, Resources, Service, ServiceState, Usage } from '../contract/index.js';
import type { Logger } from '../lib/log.js';
import { isSameProcess, processStartTime } from '../lib/proc.js';
import type { ServicePaths } from './coordinate.js';
import type { ServiceEvents } from './events.js';
import type { ServiceSpec } from './spec.js';
import { serviceHooks, type HookChain, type HookDeps, type LaunchPlan } from './hooks/index.js';
import { LiveProcess, UNKNOWN_EXIT } from './live-process.js';
import { RestartPolicy, describe } from './policy.js';
import { NO_USAGE, RecordKeeper } from './record-keeper.js';
import { OpLine } from './op-line.js';
import type { RecordFile } from './record-store.js';
import { AT_REST, type ServiceRecord } from './state.js';
import type { SoftwareNamespace } from './steps/isolation.js';
import { spawnService } from './steps/spawn.js';
import { CgroupTree, GroupTree, endTree, type ServiceTree } from './tree.js';

export interface RunnerDeps extends HookDeps {
  log: Logger;
  namespace: SoftwareNamespace | undefined;
  events: ServiceEvents;
  /** Of the coordinates a spec `requires`, those not ready now (absent or not running or not ready). */
  unready(requires: readonly string[]): string[];
  now?: () => number;
}

/**
 * One service's life: a small loop that runs the hooks' phases (hooks/hook.ts has the phase
 * contract) and the restart policy. Operator requests and policy restarts run one at a time
 * through one OpLine; a process exit joins the same line, so no two of them ever interleave. Every
 * change of the record goes through the RecordKeeper, which checks, persists and announces it.
 */
export class ServiceRunner {
  readonly coordinate: string;
  private readonly keeper: RecordKeeper;
  private readonly hooks: HookChain;
  private readonly tree: ServiceTree;
  private readonly policy: RestartPolicy;
  private live: LiveProcess | undefined;
  private readonly line = new OpLine();
  /** The backoff before a policy restart, or the drain timeout: never both (a backoff has no process to drain). */
  private timer: NodeJS.Timeout | undefined;
  /** Starts asked for and not yet begun: their reservation counts already (admission). */
  private startsPending = 0;
  /** Removed, or the daemon is exiting: events and timers no longer act on the service. */
  private closed = false;
  private lastUsage: Usage = NO_USAGE;
  /** A process was spawned by this daemon: what its start made is known to be in place. */
  private startedHere = false;
  /** Why nodee is ending the running process on its own (liveness, watchdog): the exit's `reason`. */
  private ending: { live: LiveProcess; reason: string } | undefined;

  constructor(
    record: ServiceRecord,
    readonly paths: ServicePaths,
    file: RecordFile,
    private readonly deps: RunnerDeps,
  ) {
    this.coordinate = record.spec.coordinate;
    record.restartTimes ??= []; // a record of nodee 0.1
    this.keeper = new RecordKeeper(record, paths.runtimeDir, file, deps.events);
    this.policy = new RestartPolicy(record.spec.restart, deps.now);
    // one handle per service, shared by its tree and its cgroup hook
    const cgroup = deps.cgroups?.handle(this.coordinate);
    this.tree = cgroup ? new CgroupTree(cgroup) : new GroupTree(paths.runtimeDir);
    const keeper = this.keeper;
    this.hooks = serviceHooks(
      {
        coordinate: this.coordinate,
        get spec() {
          return keeper.current.spec;
        },
        paths,
        ports: () => keeper.current.ports,
        prepared: () => keeper.current.prepared,
        markPrepared: () => keeper.commit(keeper.state, { prepared: true }),
        tree: this.tree,
        cgroup,
        log: deps.log,
        // the hooks report only while they watch a process (they stop at exit and stop); a report
        // that changes nothing (a start resetting what is already reset) is not a record write
        health: (patch) => {
          const now = keeper.current as unknown as Record<string, unknown>;
          if (Object.entries(patch).some(([k, v]) => JSON.stringify(now[k]) !== JSON.stringify(v))) keeper.commit(keeper.state, patch);
        },
        unhealthy: (reason) => this.endUnhealthy(reason),
      },
      deps,
    );
  }

  get state(): ServiceState {
    return this.keeper.state;
  }

  get spec(): ServiceSpec {
    return this.keeper.current.spec;
  }

  get artifact(): string {
    return this.keeper.current.spec.artifact;
  }

  get resources(): Resources {
    return this.keeper.resources;
  }

  get ready(): boolean {
    return this.keeper.current.ready;
  }

  /** The coordinates this service waits for (spec `requires`). */
  get requires(): readonly string[] {
    return this.keeper.current.spec.requires;
  }

  /** Whether the service's reservation counts against the node's capacity (admission). */
  get reserving(): boolean {
    return this.startsPending > 0 || !AT_REST.includes(this.keeper.state);
  }

  /** The service as the API shows it, with the usage last measured (nulls while no process runs). */
  view(reveal = false): Service {
    return this.keeper.view(reveal, this.usage);
  }

  viewJson(): string {
    return this.keeper.viewJson(this.usage);
  }

  /** The figures last measured, while a process runs; nulls otherwise. */
  get usage(): Usage {
    return this.keeper.current.pid === null ? NO_USAGE : this.lastUsage;
  }

  /** Reads what the service's cgroup accounts now and keeps it for view(); nulls without a cgroup or a process. */
  measure(): Usage {
    if (this.keeper.current.pid !== null) this.lastUsage = this.tree.usage();
    return this.usage;
  }

  // ---- operator requests -------------------------------------------------------------

  /**
   * A new service: validate (a bad spec is refused before anything exists), the create phase
   * (ports), then the first record, on disk before this resolves. remove() undoes it.
   */
  async create(): Promise<void> {
    this.hooks.plan();
    this.keeper.created(await this.hooks.create());
    await this.keeper.flush();
  }

  start(): Promise<Service> {
    this.startsPending++;
    return this.enqueue(async () => {
      this.startsPending--;
      this.cancelTimer();
      // a start during a drain lets the old process finish stopping, then starts afresh
      if (this.keeper.state === 'draining') await this.halt();
      this.keeper.commit(this.keeper.state, { desired: 'running' });
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
      this.keeper.commit(this.keeper.state, { desired: 'running' });
      await this.launchFresh();
    });
  }

  /** An upgrade or its rollback (upgrade.ts): only at rest, so no process runs under a spec it was not started with. */
  respec(spec: ServiceSpec): Promise<Service> {
    return this.enqueue(async () => {
      if (!AT_REST.includes(this.keeper.state)) throw new NodeeError('SERVICE_RUNNING', `service ${this.coordinate} is ${this.keeper.state}; stop it before changing its artifact`);
      this.keeper.respec(spec);
    });
  }

  /** Whether the operator wants it running and it is not at rest (what an upgrade's rollback restores). */
  get isRunning(): boolean {
    return this.keeper.current.desired === 'running' && !AT_REST.includes(this.keeper.state);
  }

  /**
   * Draining, the drain signal sent, stopped at exit or at the timeout. Resolves once
   * `draining` (or the stop it turned into) is on disk, not when the drain ends.
   */
  async drain(): Promise<Service> {
    const { state } = this.keeper;
    if (state === 'draining' || state === 'stopping' || this.closed) return this.view();
    this.keeper.commit(state, { desired: 'stopped' });
    if (!this.live || state !== 'running') {
      void this.stop().catch((err: unknown) => this.deps.log.error({ err, coordinate: this.coordinate }, 'drain: stop failed'));
    } else {
      this.keeper.commit('draining');
      const { signal, timeoutSeconds } = this.keeper.current.spec.drain;
      if (signal) void this.tree.signal(signal as NodeJS.Signals).catch(() => undefined);
      this.after(timeoutSeconds * 1000, () => this.stop());
    }
    // the answer is the drain as committed; the service may move on while the record is written
    const view = this.view();
    await this.keeper.flush();
    return view;
  }

  /**
   * Once the service is at rest (409 SERVICE_RUNNING otherwise): runs `purge` (which may
   * fail and then leaves everything as it was), the hooks' remove phase, deletes the record
   * and runs `forget`.
   */
  remove(purge: () => Promise<void>, forget: () => void): Promise<void> {
    return this.enqueue(async () => {
      if (!AT_REST.includes(this.keeper.state) || this.live) {
        throw new NodeeError('SERVICE_RUNNING', `service ${this.coordinate} is ${this.keeper.state}; stop it before removing it`);
      }
      await purge();
      this.cancelTimer();
      this.closed = true;
      await this.hooks.remove();
      await this.keeper.delete();
      this.keeper.removed();
      forget();
    }).then(() => undefined);
  }

  // ---- daemon life ---------------------------------------------------------------------

  /**
   * After a daemon restart: adopt the recorded process when it is still the same one (pid
   * and start time; the leader found in the service's tree when the daemon died before
   * recording it), otherwise treat it as an exit nobody saw and apply the policy. Resolves
   * true when a live process was adopted.
   */
  async resume(): Promise<boolean> {
    const r = this.keeper.current;
    if (r.pid === null && (r.state === 'starting' || r.state === 'running')) {
      const pid = await this.tree.findLeader();
      const startTime = pid === undefined ? undefined : processStartTime(pid);
      if (pid !== undefined && startTime !== undefined) this.keeper.commit(r.state, { pid, startTime, startedAt: r.startedAt ?? this.nowIso() });
    }
    if (r.pid !== null && r.startTime !== null && isSameProcess(r.pid, r.startTime)) {
      const live = LiveProcess.adopted(r.pid, r.startTime);
      this.attach(live, this.adoptionPlan());
      this.deps.log.info({ coordinate: this.coordinate, pid: r.pid }, 'adopted a live service process');
      if (r.state === 'starting') this.keeper.commit('running');
      // a drain goes on for a full drain window; a stop that was under way is finished
      if (r.state === 'draining') this.after(r.spec.drain.timeoutSeconds * 1000, () => this.stop());
      else if (r.state === 'stopping' || r.desired === 'stopped') void this.stop().catch(() => undefined);
      return true;
    }
    if (r.pid !== null) {
      this.deps.log.warn({ coordinate: this.coordinate, pid: r.pid }, 'service process died while no daemon watched it');
      this.keeper.commit(r.state, { pid: null, startTime: null, lastExit: { ...UNKNOWN_EXIT, at: this.nowIso() } });
      // what the dead leader forked goes with it, before anything is started again
      await this.tree.kill(() => true);
    }
    switch (r.state) {
      case 'running':
      case 'starting':
        if (r.desired === 'running') this.afterExit(UNKNOWN_EXIT);
        else this.keeper.commit('stopped');
        break;
      case 'backoff':
      case 'waiting':
        // a waiting service waits again: the supervisor wakes it once what it requires is ready
        if (r.desired === 'running') void this.relaunch();
        else this.keeper.commit('stopped');
        break;
      case 'stopping':
      case 'draining':
        this.keeper.commit('stopped');
        break;
      default:
        break;
    }
    return false;
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
    this.cancelTimer();
    this.live?.detach();
    // the daemon goes on exiting on a full disk: the record keeps what was last written
    await this.keeper.flush().catch((err: unknown) => this.deps.log.error({ err, coordinate: this.coordinate }, 'service state not saved at exit'));
  }

  // ---- the life cycle ------------------------------------------------------------------

  /** An operator's start: the policy's window starts afresh, and a failed launch is final. */
  private async launchFresh(): Promise<void> {
    this.keeper.commit(this.keeper.state, { restartTimes: [] });
    await this.launch().catch((err: unknown) => {
      this.keeper.commit('failed', { desired: 'stopped' });
      throw err;
    });
  }

  private async launch(again = false): Promise<void> {
    if (this.live || this.closed) return;
    const unready = this.deps.unready(this.requires);
    if (unready.length > 0) {
      if (this.keeper.state !== 'waiting') this.deps.log.info({ coordinate: this.coordinate, waitingFor: unready }, 'waiting for required services to be ready');
      this.keeper.commit('waiting', { pid: null, startTime: null });
      return;
    }
    this.keeper.commit('starting', { pid: null, startTime: null });
    const plan = this.hooks.plan(again);
    await this.hooks.prestart(plan);
    const spawned = await spawnService({
      argv: plan.argv,
      env: plan.env,
      cwd: this.paths.runtimeDir,
      logDir: this.paths.logDir,
      user: plan.user,
      namespace: this.deps.namespace,
      enter: plan.enter,
    });
    if (this.closed) {
      spawned.child.unref();
      return;
    }
    this.attach(LiveProcess.spawned(spawned), plan);
    this.startedHere = true;
    this.keeper.commit('running', { pid: spawned.pid, startTime: spawned.startTime, startedAt: this.nowIso() });
  }

  /** A policy restart (no operator waiting): a failed start counts as another exit. */
  private relaunch(): Promise<unknown> {
    return this.line.run(async () => {
      if (this.keeper.current.desired !== 'running' || this.live || this.closed) return;
      try {
        // after a daemon restart (resume) nothing was made in this daemon's life yet
        await this.launch(this.startedHere);
      } catch (err) {
        this.deps.log.error({ err, coordinate: this.coordinate }, `start failed: ${messageOf(err)}`);
        this.keeper.commit(this.keeper.state, { lastExit: { ...UNKNOWN_EXIT, at: this.nowIso() } });
        this.afterExit(UNKNOWN_EXIT);
      }
    });
  }

  /**
   * A required service became ready: a waiting start goes ahead (or waits on, for the others).
   * Runs on the service's line like a policy restart.
   */
  wake(): void {
    if (this.keeper.state === 'waiting') void this.relaunch();
  }

  /**
   * Ends the running process because a liveness check or the watchdog says it is unhealthy:
   * the stop signal, the stop grace, then SIGKILL, as a stop would, but the exit is then
   * handled as the service's own failure (the policy restarts it) with `lastExit.reason`.
   */
  private endUnhealthy(reason: string): void {
    void this.line.run(async () => {
      const live = this.live;
      if (!live || this.closed || this.keeper.state !== 'running' || this.ending?.live === live) return;
      this.ending = { live, reason };
      this.deps.log.warn({ coordinate: this.coordinate, pid: live.pid, reason }, 'service unhealthy: ending it, the restart policy decides what next');
      // the stop sequence alone, not the stop phase: the cgroup, socket and checks stay for the restart
      const { signal, timeoutSeconds } = this.keeper.current.spec.stop;
      await endTree(this.tree, { leaderGone: () => live.poll(), signal: signal as NodeJS.Signals, timeoutMs: timeoutSeconds * 1000, log: this.deps.log, coordinate: this.coordinate });
    });
  }

  /** The plan an adopted process would have been started with (its user, env, software dir), if it can still be made. */
  private adoptionPlan(): LaunchPlan | undefined {
    try {
      return this.hooks.plan(true);
    } catch (err) {
      this.deps.log.warn({ err, coordinate: this.coordinate }, 'adopted service: its start plan cannot be made again (checks and notify are off until its next start)');
      return undefined;
    }
  }

  private attach(live: LiveProcess, plan: LaunchPlan | undefined): void {
    this.live = live;
    this.tree.track(live.pid);
    this.hooks.poststart(live, plan);
    void live.exited.then((exit) =>
      this.line.run(async () => {
        if (this.live !== live || this.closed) return;
        try {
          await this.onExit(exit);
        } catch (err) {
          // a bug here must not take the daemon (and its view of every other service) down
          this.deps.log.error({ err, coordinate: this.coordinate }, 'cannot handle a service exit');
        }
      }),
    );
  }

  /** The process ended: during a stop (halt finishes it), a drain, or on its own. */
  private async onExit(exit: ExitStatus): Promise<void> {
    const live = this.live;
    this.live = undefined;
    const lastExit: ExitInfo = { code: exit.code, signal: exit.signal, at: this.nowIso() };
    if (live && this.ending?.live === live) lastExit.reason = this.ending.reason;
    this.ending = undefined;
    const gone = { pid: null, startTime: null, lastExit };
    const state = this.keeper.state;
    if (state === 'stopping') {
      this.keeper.commit('stopping', gone);
      return;
    }
    if (state === 'draining') {
      this.cancelTimer();
      this.keeper.commit('draining', gone);
      // the stop ends whatever the leader left in its tree
      void this.stop().catch(() => undefined);
      return;
    }
    // whatever the leader forked goes with it: a crashed service leaves no workers behind
    await this.tree.endLeftovers();
    Object.assign(lastExit, await this.hooks.exited(exit));
    if (lastExit.oom) {
      // the kernel killed it (or, on cgroup v1, one of its processes and we the rest): say so plainly
      Object.assign(lastExit, { code: null, signal: 'SIGKILL' });
      this.deps.log.warn({ coordinate: this.coordinate, memoryMB: this.resources.memoryMB }, 'service killed by the OOM killer: it went over its memory limit');
    }
    this.keeper.commit(state, gone);
    this.deps.log.info({ coordinate: this.coordinate, code: lastExit.code, signal: lastExit.signal }, `service ${describe(lastExit)}`);
    if (this.keeper.current.desired !== 'running') this.keeper.commit('stopped');
    else this.afterExit(lastExit);
  }

  /** The policy's answer to an exit (or a failed start) of a service meant to run. */
  private afterExit(exit: ExitStatus): void {
    const decision = this.policy.decide(exit, this.keeper.current.restartTimes);
    if (decision.action === 'exited' || decision.action === 'failed') {
      if (decision.action === 'failed') this.deps.log.warn({ coordinate: this.coordinate, reason: decision.reason }, 'service failed');
      this.keeper.commit(decision.action);
      return;
    }
    const restarts = this.keeper.current.restarts + 1;
    this.keeper.commit(decision.delayMs === 0 ? this.keeper.state : 'backoff', { restarts, restartTimes: decision.window });
    if (decision.delayMs === 0) {
      void this.relaunch();
      return;
    }
    this.after(decision.delayMs, () => this.relaunch());
  }

  /** Stops whatever runs (the stop phase), waits for the whole tree, ends at stopped. Safe to repeat. */
  private async halt(): Promise<void> {
    this.cancelTimer();
    this.keeper.commit(this.keeper.state, { desired: 'stopped' });
    const live = this.live;
    if (live && this.keeper.state !== 'stopping') this.keeper.commit('stopping');
    const { signal, timeoutSeconds } = this.keeper.current.spec.stop;
    const req = { live, signal: signal as NodeJS.Signals, timeoutMs: timeoutSeconds * 1000 };
    await this.hooks.stop(req);
    if (live) {
      const exit = await live.exited;
      if (this.live === live) await this.onExit(exit);
    }
    if (this.keeper.state !== 'stopped') this.keeper.commit('stopped', { pid: null, startTime: null });
  }

  // ---- helpers ---------------------------------------------------------------------------

  /**
   * Operator requests answer once the record is on disk: a 2xx survives a kill -9 right
   * after it, and a record that could not be written is the request's STATE_WRITE_FAILED.
   * The operation's own error, when it has one, is the one reported.
   */
  private enqueue(op: () => Promise<void>): Promise<Service> {
    return this.line.run(async () => {
      try {
        await op();
      } catch (err) {
        await this.keeper.flush().catch(() => undefined);
        throw err;
      }
      await this.keeper.flush();
      return this.view();
    });
  }

  /** Runs `then` after `ms` unless cancelled first; a failure is the stop's or the start's own to report. */
  private after(ms: number, then: () => Promise<unknown>): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void then().catch(() => undefined);
    }, ms);
  }

  private cancelTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private nowIso(): string {
    return new Date((this.deps.now ?? Date.now)()).toISOString();
  }
}
