import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per daemon (not prom-client's global one) so tests can run several
 * daemons' worth of components in one process without "metric already registered".
 * Each capability registers its own metrics on it under the `nodee_` prefix.
 */
export function createMetricsRegistry(withDefaults = true): Registry {
  const registry = new Registry();
  // the event-loop delay histogram samples on a libuv timer, 10 ms by default: 100 wake-ups
  // a second cost an idle daemon ~0.8 % of a core here; 200 ms keeps the metric for 0.1 %
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'nodee_', eventLoopMonitoringPrecision: 200 });
  return registry;
}

export type { Registry } from 'prom-client';
