import type { Job, JobInstanceStatus, JobStatus } from '../contract/index.js';
import { splitCoordinate } from './job.js';

/**
 * What a plan remembers for the next one: the only state the planner carries, as plain JSON
 * (the leader may persist it). Everything else is read afresh from the cell on every plan,
 * so a missed event or a new leader converges to the same answer.
 */
export interface History {
  /** Per coordinate: when it was moved off a node where it had failed (ms since the epoch), the last hour's. */
  moves: Record<string, number[]>;
  /** Per coordinate of a batch job: its failed runs, and the outcome once there is one. */
  batch: Record<string, BatchRecord>;
}

export interface BatchRecord {
  failures: number;
  /** complete: exited 0, never run again. failed: failed once more than MAX_BATCH_RETRIES allow. */
  outcome: 'complete' | 'failed' | null;
  /** Where the outcome happened (where its logs are). */
  node: string | null;
}

export const EMPTY_HISTORY: History = Object.freeze({ moves: Object.freeze({}), batch: Object.freeze({}) }) as History;

/** A failed instance is moved at most MAX_MOVES times in MOVE_WINDOW_MS, then stays failed where it is. */
export const MAX_MOVES = 3;
export const MOVE_WINDOW_MS = 3_600_000;
/** A failed batch run is tried again on another node this many times, then the instance is failed. */
export const MAX_BATCH_RETRIES = 3;

/** The moves of `coordinate` within the window ending at `now`. */
export function recentMoves(h: History, coordinate: string, now: number): number[] {
  return (h.moves[coordinate] ?? []).filter((t) => t > now - MOVE_WINDOW_MS && t <= now);
}

/**
 * The history a plan hands on: only instances of the jobs that exist now (a job deleted or
 * scaled down is forgotten, so scaling a batch job up again runs the new indexes afresh),
 * only the window's moves, keys sorted so equal histories are equal JSON.
 */
export function pruneHistory(h: History, jobs: readonly Job[], now: number): History {
  const counts = new Map(jobs.map((j) => [j.name, j.count]));
  const wanted = (c: string) => {
    const s = splitCoordinate(c);
    return s !== undefined && s.index < (counts.get(s.job) ?? 0);
  };
  const moves: Record<string, number[]> = {};
  for (const c of Object.keys(h.moves).filter(wanted).sort()) {
    const recent = recentMoves(h, c, now).sort((a, b) => a - b);
    if (recent.length > 0) moves[c] = recent;
  }
  const batchJobs = new Set(jobs.filter((j) => j.type === 'batch').map((j) => j.name));
  const batch: Record<string, BatchRecord> = {};
  for (const c of Object.keys(h.batch).filter(wanted).sort()) {
    if (batchJobs.has(splitCoordinate(c)!.job)) batch[c] = { ...h.batch[c]! };
  }
  return { moves, batch };
}

/**
 * A history for a leader that has none (it just won the election): the batch outcomes its
 * predecessor wrote into the jobs' statuses (`jobs/<name>/status`, parsed JSON: anything that
 * is not a status is passed over), so a complete instance is not run again and a failed one
 * not retried. Move times and retry counts in flight are not in a status; they start over,
 * which allows at most a few more moves than the limit.
 */
export function historyFromStatuses(jobs: readonly Job[], statuses: readonly unknown[]): History {
  const batchJobs = new Set(jobs.filter((j) => j.type === 'batch').map((j) => j.name));
  const batch: Record<string, BatchRecord> = {};
  for (const s of statuses as Partial<JobStatus>[]) {
    if (typeof s !== 'object' || s === null || !batchJobs.has(s.job as string) || !Array.isArray(s.instances)) continue;
    for (const i of s.instances as Partial<JobInstanceStatus>[]) {
      if (typeof i !== 'object' || i === null || typeof i.coordinate !== 'string') continue;
      const node = typeof i.node === 'string' ? i.node : null;
      if (i.state === 'complete') batch[i.coordinate] = { failures: 0, outcome: 'complete', node };
      else if (i.state === 'failed') batch[i.coordinate] = { failures: MAX_BATCH_RETRIES + 1, outcome: 'failed', node };
    }
  }
  return pruneHistory({ moves: {}, batch }, jobs, 0);
}
