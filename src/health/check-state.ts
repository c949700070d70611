import type { Check } from './schema.js';
import type { ProbeResult } from './probes.js';

/**
 * The counting of one check's results, pure (the clock is the caller's), so every rule is a
 * row of a table in test/health/check-state.test.mjs.
 */
export type CheckStatus = 'pending' | 'passing' | 'failing';

export interface CheckState {
  status: CheckStatus;
  output: string;
  /** When the last result came (ms since the epoch), null while pending. */
  at: number | null;
  /** Consecutive failures that count toward liveness (after the grace); 0 after a pass. */
  failures: number;
}

export const INITIAL: CheckState = Object.freeze({ status: 'pending', output: '', at: null, failures: 0 });

export interface Counted {
  state: CheckState;
  /**
   * True on the one result that makes a liveness check reach `failureThreshold` failures in a
   * row: the caller restarts the service once per streak, not on every further failure.
   */
  dead: boolean;
}

/**
 * Counts one result at time `at` of a service started at `startedAt`. A failure within
 * `graceMs` of the start is shown (status failing) but does not count: a service that takes
 * a while to listen is not restarted for it. Readiness checks never die: failing only means
 * "not ready".
 */
export function count(check: Pick<Check, 'type' | 'failureThreshold' | 'graceMs'>, prev: CheckState, result: ProbeResult, at: number, startedAt: number): Counted {
  const status: CheckStatus = result.ok ? 'passing' : 'failing';
  let failures = 0;
  if (!result.ok && check.type === 'liveness') {
    const inGrace = at - startedAt < check.graceMs;
    failures = inGrace ? 0 : prev.failures + 1;
  }
  const state = { status, output: result.output, at, failures };
  return { state, dead: check.type === 'liveness' && failures === check.failureThreshold };
}
