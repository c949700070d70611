import { EventEmitter } from 'node:events';
import type { Service, ServiceState } from '../contract/index.js';
import type { RecordPatch } from './state.js';

/**
 * One committed change of one service: what metrics, the API's caches and the ZooKeeper
 * record listen to. `from` is null when the service was just created, `to` null when it was
 * removed; `changed` names the record fields the commit wrote besides the state.
 */
export interface ServiceEvent {
  coordinate: string;
  from: ServiceState | null;
  to: ServiceState | null;
  changed: readonly RecordChange[];
  /** The service after the change (before it, for a removal), env masked. */
  service: Service;
}

/** A field a commit changed: one the patch wrote, `ready` (derived, when it flipped) or `spec` (an upgrade). */
export type RecordChange = keyof RecordPatch | 'ready' | 'spec';

/** Node-wide events of the supervisor: `service` per committed change, `node` when the node drains or undrains. */
interface SupervisorEvents {
  service: [ServiceEvent];
  node: [{ state: 'active' | 'draining' }];
}

/** A typed EventEmitter: listeners get exactly the payload the event names. */
export class ServiceEvents extends EventEmitter<SupervisorEvents> {}

/** A wait for one service's events, and the way to give it up. */
export interface ServiceWait<T> {
  result: Promise<T>;
  cancel(): void;
}

/**
 * Waits for the first committed change of `coordinate` that `decide` answers (anything but
 * undefined), or `timeoutMs`, which resolves `onTimeout()`. `cancel` stops listening (the
 * result then never settles): nothing is left on the emitter either way.
 */
export function awaitService<T>(
  events: ServiceEvents,
  coordinate: string,
  decide: (e: ServiceEvent) => T | undefined,
  timeoutMs: number,
  onTimeout: () => T,
): ServiceWait<T> {
  let cancel = (): void => undefined;
  const result = new Promise<T>((resolve) => {
    const finish = (value: T): void => {
      cancel();
      resolve(value);
    };
    const onEvent = (e: ServiceEvent): void => {
      if (e.coordinate !== coordinate) return;
      const value = decide(e);
      if (value !== undefined) finish(value);
    };
    const timer = setTimeout(() => finish(onTimeout()), timeoutMs);
    cancel = () => {
      clearTimeout(timer);
      events.off('service', onEvent);
    };
    events.on('service', onEvent);
  });
  return { result, cancel: () => cancel() };
}
