/**
 * The order of the candidates of the election: what `scheduler/election/` holds, read as
 * ZooKeeper's recipe reads it. Pure, so the rules are tested without a server.
 */

/** The name prefix of a candidate's node; ZooKeeper appends a 10-digit sequence number. */
export const CANDIDATE_PREFIX = 'n_';

/**
 * The sequence number ZooKeeper appended to a child's name, or undefined for a name that is
 * not a candidate's (anything else someone put there is ignored, never trusted or fatal).
 * Past 2^31 creates ZooKeeper's counter wraps to negative numbers: such names are ignored too.
 */
export function sequenceOf(name: string): number | undefined {
  const m = /^n_(\d{10})$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The candidates among `children`, lowest sequence (the leader) first. */
export function sortCandidates(children: readonly string[]): string[] {
  return children
    .flatMap((name) => {
      const seq = sequenceOf(name);
      return seq === undefined ? [] : [{ name, seq }];
    })
    .sort((a, b) => a.seq - b.seq)
    .map((c) => c.name);
}

/** Where `ours` stands: the leader's name, and the one just ahead of us (none when we lead). */
export interface Standing {
  leader: string;
  predecessor: string | undefined;
  /** Candidates ahead of us, leader first. */
  ahead: string[];
}

/** Our standing among `children`, or undefined when our node is not among them (it is gone). */
export function standingOf(children: readonly string[], ours: string): Standing | undefined {
  const sorted = sortCandidates(children);
  const index = sorted.indexOf(ours);
  if (index < 0) return undefined;
  return { leader: sorted[0] as string, predecessor: sorted[index - 1], ahead: sorted.slice(0, index) };
}
