import type { NodeResources, Resources } from '../contract/index.js';
import { NodeeError } from '../lib/errors.js';

/** The reservable resources, in the order a refusal names them. */
export const RESERVED = ['memoryMB', 'cpu', 'diskMB'] as const;
export type ReservedKey = (typeof RESERVED)[number];

/** Floating-point slack, so 0.1 + 0.2 cores fit into 0.3. */
const EPSILON = 1e-9;

/** The sum of reservations, each absent field counting as nothing. */
export function addUp(all: Iterable<Resources>): NodeResources {
  const sum = { memoryMB: 0, cpu: 0, diskMB: 0 };
  for (const r of all) for (const k of RESERVED) sum[k] += r[k] ?? 0;
  return sum;
}

/**
 * Admission: a service may start when its reservation fits into what the node's capacity
 * leaves after the reservations of services that run or are about to. Throws 409
 * INSUFFICIENT_RESOURCES naming each resource that is short, what is asked and what is left.
 */
/**
 * The resources `asked` does not fit into (capacity less reserved), in RESERVED order. The one
 * rule of "fits": admission on a node and placement by the fleet scheduler both use it, so
 * the scheduler never sends a node a service the node would refuse for lack of room.
 */
export function shortOf(asked: Resources, capacity: NodeResources, reserved: NodeResources): ReservedKey[] {
  return fits(asked, capacity, reserved) ? [] : RESERVED.filter((k) => (asked[k] ?? 0) > capacity[k] - reserved[k] + EPSILON);
}

// fits() names RESERVED's keys one by one: a key added to RESERVED fails the build here until fits() has it too
const FITS_CHECKS: Record<ReservedKey, true> = { memoryMB: true, cpu: true, diskMB: true };
void FITS_CHECKS;

/** shortOf(...) is empty, without making a list: the scheduler asks it millions of times a plan. */
export function fits(asked: Resources, capacity: NodeResources, reserved: NodeResources): boolean {
  // spelled out (RESERVED's three keys), not looped: a loop over the list was most of a plan's time
  return (
    (asked.memoryMB ?? 0) <= capacity.memoryMB - reserved.memoryMB + EPSILON &&
    (asked.cpu ?? 0) <= capacity.cpu - reserved.cpu + EPSILON &&
    (asked.diskMB ?? 0) <= capacity.diskMB - reserved.diskMB + EPSILON
  );
}

export function admit(coordinate: string, asked: Resources, capacity: NodeResources, reserved: NodeResources): void {
  const short = shortOf(asked, capacity, reserved).map((k) => {
    const left = Math.max(0, capacity[k] - reserved[k]);
    return `${k}: asks ${round(asked[k]!)}, ${round(left)} left of ${round(capacity[k])}`;
  });
  if (short.length > 0) throw new NodeeError('INSUFFICIENT_RESOURCES', `service ${coordinate} does not fit on this node: ${short.join('; ')}`);
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
