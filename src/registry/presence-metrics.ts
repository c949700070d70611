import { Counter, Gauge, type Registry } from 'prom-client';
import type { ZkState } from './zk-client.js';

/** The `nodee_zk_*` metrics. */
export class PresenceMetrics {
  readonly reconnects: Counter;
  readonly expiries: Counter;
  readonly writes: Counter<'op'>;
  readonly errors: Counter;
  private readonly state: Gauge<'state'>;
  private readonly conflict: Gauge;
  private readonly recordBytes: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.reconnects = new Counter({ name: 'nodee_zk_reconnects_total', help: 'Connections regained after a loss', registers });
    this.expiries = new Counter({ name: 'nodee_zk_session_expiries_total', help: 'ZooKeeper sessions lost (reported by the server or detected while cut off)', registers });
    this.writes = new Counter({ name: 'nodee_zk_writes_total', help: 'Writes to the presence node, by operation (create, set, delete)', labelNames: ['op'], registers });
    this.errors = new Counter({ name: 'nodee_zk_errors_total', help: 'Failed attempts to bring the presence node up to date (retried)', registers });
    this.state = new Gauge({ name: 'nodee_zk_state', help: '1 for the current ZooKeeper connection state', labelNames: ['state'], registers });
    this.conflict = new Gauge({ name: 'nodee_zk_conflict', help: '1 while another session holds our node path', registers });
    this.recordBytes = new Gauge({ name: 'nodee_zk_record_bytes', help: 'Size of the last record given to the presence node', registers });
  }

  setState(state: ZkState): void {
    for (const s of ['connecting', 'connected', 'disconnected'] as const) this.state.set({ state: s }, s === state ? 1 : 0);
  }

  setConflict(on: boolean): void {
    this.conflict.set(on ? 1 : 0);
  }

  setRecordBytes(n: number): void {
    this.recordBytes.set(n);
  }
}
