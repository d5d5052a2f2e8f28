/**
 * Prometheus metrics only the controller knows (the API's fleet metrics cover streams, ACKs,
 * NACKs, pushes and commit→ACK latency; api/fleet-metrics.ts):
 * - `meshward_xds_published_revision`: store revision of the latest successful publish;
 * - `meshward_xds_groups_failing`: node groups whose latest build failed (previous snapshot serving);
 * - `meshward_xds_change_to_publish_seconds`: first committed change of a burst → its snapshots in
 *   the cache (the debounce plus the build).
 *
 * Lifecycle: `createControllerMetrics()` registers them; `attach(store)` starts timing bursts and
 * returns its unsubscribe; `onPublish` goes into the controller's `onPublish`.
 */
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Store } from '../store/store.js';
import type { PublishResult } from '../xds/publisher.js';
import type { ControllerStatus } from './controller.js';

export interface ControllerMetrics {
  attach(store: Store): () => void;
  onPublish(result: PublishResult, status: ControllerStatus): void;
}

export function createControllerMetrics(registry: Registry, now: () => number = () => performance.now()): ControllerMetrics {
  const published = new Gauge({ name: 'meshward_xds_published_revision', help: 'Store revision of the latest successful publish.', registers: [registry] });
  const failing = new Gauge({ name: 'meshward_xds_groups_failing', help: 'Node groups whose latest build failed (their previous snapshot keeps serving).', registers: [registry] });
  const changeToPublish = new Histogram({
    name: 'meshward_xds_change_to_publish_seconds',
    help: 'Time from the first committed change of a burst to its snapshots being in the cache.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [registry],
  });
  let burstStart: number | undefined;
  return {
    attach(store) {
      return store.onChange(() => {
        burstStart ??= now();
      });
    },
    onPublish(result, status) {
      if (result.error === undefined) {
        if (status.publishedRevision !== undefined) published.set(status.publishedRevision);
        if (burstStart !== undefined && result.changes > 0) changeToPublish.observe((now() - burstStart) / 1000);
      }
      if (result.changes > 0) burstStart = undefined;
      failing.set(status.groups.filter((g) => g.error !== undefined).length);
    },
  };
}
