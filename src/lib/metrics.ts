import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per daemon (not prom-client's global one) so tests can run several
 * daemons' worth of components in one process without "metric already registered".
 * Each capability registers its own metrics on it under the `nodee_` prefix.
 */
export function createMetricsRegistry(withDefaults = true): Registry {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'nodee_' });
  return registry;
}

export type { Registry } from 'prom-client';
