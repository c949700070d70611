import type { ExitStatus } from '../contract/index.js';
import type { ServiceSpec } from './spec.js';

/** What to do after a process exited on its own. */
export type Decision =
  | { action: 'restart'; delayMs: number; reason: string; window: number[] }
  | { action: 'exited'; reason: string }
  | { action: 'failed'; reason: string };

/**
 * The restart policy, kept pure: given an exit, the times of the restarts so far and the
 * clock, it answers restart (with the backoff delay and the new window to keep), exited or
 * failed. It keeps nothing itself: the window lives in the service's record, so a daemon
 * restart does not reset a crash loop's count. Tested by a table of cases with a fake clock.
 *
 * Backoff doubles per restart still inside the window, so a service that has been stable
 * for a window starts again from `backoffMs`.
 */
export class RestartPolicy {
  constructor(
    private readonly spec: ServiceSpec['restart'],
    private readonly now: () => number = Date.now,
  ) {}

  decide(exit: ExitStatus & { reason?: string }, restartTimes: readonly number[]): Decision {
    const { policy, backoffMs, maxBackoffMs, limit } = this.spec;
    // ended by nodee as unhealthy (liveness, watchdog): a failure, however gracefully it exited
    const clean = exit.code === 0 && exit.signal === null && exit.reason === undefined;
    if (policy === 'never') return { action: 'exited', reason: 'restart policy is never' };
    if (policy === 'on-failure' && clean) return { action: 'exited', reason: 'exited 0 and restart policy is on-failure' };

    const now = this.now();
    const windowStart = now - limit.windowSeconds * 1000;
    const recent = restartTimes.filter((t) => t > windowStart && t <= now);
    if (recent.length >= limit.restarts) {
      return { action: 'failed', reason: `${recent.length} restarts within ${limit.windowSeconds} s (limit ${limit.restarts})` };
    }
    const delayMs = Math.min(backoffMs * 2 ** recent.length, maxBackoffMs);
    return { action: 'restart', delayMs, reason: describe(exit), window: [...recent, now] };
  }
}

export function describe(exit: ExitStatus & { reason?: string }): string {
  const why = exit.reason ? ` (ended as unhealthy: ${exit.reason})` : '';
  if (exit.signal) return `killed by ${exit.signal}${why}`;
  if (exit.code === null) return `exited (status unknown)${why}`;
  return `exited with code ${exit.code}${why}`;
}
