/**
 * Envoy's gRPC Access Log Service (envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs)
 * on @grpc/grpc-js, with protobuf-es codecs. Envoys reach it through the bootstrap's static
 * cluster `meshward_als`; the listeners translate/ generates log every HTTP request to it.
 *
 * Contract:
 * - One client stream per Envoy (per worker, as Envoy opens them). The first message carries the
 *   identifier (node, log name); later ones only batches of `http_logs` (or `tcp_logs`). A batch of
 *   another log name than `logName` (when set) is counted and ignored.
 * - Each message is decoded once, straight from the wire to AccessRecords (fast-decode.ts, which
 *   reads what decode-entry.ts reads from the generated types), and handed to the
 *   bounded {@link IngestQueue}; when the queue is under pressure every stream is paused (HTTP/2
 *   flow control pushes back on the Envoys, whose own buffers then drop and count — Envoy's
 *   `buffer_size_bytes`), and what still arrives while it is full is dropped and counted.
 * - A message that does not decode ends that stream with INVALID_ARGUMENT (Envoy reconnects); other
 *   streams are not affected. When the client half-closes, the call completes with an empty
 *   StreamAccessLogsResponse, as Envoy expects.
 * - Lifecycle: `listen()` binds its own server (port 0 = ephemeral) and resolves the port, or
 *   `addTo()` registers the service on a server the caller owns (the ADS one: same port);
 *   `close()` ends every ALS stream, stops its own server if any, and the queue.
 * - Metrics (prom-client, on the given registry): entries received/dropped, streams, malformed
 *   messages, unparseable summaries, queue depth, paused state.
 */
import type { PeerCertificate } from 'node:tls';
import { toBinary, create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { Counter, Gauge, Registry } from 'prom-client';
import { StreamAccessLogsResponseSchema } from '../gen/envoy/service/accesslog/v3/als_pb.js';
import type { AccessRecord } from './access-record.js';
import type { DecodeCounters } from './decode-entry.js';
import { decodeAccessLogsMessage, type StreamIdentity } from './fast-decode.js';
import { createIngestQueue, type IngestQueue, type IngestQueueStats } from './ingest-queue.js';

export const ALS_SERVICE = 'envoy.service.accesslog.v3.AccessLogService';
export const ALS_METHOD_PATH = `/${ALS_SERVICE}/StreamAccessLogs`;

const EMPTY_RESPONSE = Buffer.from(toBinary(StreamAccessLogsResponseSchema, create(StreamAccessLogsResponseSchema)));
const identity = (b: Buffer): Buffer => b;

/** Raw-buffer service definition: decoding happens in the handler so a bad message is answered, not thrown. */
export const ALS_SERVICE_DEFINITION: grpc.ServiceDefinition = {
  StreamAccessLogs: {
    path: ALS_METHOD_PATH,
    requestStream: true,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
    originalName: 'streamAccessLogs',
  },
};

export interface AlsServerOptions {
  /** Receives decoded records, in batches, from the queue's consumer. */
  readonly onRecords: (batch: readonly AccessRecord[]) => void;
  /** Only accept this log name (the generated listeners use `meshward`). Defaults to any. */
  readonly logName?: string;
  /** Queue capacity in records. Defaults to 65,536. */
  readonly queueCapacity?: number;
  /** Records handed to `onRecords` per event-loop turn. Defaults to 2048. */
  readonly queueBatchSize?: number;
  /** Largest accepted gRPC message. Defaults to 4 MiB (Envoy flushes at 16 KiB by default). */
  readonly maxMessageBytes?: number;
  readonly registry?: Registry;
  readonly onError?: (err: unknown, context: { what: string }) => void;
  /**
   * Admits or refuses each stream before any of its messages is read (they wait, under HTTP/2
   * flow control). Throw to refuse: an error with `code` `PERMISSION_DENIED` ends the call with
   * that gRPC status, anything else with UNAUTHENTICATED, the message as details. Defaults to
   * admitting every stream (the transport is the only protection).
   */
  readonly authenticate?: (ctx: AlsAuthContext) => Promise<void> | void;
}

/** What {@link AlsServerOptions.authenticate} sees when an ALS stream starts. */
export interface AlsAuthContext {
  readonly metadata: grpc.Metadata;
  /** The verified client certificate of a TLS connection (grpc-js reports only verified ones). */
  readonly peerCertificate: PeerCertificate | undefined;
  /** 'ssl' for TLS connections, undefined for plaintext. */
  readonly transportSecurityType: string | undefined;
  /** grpc-js peer string, `ip:port` (`[v6]:port`). */
  readonly peer: string;
}

export interface AlsStats extends IngestQueueStats {
  readonly streams: number;
  readonly messages: number;
  readonly malformed: number;
  readonly badSummaries: number;
  readonly otherLogNames: number;
}

export interface AlsServer {
  /**
   * Registers the service on an existing grpc-js server that the caller binds and owns — e.g. the
   * one serving ADS, since the bootstraps in envoy/ point `meshward_als` at the xDS address.
   */
  addTo(server: grpc.Server): void;
  /** Creates and binds its own grpc-js server; resolves with the bound port. Call at most once. */
  listen(options: { host: string; port: number; credentials?: grpc.ServerCredentials }): Promise<number>;
  close(): Promise<void>;
  stats(): AlsStats;
  /** Resolves when every record received so far has been handed to `onRecords`. */
  drained(): Promise<void>;
  readonly registry: Registry;
  /** The service definition and its handlers, to register on a server by other means (e.g. the xDS server's `extraServices`). */
  readonly service: { readonly definition: grpc.ServiceDefinition; readonly implementation: grpc.UntypedServiceImplementation };
  /** Streams refused by `authenticate`. */
  readonly refusedStreams: number;
}

export function createAlsServer(options: AlsServerOptions): AlsServer {
  const registry = options.registry ?? new Registry();
  const maxMessageBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
  let server: grpc.Server | undefined;
  const calls = new Set<grpc.ServerReadableStream<Buffer, Buffer>>();
  const counters: DecodeCounters & { messages: number; malformed: number; otherLogNames: number } = {
    badSummaries: 0,
    messages: 0,
    malformed: 0,
    otherLogNames: 0,
  };
  let queuePaused = false;
  const queue: IngestQueue = createIngestQueue({
    ...(options.queueCapacity === undefined ? {} : { capacity: options.queueCapacity }),
    ...(options.queueBatchSize === undefined ? {} : { batchSize: options.queueBatchSize }),
    consume: options.onRecords,
    onPressure(paused) {
      queuePaused = paused;
      for (const c of calls) {
        if (paused) c.pause();
        else c.resume();
      }
    },
    onError: (err) => options.onError?.(err, { what: 'consumer' }),
  });

  const received = new Counter({ name: 'meshward_telemetry_entries_total', help: 'Access log entries accepted into the ingestion queue.', registers: [registry] });
  const dropped = new Counter({ name: 'meshward_telemetry_dropped_entries_total', help: 'Access log entries dropped because the ingestion queue was full.', registers: [registry] });
  new Gauge({
    name: 'meshward_telemetry_queue_depth',
    help: 'Access log entries waiting in the ingestion queue.',
    registers: [registry],
    collect() {
      this.set(queue.stats().depth);
    },
  });
  new Gauge({
    name: 'meshward_telemetry_streams',
    help: 'Open ALS streams.',
    registers: [registry],
    collect() {
      this.set(calls.size);
    },
  });
  new Gauge({
    name: 'meshward_telemetry_paused',
    help: '1 while the ALS streams are paused for backpressure.',
    registers: [registry],
    collect() {
      this.set(queuePaused ? 1 : 0);
    },
  });
  const malformed = new Counter({ name: 'meshward_telemetry_malformed_messages_total', help: 'ALS messages that did not decode (the stream was ended).', registers: [registry] });
  new Counter({
    name: 'meshward_telemetry_bad_summaries_total',
    help: 'Entries whose wasm.meshward.summary filter state was not a valid summary.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(counters.badSummaries);
    },
  });

  const handler = (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): void => {
    calls.add(call);
    if (queuePaused) call.pause();
    let done = false;
    const finish = (err: grpc.ServiceError | null): void => {
      if (done) return;
      done = true;
      calls.delete(call);
      if (err === null) callback(null, EMPTY_RESPONSE);
      else callback(err);
    };
    const stream: StreamIdentity = { nodeId: '', logName: '' };
    call.on('data', (bytes: Buffer) => {
      if (done) return;
      let records: AccessRecord[];
      try {
        records = decodeAccessLogsMessage(bytes, stream, counters);
      } catch (err) {
        counters.malformed++;
        malformed.inc();
        const details = `StreamAccessLogsMessage does not decode: ${(err as Error).message}`;
        options.onError?.(err, { what: `malformed StreamAccessLogsMessage from node "${stream.nodeId}"` });
        finish(Object.assign(new Error(details), { code: grpc.status.INVALID_ARGUMENT, details, metadata: new grpc.Metadata() }) as grpc.ServiceError);
        return;
      }
      counters.messages++;
      if (options.logName !== undefined && stream.logName !== options.logName) {
        counters.otherLogNames++;
        return;
      }
      if (records.length === 0) return;
      const lost = queue.push(records);
      received.inc(records.length - lost);
      if (lost > 0) dropped.inc(lost);
    });
    call.on('end', () => finish(null));
    call.on('error', () => finish(null));
    call.on('close', () => {
      done = true;
      calls.delete(call);
    });
  };
  let refused = 0;
  const refusedCounter = new Counter({ name: 'meshward_telemetry_refused_streams_total', help: 'ALS streams refused by authentication.', registers: [registry] });
  const authenticate = options.authenticate;
  const gated =
    authenticate === undefined
      ? handler
      : (call: grpc.ServerReadableStream<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): void => {
          const auth = call.getAuthContext();
          void Promise.resolve()
            .then(() => authenticate({ metadata: call.metadata, peerCertificate: auth.sslPeerCertificate, transportSecurityType: auth.transportSecurityType, peer: call.getPeer() }))
            .then(
              () => {
                if (closed || call.cancelled) {
                  callback(Object.assign(new Error('the access log service is shutting down'), { code: grpc.status.UNAVAILABLE, details: 'the access log service is shutting down', metadata: new grpc.Metadata() }) as grpc.ServiceError);
                  return;
                }
                handler(call, callback);
              },
              (err: unknown) => {
                refused++;
                refusedCounter.inc();
                const denied = (err as { code?: unknown }).code === 'PERMISSION_DENIED';
                const details = `access log stream refused: ${err instanceof Error ? err.message : String(err)}`;
                options.onError?.(err, { what: `ALS stream from ${call.getPeer()} refused` });
                callback(Object.assign(new Error(details), { code: denied ? grpc.status.PERMISSION_DENIED : grpc.status.UNAUTHENTICATED, details, metadata: new grpc.Metadata() }) as grpc.ServiceError);
              },
            );
        };
  const implementation = { StreamAccessLogs: gated as grpc.UntypedHandleCall };

  let closed = false;
  return {
    registry,
    service: { definition: ALS_SERVICE_DEFINITION, implementation },
    get refusedStreams() {
      return refused;
    },
    addTo(target) {
      target.addService(ALS_SERVICE_DEFINITION, implementation);
    },
    listen({ host, port, credentials }) {
      if (server !== undefined) return Promise.reject(new Error('listen: already listening'));
      const own = new grpc.Server({ 'grpc.max_receive_message_length': maxMessageBytes, 'grpc.keepalive_permit_without_calls': 1 });
      own.addService(ALS_SERVICE_DEFINITION, implementation);
      server = own;
      return new Promise((resolve, reject) => {
        own.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, credentials ?? grpc.ServerCredentials.createInsecure(), (err, bound) => {
          if (err !== null) reject(err);
          else resolve(bound);
        });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const c of calls) c.destroy();
      calls.clear();
      const own = server;
      if (own !== undefined) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            own.forceShutdown();
            resolve();
          }, 1000);
          t.unref();
          own.tryShutdown(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      queue.close();
    },
    stats: () => ({
      ...queue.stats(),
      streams: calls.size,
      messages: counters.messages,
      malformed: counters.malformed,
      badSummaries: counters.badSummaries,
      otherLogNames: counters.otherLogNames,
    }),
    drained: () => queue.drained(),
  };
}
