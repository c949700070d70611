import type { Service } from '../contract/index.js';
import { NodeeError, messageOf } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { awaitService, type ServiceEvents, type ServiceWait } from './events.js';
import { describe } from './policy.js';
import type { ServiceRunner } from './runner.js';
import type { ServiceSpec } from './spec.js';
import { AT_REST } from './state.js';

/**
 * POST /upgrade (contract: "Health checks, readiness, dependencies, upgrades"): stop the
 * service, run it on `spec` (another artifact; the same runtime dir, ports and everything
 * else) and wait up to `timeoutMs` for it to be ready. If it does not start, or is not ready
 * in time, it is stopped and put back on the spec it had, running again only if it ran
 * before, and this throws UPGRADE_ROLLED_BACK saying why. The runtime dir is never touched:
 * whatever the new version wrote there stays, as after any restart.
 */
export async function upgradeService(runner: ServiceRunner, spec: ServiceSpec, timeoutMs: number, o: { events: ServiceEvents; log: Logger }): Promise<Service> {
  const before = runner.spec;
  const wasRunning = runner.isRunning;
  let wait: ServiceWait<string | null> | undefined;
  let why: string | null;
  try {
    await runner.stop();
    await runner.respec(spec);
    // watched from here: the old version's stop is not the new one's failure
    wait = untilReady(o.events, runner.coordinate, timeoutMs);
    await runner.start();
    why = await wait.result;
  } catch (err) {
    why = `did not start (${messageOf(err)})`;
  } finally {
    wait?.cancel();
  }
  if (why === null) return runner.view();
  o.log.warn({ coordinate: runner.coordinate, artifact: spec.artifact, why }, `upgrade rolled back to ${before.artifact}`);
  await runner.stop();
  await runner.respec(before);
  if (wasRunning) await runner.start();
  throw new NodeeError('UPGRADE_ROLLED_BACK', `${spec.artifact} ${why}: ${runner.coordinate} is back on ${before.artifact}`);
}

/** Resolves null once the service is ready, else why not: back at rest after a start, removed, or not ready in time. */
function untilReady(events: ServiceEvents, coordinate: string, timeoutMs: number): ServiceWait<string | null> {
  // at rest when this begins (the old version stopped): only a return to rest after a start is a failure
  let started = false;
  return awaitService<string | null>(
    events,
    coordinate,
    (e) => {
      if (e.to !== null && !AT_REST.includes(e.to)) started = true;
      if (e.service.ready) return null;
      if (e.to === null) return 'was removed before it was ready';
      if (started && AT_REST.includes(e.to)) return `${e.to} before it was ready${e.service.lastExit ? ` (${describe(e.service.lastExit)})` : ''}`;
      return undefined;
    },
    timeoutMs,
    () => `was not ready within ${Math.round(timeoutMs / 100) / 10} s`,
  );
}
