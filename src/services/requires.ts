/**
 * The spec's `requires`: the services of this node that must be ready before a service
 * starts. A requirement names an existing service (or one created in the same batch), and
 * the requirements never form a cycle: either would leave a service `waiting` for good,
 * so both are refused at create (400), never discovered later.
 */

/**
 * Why `coordinate` may not require `requires`, or undefined when it may. `requiresOf(c)` is
 * what service `c` requires, undefined when there is no service `c`.
 */
export function requiresProblem(
  coordinate: string,
  requires: readonly string[],
  requiresOf: (c: string) => readonly string[] | undefined,
): string | undefined {
  if (requires.includes(coordinate)) return `${coordinate} cannot require itself`;
  const unknown = requires.filter((r) => requiresOf(r) === undefined);
  if (unknown.length > 0) return `no service ${unknown.join(', ')} on this node (create ${unknown.length > 1 ? 'them' : 'it'} first, or in the same batch)`;
  const cycle = pathBack(coordinate, requires, requiresOf);
  return cycle ? `a cycle: ${[coordinate, ...cycle].join(' requires ')}` : undefined;
}

/** A chain of requirements from `requires` that leads back to `coordinate`, or undefined. */
function pathBack(coordinate: string, requires: readonly string[], requiresOf: (c: string) => readonly string[] | undefined): string[] | undefined {
  const seen = new Set<string>();
  const walk = (c: string, trail: string[]): string[] | undefined => {
    if (c === coordinate) return [...trail, c];
    if (seen.has(c)) return undefined;
    seen.add(c);
    for (const next of requiresOf(c) ?? []) {
      const found = walk(next, [...trail, c]);
      if (found) return found;
    }
    return undefined;
  };
  for (const r of requires) {
    const found = walk(r, []);
    if (found) return found;
  }
  return undefined;
}

/**
 * The specs of a batch with every service after those of the batch it requires (otherwise in
 * the order given), so a batch may list them in any order. A cycle is left in place: the
 * create of its first member refuses it by name.
 */
export function dependencyOrder<T extends { coordinate: string; requires: readonly string[] }>(specs: readonly T[]): T[] {
  const byCoordinate = new Map(specs.map((s) => [s.coordinate, s]));
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const out: T[] = [];
  const visit = (s: T): void => {
    if (placed.has(s.coordinate) || visiting.has(s.coordinate)) return;
    visiting.add(s.coordinate);
    for (const r of s.requires) {
      const dep = byCoordinate.get(r);
      if (dep) visit(dep);
    }
    visiting.delete(s.coordinate);
    placed.add(s.coordinate);
    out.push(s);
  };
  for (const s of specs) visit(s);
  return out;
}
