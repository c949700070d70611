import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from '../lib/metrics.js';

/** The store's Prometheus series, all under `nodee_artifact_`. */
export class ArtifactMetrics {
  readonly installs: Counter<'result'>;
  readonly failures: Counter<'code'>;
  readonly downloadedBytes: Counter;
  readonly unpackedBytes: Counter;
  readonly duration: Histogram<'phase'>;
  readonly removals: Counter;
  readonly installed: Gauge;
  readonly installing: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.installs = new Counter({
      name: 'nodee_artifact_installs_total',
      help: 'Artifact installs finished, by result (installed, failed)',
      labelNames: ['result'],
      registers,
    });
    this.failures = new Counter({
      name: 'nodee_artifact_install_failures_total',
      help: 'Failed artifact installs by error code',
      labelNames: ['code'],
      registers,
    });
    this.downloadedBytes = new Counter({ name: 'nodee_artifact_downloaded_bytes_total', help: 'Archive bytes downloaded', registers });
    this.unpackedBytes = new Counter({ name: 'nodee_artifact_unpacked_bytes_total', help: 'Bytes written by unpacking', registers });
    this.duration = new Histogram({
      name: 'nodee_artifact_install_duration_seconds',
      help: 'Time spent installing artifacts, by phase (download, unpack, total)',
      labelNames: ['phase'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.removals = new Counter({ name: 'nodee_artifact_removals_total', help: 'Artifacts removed', registers });
    this.installed = new Gauge({ name: 'nodee_artifact_installed', help: 'Artifacts installed', registers });
    this.installing = new Gauge({ name: 'nodee_artifact_installing', help: 'Artifact installs in progress', registers });
  }
}
