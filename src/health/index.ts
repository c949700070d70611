import type { CheckView } from '../contract/index.js';
import { count, INITIAL, type CheckState } from './check-state.js';
import type { ProbeTarget } from './probes.js';
import { HealthScheduler, type SchedulerOptions } from './scheduler.js';
import type { Check } from './schema.js';

/**
 * Health checks (contract: "Health checks, readiness, dependencies, upgrades"): the schema of
 * a check, the probes, the one-timer scheduler and the counting, put together per service.
 * The runner's health hook (issue #10) calls watch() once a process runs, unwatch() when it
 * stops, and turns onChange into `ready`/`checks` and onDead into a restart.
 */
export { checkSchema, checksSchema, portSchema, type Check, type CheckInput, type CheckType, type Port } from './schema.js';
export { probe, OUTPUT_MAX, CAPTURE_MAX, type ProbeResult, type ProbeTarget } from './probes.js';
export { HealthScheduler, type SchedulerOptions, type OnResult } from './scheduler.js';
export { count, INITIAL, type CheckState, type CheckStatus, type Counted } from './check-state.js';

/** One check's last status as the API shows it (`Service.checks[]`): the contract's CheckView. */
export type CheckStatusView = CheckView;

export interface WatchHandlers {
  /** A check's status or output changed: all the service's checks, in spec order. */
  onChange(statuses: CheckStatusView[]): void;
  /** A liveness check failed `failureThreshold` times in a row after its grace (once per streak). */
  onDead(name: string): void;
}

interface Watched {
  checks: Check[];
  states: CheckState[];
  startedAt: number;
  handlers: WatchHandlers;
}

export class HealthChecks {
  private readonly scheduler: HealthScheduler;
  private readonly watched = new Map<string, Watched>();
  /** Each watch() gets its own scheduler key, so a late result of a replaced watch cannot land in the new one. */
  private generation = 0;
  private readonly keys = new Map<string, string>();

  constructor(o: SchedulerOptions = {}) {
    this.scheduler = new HealthScheduler(o);
  }

  /** The scheduler underneath (its pendingTimers and size, for metrics and tests). */
  get schedulerStats(): { pendingTimers: number; size: number } {
    return { pendingTimers: this.scheduler.pendingTimers, size: this.scheduler.size };
  }

  /**
   * Starts checking a service whose process started at `startedAt` (ms since the epoch; the
   * grace counts from it). Watching a coordinate again (a restart) starts over from pending.
   */
  watch(coordinate: string, checks: Check[], target: ProbeTarget, startedAt: number, handlers: WatchHandlers): void {
    this.unwatch(coordinate);
    const w: Watched = { checks, states: checks.map(() => INITIAL), startedAt, handlers };
    this.watched.set(coordinate, w);
    const key = `${coordinate}#${++this.generation}`;
    this.keys.set(coordinate, key);
    checks.forEach((check, i) => {
      this.scheduler.add(key, check, target, (result, at) => {
        const prev = w.states[i]!;
        const { state, dead } = count(check, prev, result, at, w.startedAt);
        w.states[i] = state;
        // only changes are news: a steady passing check does not wake the API 1,000 times a second
        if (state.status !== prev.status || state.output !== prev.output) w.handlers.onChange(view(w));
        if (dead) w.handlers.onDead(check.name);
      });
    });
  }

  /** Stops checking a service; safe when it was not watched. */
  unwatch(coordinate: string): void {
    const key = this.keys.get(coordinate);
    if (key !== undefined) this.scheduler.remove(key);
    this.keys.delete(coordinate);
    this.watched.delete(coordinate);
  }

  /** The service's checks' last statuses ([] when not watched). */
  statuses(coordinate: string): CheckStatusView[] {
    const w = this.watched.get(coordinate);
    return w ? view(w) : [];
  }

  close(): void {
    this.scheduler.close();
    this.watched.clear();
    this.keys.clear();
  }
}

function view(w: Watched): CheckStatusView[] {
  return w.checks.map((c, i) => {
    const s = w.states[i]!;
    return { name: c.name, type: c.type, status: s.status, output: s.output, at: s.at === null ? null : new Date(s.at).toISOString() };
  });
}
