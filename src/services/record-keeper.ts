import type { Resources, Service, ServiceState, Usage } from '../contract/index.js';
import type { RecordChange, ServiceEvents } from './events.js';
import type { RecordFile } from './record-store.js';
import { AT_REST, changeProblem, readyOf, type RecordPatch, type ServiceRecord } from './state.js';
import type { ServiceSpec } from './spec.js';

/** Usage where nothing is known: no cgroup, or no process. One object, so viewJson() knows it by identity. */
export const NO_USAGE: Usage = Object.freeze({ memoryBytes: null, cpuSeconds: null, pids: null });

/**
 * The one place a service's record changes. commit() checks the transition and every field
 * it writes (state.ts), saves the record (the store coalesces writes and retries a failed
 * one) and emits the typed event everything else listens to. Nothing else assigns to the
 * record, so there is no second path that could leave disk, API and ZooKeeper disagreeing.
 */
export class RecordKeeper {
  readonly coordinate: string;
  private json: string | undefined;

  constructor(
    private readonly record: ServiceRecord,
    readonly runtimeDir: string,
    private readonly file: RecordFile,
    private readonly events: ServiceEvents,
  ) {
    this.coordinate = record.spec.coordinate;
    // a record of an earlier nodee has no health fields; `ready` is never trusted from disk
    record.notified ??= false;
    record.statusText ??= null;
    record.checks ??= [];
    record.ready = readyOf(record);
  }

  /** The record as it is now; read-only to everyone but commit(). */
  get current(): Readonly<ServiceRecord> {
    return this.record;
  }

  get state(): ServiceState {
    return this.record.state;
  }

  get resources(): Resources {
    return this.record.spec.resources ?? {};
  }

  /**
   * The first commit of a new service, with what its create phase took (ports): checked,
   * written and announced like any other (`from: null`).
   */
  created(made: { ports: Record<string, number> }): void {
    const problem = changeProblem(this.record, this.record.state, {});
    if (problem) throw new Error(`${this.coordinate}: ${problem}`);
    this.record.ports = made.ports;
    this.file.save(this.record);
    this.emit(null, this.record.state, []);
  }

  commit(to: ServiceState, patch: RecordPatch = {}): void {
    const problem = changeProblem(this.record, to, patch);
    if (problem) throw new Error(`${this.coordinate}: ${problem}`);
    const from = this.record.state;
    const wasReady = this.record.ready;
    Object.assign(this.record, patch, { state: to });
    // derived here, on every commit, so no path can change what makes it without changing it
    this.record.ready = readyOf(this.record);
    this.json = undefined;
    this.file.save(this.record);
    const changed: RecordChange[] = Object.keys(patch) as (keyof RecordPatch)[];
    if (this.record.ready !== wasReady) changed.push('ready');
    this.emit(from, to, changed);
  }

  /**
   * An upgrade or its rollback: the service runs another artifact from now on. Only at rest
   * (the runner stopped it first), so no process ever runs under a spec it was not started with.
   */
  respec(spec: ServiceSpec): void {
    if (!AT_REST.includes(this.record.state)) throw new Error(`${this.coordinate}: a ${this.record.state} service cannot change its spec`);
    if (spec.coordinate !== this.coordinate) throw new Error(`${this.coordinate}: a spec of ${spec.coordinate}`);
    this.record.spec = spec;
    this.json = undefined;
    this.file.save(this.record);
    this.emit(this.record.state, this.record.state, ['spec']);
  }

  /** The record is gone from disk: the last event, with the service as it was. */
  removed(): void {
    this.emit(this.record.state, null, []);
  }

  /** Resolves once everything committed is on disk (STATE_WRITE_FAILED if not). */
  flush(): Promise<void> {
    return this.file.flush();
  }

  delete(): Promise<void> {
    return this.file.delete();
  }

  /**
   * The service as the API shows it. `spec.env` values are secrets (passwords, keys): they
   * are masked unless `reveal` (the API's `?reveal=env`, behind the token) asks for them.
   */
  view(reveal = false, usage: Usage = NO_USAGE): Service {
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
      usage,
      ready: r.ready,
      statusText: r.statusText,
      checks: r.checks,
      spec: spec as unknown as Record<string, unknown>,
    };
  }

  /**
   * view() as JSON with `usage` spliced in: everything else is kept until the next commit, so
   * listing 1,000 services is a join of strings plus the usage figures that change anyway.
   */
  viewJson(usage: Usage = NO_USAGE): string {
    this.json ??= JSON.stringify(this.view(false, NO_USAGE));
    return usage === NO_USAGE ? this.json : this.json.replace(NO_USAGE_JSON, `"usage":${JSON.stringify(usage)}`);
  }

  private emit(from: ServiceState | null, to: ServiceState | null, changed: readonly RecordChange[]): void {
    if (this.events.listenerCount('service') === 0) return;
    this.events.emit('service', { coordinate: this.coordinate, from, to, changed, service: this.view() });
  }
}

const NO_USAGE_JSON = `"usage":${JSON.stringify(NO_USAGE)}`;

function maskValues(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.keys(env).map((k) => [k, '***']));
}
