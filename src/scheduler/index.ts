export { LeaderElection, type LeaderElectionOptions } from './election.js';
export { NotLeaderError } from './fence.js';
export { CANDIDATE_PREFIX, sequenceOf, sortCandidates, standingOf, type Standing } from './candidates.js';
