import { EventEmitter } from 'node:events';
import { SHORT_NAME, type TypeUrl } from './type-urls.js';
import type { StreamIdentity } from './stream-auth.js';

/** The last NACK of one type on one stream: the error_detail the client sent, and when. */
export interface NackRecord {
  /** version_info of the response that was rejected (what the server sent under that nonce). */
  readonly version: string;
  readonly nonce: string;
  /** google.rpc.Status code and message from the request's error_detail. */
  readonly code: number;
  readonly message: string;
  readonly at: Date;
}

/** Per-type xDS state of one stream. */
export interface TypeStatus {
  readonly typeUrl: TypeUrl;
  /** `*` for a wildcard subscription, otherwise the subscribed names (sorted). */
  readonly subscribed: readonly string[];
  readonly sentVersion: string | undefined;
  readonly sentAt: Date | undefined;
  /** Last version the client ACKed (or, after a reconnect, claimed in its first request). */
  readonly ackedVersion: string | undefined;
  readonly ackedAt: Date | undefined;
  readonly lastNack: NackRecord | undefined;
}

/** One connected ADS stream, as shown to operators. A read-only copy, taken when asked. */
export interface StreamStatus {
  readonly streamId: number;
  readonly protocol: 'sotw' | 'delta';
  /** Empty until the first request arrives. */
  readonly nodeId: string;
  readonly cluster: string;
  readonly group: string;
  readonly identity: StreamIdentity | undefined;
  readonly peer: string;
  readonly connectedSince: Date;
  readonly lastSeen: Date;
  /** Requests ignored because their nonce was stale or never sent. */
  readonly staleRequests: number;
  /** Requests for typeUrls this server does not serve (ignored). */
  readonly unknownTypeRequests: number;
  /** Keyed by short type name: LDS, RDS, CDS, EDS, SDS, ECDS. */
  readonly types: Readonly<Record<string, TypeStatus>>;
}

/** Emitted when a stream ACKs a response; `at` is `performance.now()` in ms (for latency figures). */
export interface AckEvent {
  readonly streamId: number;
  readonly nodeId: string;
  readonly group: string;
  readonly typeUrl: TypeUrl;
  readonly version: string;
  readonly at: number;
}
export interface NackEvent extends AckEvent {
  readonly code: number;
  readonly message: string;
}

export interface FleetEvents {
  connect: [StreamStatus];
  disconnect: [StreamStatus];
  ack: [AckEvent];
  nack: [NackEvent];
}

/** Read-only view of the connected fleet, for the REST API and metrics. */
export interface FleetView {
  /** Number of open streams. */
  readonly size: number;
  streams(): StreamStatus[];
  /** All streams of a node id (an Envoy may hold more than one during a reconnect). */
  byNode(nodeId: string): StreamStatus[];
  on<E extends keyof FleetEvents>(event: E, listener: (...args: FleetEvents[E]) => void): this;
  off<E extends keyof FleetEvents>(event: E, listener: (...args: FleetEvents[E]) => void): this;
}

/** Mutable per-type bookkeeping kept by a stream (small on purpose: 10k+ streams). */
export interface TypeRecord {
  subscribed: readonly string[];
  sentVersion: string | undefined;
  sentAt: number;
  ackedVersion: string | undefined;
  ackedAt: number;
  lastNack: NackRecord | undefined;
}

/** Mutable per-stream bookkeeping, owned by the stream; the registry only reads it. */
export interface StreamRecord {
  readonly streamId: number;
  readonly protocol: 'sotw' | 'delta';
  readonly peer: string;
  readonly connectedSince: number;
  nodeId: string;
  cluster: string;
  group: string;
  identity: StreamIdentity | undefined;
  lastSeen: number;
  types: Map<TypeUrl, TypeRecord>;
  /** Requests ignored because their nonce was stale or never sent. */
  staleRequests: number;
  /** Requests for typeUrls this server does not serve (ignored). */
  unknownTypeRequests: number;
}

/** The server's side of the fleet view: streams register and report; operators read the view. */
export interface FleetRegistry {
  readonly view: FleetView;
  add(record: StreamRecord): void;
  remove(record: StreamRecord): void;
  typeRecord(record: StreamRecord, typeUrl: TypeUrl): TypeRecord;
  ack(record: StreamRecord, typeUrl: TypeUrl, version: string): void;
  nack(record: StreamRecord, typeUrl: TypeUrl, nack: NackRecord): void;
}

function date(ms: number): Date | undefined {
  return ms === 0 ? undefined : new Date(ms);
}

function statusOf(r: StreamRecord): StreamStatus {
  const types: Record<string, TypeStatus> = {};
  for (const [typeUrl, t] of r.types) {
    types[SHORT_NAME[typeUrl]] = Object.freeze({
      typeUrl,
      subscribed: [...t.subscribed],
      sentVersion: t.sentVersion,
      sentAt: date(t.sentAt),
      ackedVersion: t.ackedVersion,
      ackedAt: date(t.ackedAt),
      lastNack: t.lastNack,
    });
  }
  return Object.freeze({
    streamId: r.streamId,
    protocol: r.protocol,
    nodeId: r.nodeId,
    cluster: r.cluster,
    group: r.group,
    identity: r.identity,
    peer: r.peer,
    connectedSince: new Date(r.connectedSince),
    lastSeen: new Date(r.lastSeen),
    staleRequests: r.staleRequests,
    unknownTypeRequests: r.unknownTypeRequests,
    types: Object.freeze(types),
  });
}

export function createFleetRegistry(): FleetRegistry {
  const records = new Set<StreamRecord>();
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const view: FleetView = {
    get size() {
      return records.size;
    },
    streams() {
      return [...records].map(statusOf);
    },
    byNode(nodeId) {
      return [...records].filter((r) => r.nodeId === nodeId).map(statusOf);
    },
    on(event, listener) {
      emitter.on(event, listener as (...args: unknown[]) => void);
      return view;
    },
    off(event, listener) {
      emitter.off(event, listener as (...args: unknown[]) => void);
      return view;
    },
  };
  return {
    view,
    add(record) {
      records.add(record);
      if (emitter.listenerCount('connect') > 0) emitter.emit('connect', statusOf(record));
    },
    remove(record) {
      if (!records.delete(record)) return;
      if (emitter.listenerCount('disconnect') > 0) emitter.emit('disconnect', statusOf(record));
    },
    typeRecord(record, typeUrl) {
      let t = record.types.get(typeUrl);
      if (t === undefined) {
        t = { subscribed: [], sentVersion: undefined, sentAt: 0, ackedVersion: undefined, ackedAt: 0, lastNack: undefined };
        record.types.set(typeUrl, t);
      }
      return t;
    },
    ack(record, typeUrl, version) {
      const t = this.typeRecord(record, typeUrl);
      t.ackedVersion = version;
      t.ackedAt = Date.now();
      if (emitter.listenerCount('ack') > 0) {
        emitter.emit('ack', { streamId: record.streamId, nodeId: record.nodeId, group: record.group, typeUrl, version, at: performance.now() } satisfies AckEvent);
      }
    },
    nack(record, typeUrl, nack) {
      const t = this.typeRecord(record, typeUrl);
      t.lastNack = nack;
      if (emitter.listenerCount('nack') > 0) {
        emitter.emit('nack', {
          streamId: record.streamId,
          nodeId: record.nodeId,
          group: record.group,
          typeUrl,
          version: nack.version,
          code: nack.code,
          message: nack.message,
          at: performance.now(),
        } satisfies NackEvent);
      }
    },
  };
}
