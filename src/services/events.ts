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
