import { Counter, Gauge } from 'prom-client';
import type { Registry } from '../lib/metrics.js';
import type { ServiceState } from '../contract/index.js';

export interface ServiceMetrics {
  starts: Counter;
  restarts: Counter;
  stops: Counter;
  adopted: Counter;
}

/** `nodee_service_*` on the daemon's registry; the by-state gauge is read when scraped. */
export function serviceMetrics(registry: Registry, counts: () => Record<ServiceState, number>): ServiceMetrics {
  new Gauge({
    name: 'nodee_service_states',
    help: 'Supervised services by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      for (const [state, n] of Object.entries(counts())) this.set({ state }, n);
    },
  });
  return {
    starts: new Counter({ name: 'nodee_service_starts_total', help: 'Service processes started (first starts and restarts)', registers: [registry] }),
    restarts: new Counter({ name: 'nodee_service_restarts_total', help: 'Restarts by the restart policy', registers: [registry] }),
    stops: new Counter({ name: 'nodee_service_stops_total', help: 'Service process trees stopped on request (stop, drain, restart)', registers: [registry] }),
    adopted: new Counter({ name: 'nodee_service_adoptions_total', help: 'Live service processes re-adopted after a daemon restart', registers: [registry] }),
  };
}
