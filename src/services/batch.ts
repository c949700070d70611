import type { Service } from '../contract/index.js';
import { NodeeError, messageOf } from '../lib/errors.js';
import { dependencyOrder } from './requires.js';
import { parseSpec, type ParsedSpec } from './spec.js';

/** Most services one POST may create, and how many of them are created at once. */
const MAX_BATCH = 1000;
const BATCH_WIDTH = 8;

/**
 * Many services in one request (`{"services": [spec, ...]}`), as a deployment script
 * would POST them one by one, minus the round trips. Every spec is validated first, so a
 * bad one starts nothing (400 naming `services[i]`). Then they are created a few at a
 * time by `create` (the supervisor's single create), each after those of the batch it
 * requires; after the first failure no new one is begun. The services created are kept (they run) and returned with the failure, so the
 * caller knows exactly what exists.
 */
export async function createBatch(
  inputs: unknown,
  create: (spec: ParsedSpec, peers: ReadonlyMap<string, readonly string[]>) => Promise<Service>,
): Promise<{ services: Service[]; failure?: NodeeError }> {
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > MAX_BATCH) {
    throw new NodeeError('BAD_REQUEST', `services: must be a list of 1 to ${MAX_BATCH} ServiceSpecs`);
  }
  const specs = inputs.map((input, i) => {
    try {
      return parseSpec(input);
    } catch (err) {
      throw new NodeeError('BAD_REQUEST', `services[${i}]: ${messageOf(err)}`);
    }
  });
  const seen = new Set<string>();
  for (const [i, s] of specs.entries()) {
    if (seen.has(s.coordinate)) throw new NodeeError('BAD_REQUEST', `services[${i}]: coordinate ${s.coordinate} is given twice`);
    seen.add(s.coordinate);
  }
  // a spec may require another of the batch, listed anywhere in it: create those first
  const peers = new Map(specs.map((s) => [s.coordinate, s.requires]));
  const position = new Map(specs.map((s, i) => [s, i]));
  const queue = dependencyOrder(specs);
  const created: (Service | undefined)[] = [];
  let failure: NodeeError | undefined;
  let next = 0;
  const worker = async () => {
    while (next < queue.length && !failure) {
      const spec = queue[next++]!;
      const i = position.get(spec)!;
      try {
        created[i] = await create(spec, peers);
      } catch (err) {
        const e = err instanceof NodeeError ? err : new NodeeError('INTERNAL', messageOf(err));
        failure ??= new NodeeError(e.code, `services[${i}] (${spec.coordinate}): ${e.message}`, { cause: err });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_WIDTH, specs.length) }, worker));
  const services = created.filter((s): s is Service => s !== undefined);
  return failure ? { services, failure } : { services };
}
