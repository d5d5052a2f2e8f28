import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Store } from '../store/store.js';
import type { FleetView } from '../xds/fleet-view.js';
import type { XdsTransportStats } from '../xds/xds-server.js';

/** What the publisher reports after each debounced publish (a subset of xds/publisher PublishResult). */
export interface PublishReport {
  readonly changes: number;
  readonly published: readonly unknown[];
  readonly error: unknown;
}

export interface FleetMetrics {
  /** Call after every publish attempt with how long building + publishing took. */
  recordPublish(result: PublishReport, seconds: number): void;
  /** Stops listening to the fleet and the store. */
  close(): void;
}

/** How many recent revisions keep their commit time for the commit→ACK latency. */
const COMMIT_TIMES_KEPT = 256;

/**
 * xDS metrics derived from the xDS server's fleet view and the store, so they exist whatever
 * the xDS module itself exports:
 * - `meshward_xds_connected_streams`, `meshward_xds_connected_nodes` (gauges, at scrape time);
 * - `meshward_xds_acks_total{type}`, `meshward_xds_nacks_total{type}`;
 * - `meshward_xds_commit_to_ack_seconds{type}`: from the commit of a config revision to each
 *   proxy's ACK of it (the end-to-end push latency operators care about);
 * - `meshward_xds_pushes_total{result}`, `meshward_xds_push_duration_seconds`,
 *   `meshward_xds_push_changes` (changes coalesced per push), fed by `recordPublish`;
 * - with `transport` (xds.transport h2): `meshward_xds_connections` (HTTP/2 connections on the
 *   xDS port, ADS and access log streams alike) and `meshward_xds_protocol_errors_total`
 *   (connections ended for HTTP/2 protocol errors or abuse limits), at scrape time.
 */
export function createFleetMetrics(options: { registry: Registry; fleet: FleetView; store: Store; transport?: () => XdsTransportStats | undefined }): FleetMetrics {
  const { registry, fleet, store } = options;
  const transport = options.transport;
  if (transport !== undefined) {
    new Gauge({
      name: 'meshward_xds_connections',
      help: 'HTTP/2 connections on the xDS port (ADS and access log streams; h2 transport).',
      registers: [registry],
      collect() {
        const c = transport()?.connections;
        if (c !== undefined) this.set(c);
      },
    });
    let counted = 0;
    new Counter({
      name: 'meshward_xds_protocol_errors_total',
      help: 'xDS-port connections ended for HTTP/2 protocol errors or abuse limits (h2 transport).',
      registers: [registry],
      collect() {
        const e = transport()?.protocolErrors;
        if (e !== undefined && e > counted) {
          this.inc(e - counted);
          counted = e;
        }
      },
    });
  }
  new Gauge({
    name: 'meshward_xds_connected_streams',
    help: 'Open ADS streams.',
    registers: [registry],
    collect() {
      this.set(fleet.size);
    },
  });
  new Gauge({
    name: 'meshward_xds_connected_nodes',
    help: 'Distinct node ids with at least one open ADS stream.',
    registers: [registry],
    collect() {
      this.set(new Set(fleet.streams().map((s) => s.nodeId)).size);
    },
  });
  const acks = new Counter({ name: 'meshward_xds_acks_total', help: 'ACKs received, by xDS type.', labelNames: ['type'] as const, registers: [registry] });
  const nacks = new Counter({ name: 'meshward_xds_nacks_total', help: 'NACKs received, by xDS type.', labelNames: ['type'] as const, registers: [registry] });
  const ackLatency = new Histogram({
    name: 'meshward_xds_commit_to_ack_seconds',
    help: 'Time from the commit of a config revision to a proxy ACKing it, by xDS type.',
    labelNames: ['type'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const pushes = new Counter({ name: 'meshward_xds_pushes_total', help: 'Debounced publishes, by result.', labelNames: ['result'] as const, registers: [registry] });
  const pushDuration = new Histogram({
    name: 'meshward_xds_push_duration_seconds',
    help: 'Time to build, check and publish the snapshots of one push.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const pushChanges = new Histogram({
    name: 'meshward_xds_push_changes',
    help: 'Store commits coalesced into one push.',
    buckets: [1, 2, 5, 10, 20, 50, 100],
    registers: [registry],
  });

  const committedAt = new Map<number, number>();
  const offStore = store.onChange((e) => {
    committedAt.set(e.revision, performance.now());
    if (committedAt.size > COMMIT_TIMES_KEPT) committedAt.delete(committedAt.keys().next().value as number);
  });
  const typeOf = (typeUrl: string): string => typeUrl.slice(typeUrl.lastIndexOf('.') + 1);
  const onAck = (e: { typeUrl: string; version: string; at: number }): void => {
    const type = typeOf(e.typeUrl);
    acks.inc({ type });
    const m = /^(\d+)(?:\.|$)/.exec(e.version);
    const at = m === null ? undefined : committedAt.get(Number(m[1]));
    if (at !== undefined && e.at >= at) ackLatency.observe({ type }, (e.at - at) / 1000);
  };
  const onNack = (e: { typeUrl: string }): void => {
    nacks.inc({ type: typeOf(e.typeUrl) });
  };
  fleet.on('ack', onAck);
  fleet.on('nack', onNack);

  return {
    recordPublish(result, seconds) {
      pushes.inc({ result: result.error === undefined || result.error === null ? 'published' : 'refused' });
      pushDuration.observe(seconds);
      if (result.changes > 0) pushChanges.observe(result.changes);
    },
    close() {
      offStore();
      fleet.off('ack', onAck);
      fleet.off('nack', onNack);
    },
  };
}
