import { Counter, Gauge } from 'prom-client';
import type { Registry } from '../lib/metrics.js';
import type { ServiceState, Usage } from '../contract/index.js';
import type { ServiceEvents } from './events.js';

/**
 * `nodee_service_*` on the daemon's registry. Counters follow the supervisor's events (no code
 * path bumps one by hand); gauges are read when scraped: states from the runners, usage from
 * the cgroups (one shared sample, see usage.ts).
 */
export function serviceMetrics(
  registry: Registry,
  events: ServiceEvents,
  o: {
    counts: () => Record<ServiceState, number>;
    usage: () => Promise<Iterable<readonly [string, Usage]>>;
    ready: () => Iterable<readonly [string, boolean]>;
  },
): { adopted: Counter } {
  new Gauge({
    name: 'nodee_service_states',
    help: 'Supervised services by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      for (const [state, n] of Object.entries(o.counts())) this.set({ state }, n);
    },
  });
  const usageGauge = (name: string, help: string, pick: (u: Usage) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ['coordinate'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const [coordinate, u] of await o.usage()) {
          const v = pick(u);
          if (v !== null) this.set({ coordinate }, v);
        }
      },
    });
  new Gauge({
    name: 'nodee_service_ready',
    help: 'Whether the service is ready (1) or not (0): running, readiness checks passing, READY=1 when asked',
    labelNames: ['coordinate'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [coordinate, ready] of o.ready()) this.set({ coordinate }, ready ? 1 : 0);
    },
  });
  usageGauge('nodee_service_memory_bytes', 'Memory the service uses now (its cgroup)', (u) => u.memoryBytes);
  usageGauge('nodee_service_cpu_seconds_total', 'CPU time the service has used (its cgroup, since it was made)', (u) => u.cpuSeconds);
  usageGauge('nodee_service_pids', 'Processes and threads of the service now (its cgroup)', (u) => u.pids);

  const starts = new Counter({ name: 'nodee_service_starts_total', help: 'Service processes started (first starts and restarts)', registers: [registry] });
  const restarts = new Counter({ name: 'nodee_service_restarts_total', help: 'Restarts by the restart policy', registers: [registry] });
  const stops = new Counter({ name: 'nodee_service_stops_total', help: 'Service process trees stopped on request (stop, drain, restart)', registers: [registry] });
  const unhealthy = new Counter({
    name: 'nodee_service_unhealthy_total',
    help: 'Service processes nodee ended as unhealthy, by reason (liveness:<check>, watchdog)',
    labelNames: ['coordinate', 'reason'],
    registers: [registry],
  });
  const ooms = new Counter({ name: 'nodee_service_oom_kills_total', help: 'Service processes ended by the OOM killer (over resources.memoryMB)', labelNames: ['coordinate'], registers: [registry] });
  events.on('service', (e) => {
    if (e.to === 'running' && e.changed.includes('pid') && e.service.pid !== null) starts.inc();
    if (e.changed.includes('restarts')) restarts.inc();
    if (e.from === 'stopping' && e.to === 'stopped') stops.inc();
    if (e.changed.includes('lastExit') && e.service.lastExit?.oom) ooms.inc({ coordinate: e.coordinate });
    const reason = e.changed.includes('lastExit') ? e.service.lastExit?.reason : undefined;
    if (reason) unhealthy.inc({ coordinate: e.coordinate, reason });
    if (e.to === null) {
      ooms.remove({ coordinate: e.coordinate });
      unhealthy.remove({ coordinate: e.coordinate });
    }
  });
  return {
    adopted: new Counter({ name: 'nodee_service_adoptions_total', help: 'Live service processes re-adopted after a daemon restart', registers: [registry] }),
  };
}
