import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../store/store.js';

/**
 * The REST API's own Prometheus metrics. Registered on a registry the app owns (not prom-client's
 * global one), so several apps (tests) can live in one process. Other modules (xDS, CA) keep their
 * own registries; /metrics concatenates them (see ApiOptions.metricsRegistries).
 */
export interface ApiMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route'>;
  readonly commits: Counter<'kind' | 'op'>;
  readonly authFailures: Counter<'reason'>;
}

export function createApiMetrics(store: Store, registry: Registry = new Registry()): ApiMetrics {
  const requests = new Counter({
    name: 'meshward_api_requests_total',
    help: 'REST API requests by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'meshward_api_request_duration_seconds',
    help: 'REST API request latency by method and route template.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const commits = new Counter({
    name: 'meshward_config_changes_total',
    help: 'Accepted configuration changes by resource kind and operation.',
    labelNames: ['kind', 'op'] as const,
    registers: [registry],
  });
  const authFailures = new Counter({
    name: 'meshward_api_auth_failures_total',
    help: 'Requests refused for authentication or authorization, by reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'meshward_config_revision',
    help: 'Current configuration revision of the store (the version pushed to the fleet).',
    registers: [registry],
    collect() {
      try {
        this.set(store.revision);
      } catch {
        // store closed: leave the last value
      }
    },
  });
  return { registry, requests, duration, commits, authFailures };
}
