/**
 * Prometheus metrics of the path from a committed change to the fleet: publishes (and refusals),
 * change-to-publish latency, publish-to-ACK latency per stream, connected streams, NACKs, and
 * groups that cannot be built. Registered in the caller's registry (served by the API's /metrics).
 *
 * Lifecycle: `createXdsMetrics()` registers the metrics; `attach()` subscribes to the store and the
 * fleet and returns the function that unsubscribes; `onPublish` is passed (or chained) into the
 * controller's `onPublish`.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Store } from '../store/store.js';
import type { AckEvent, FleetView, NackEvent } from '../xds/fleet-view.js';
import type { PublishResult } from '../xds/publisher.js';
import { SHORT_NAME } from '../xds/type-urls.js';
import type { ControllerStatus } from './controller.js';

export interface XdsMetrics {
  attach(sources: { readonly store: Store; readonly fleet: FleetView }): () => void;
  onPublish(result: PublishResult, status: ControllerStatus): void;
}

/** Publish → ACK latencies are tracked for this many recent (group, version) publishes. */
const TRACKED_PUBLISHES = 1024;

export function createXdsMetrics(registry: Registry, now: () => number = () => performance.now()): XdsMetrics {
  const publishes = new Counter({
    name: 'meshward_xds_publishes_total',
    help: 'Debounced snapshot publishes, by outcome (published, refused).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const changeToPublish = new Histogram({
    name: 'meshward_xds_change_to_publish_seconds',
    help: 'Time from the first committed change of a burst to its snapshots being in the cache.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [registry],
  });
  const publishToAck = new Histogram({
    name: 'meshward_xds_publish_to_ack_seconds',
    help: 'Time from a snapshot being published to a stream ACKing it, per stream and type.',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [registry],
  });
  const nacks = new Counter({ name: 'meshward_xds_nacks_total', help: 'NACKs received, by xDS type.', labelNames: ['type'] as const, registers: [registry] });
  const published = new Gauge({ name: 'meshward_xds_published_revision', help: 'Store revision of the latest successful publish.', registers: [registry] });
  const failing = new Gauge({ name: 'meshward_xds_groups_failing', help: 'Node groups whose latest build failed (their previous snapshot keeps serving).', registers: [registry] });
  let fleetRef: FleetView | undefined;
  new Gauge({
    name: 'meshward_xds_connected_streams',
    help: 'Open ADS streams.',
    registers: [registry],
    collect() {
      this.set(fleetRef?.size ?? 0);
    },
  });

  let burstStart: number | undefined;
  /** `${group}\0${version}` → publish time. */
  const publishedAt = new Map<string, number>();

  return {
    attach({ store, fleet }) {
      fleetRef = fleet;
      const offStore = store.onChange(() => {
        burstStart ??= now();
      });
      const onAck = (e: AckEvent): void => {
        const t = publishedAt.get(`${e.group}\u0000${e.version}`);
        if (t !== undefined && e.at >= t) publishToAck.observe((e.at - t) / 1000);
      };
      const onNack = (e: NackEvent): void => nacks.inc({ type: SHORT_NAME[e.typeUrl] });
      fleet.on('ack', onAck);
      fleet.on('nack', onNack);
      return () => {
        offStore();
        fleet.off('ack', onAck);
        fleet.off('nack', onNack);
        fleetRef = undefined;
      };
    },
    onPublish(result, status) {
      const t = now();
      if (result.error !== undefined) publishes.inc({ outcome: 'refused' });
      else {
        publishes.inc({ outcome: 'published' });
        if (status.publishedRevision !== undefined) published.set(status.publishedRevision);
        if (burstStart !== undefined && result.changes > 0) changeToPublish.observe((t - burstStart) / 1000);
        for (const p of result.published) {
          publishedAt.set(`${p.group}\u0000${p.version}`, t);
          if (publishedAt.size > TRACKED_PUBLISHES) publishedAt.delete(publishedAt.keys().next().value!);
        }
      }
      if (result.changes > 0) burstStart = undefined;
      failing.set(status.groups.filter((g) => g.error !== undefined).length);
    },
  };
}
