/**
 * The fleet scheduler's brain (contract: "Fleet scheduling over ZooKeeper"; docs/scheduler.md):
 * jobs and assignments parsed, and plan(), the pure function from the cell to what the
 * leader writes. No ZooKeeper and no clock here: the leader loop feeds plan() and writes
 * its answer.
 */
export { parseJob, parseAssignment, decodeZnode, assignmentFor, instanceCoordinate, splitCoordinate, MAX_COUNT } from './job.js';
