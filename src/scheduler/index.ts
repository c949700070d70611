/**
 * Fleet scheduling over ZooKeeper (contract: "Fleet scheduling over ZooKeeper"; docs/scheduler.md,
 * docs/scheduler-zookeeper.md), split as Helix splits it: the pure planner (plan(): the whole
 * cell in, the assignments to write and the job statuses out), the leader election with fenced
 * writes, the leader loop that feeds the one into the other, and the node side (the reconciler)
 * that converges each node to its assignments.
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
export { LeaderElection, type LeaderElectionOptions } from './election.js';
export { NotLeaderError } from './fence.js';
export { CANDIDATE_PREFIX, sequenceOf, sortCandidates, standingOf, type Standing } from './candidates.js';
export { Reconciler, type NodeOps, type ReconcilerOptions } from './reconciler.js';
export { SchedulerLeader, type SchedulerLeaderOptions } from './leader.js';
export { ClusterView, cellPathOf, decodeJob, jobNameProblem, nodeJson, parseJobStatus, type ClusterViewOptions, type Endpoint, type JobEntry } from './cluster-view.js';
export { JobWriter, type JobWriterOptions, type RunOutcome, type StopOutcome } from './job-writer.js';
export { clusterRoutes } from './routes.js';
