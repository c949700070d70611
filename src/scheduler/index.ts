/**
 * The fleet scheduler's brain (contract: "Fleet scheduling over ZooKeeper"; docs/scheduler.md):
 * jobs and assignments parsed, and plan(), the pure function from the cell to what the
 * leader writes. No ZooKeeper and no clock here: the leader loop feeds plan() and writes
 * its answer.
 */
export { parseJob, parseAssignment, decodeZnode, assignmentFor, instanceCoordinate, splitCoordinate, MAX_COUNT } from './job.js';
export { plan, type CellView, type Observed, type Plan } from './plan.js';
export type { NodeView } from './nodes.js';
export {
  EMPTY_HISTORY,
  historyFromStatuses,
  MAX_BATCH_RETRIES,
  MAX_MOVES,
  MOVE_WINDOW_MS,
  type BatchRecord,
  type History,
} from './history.js';
