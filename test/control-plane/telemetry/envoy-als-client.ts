/**
 * An access log client that speaks envoy.service.accesslog.v3 as Envoy's gRPC access logger does:
 * one client stream, the identifier (node, log name) on the first message only, then batches of
 * `http_logs`; the summary filter state packed as a google.protobuf.BytesValue; respects HTTP/2
 * flow control (waits for 'drain' when the stream's buffer is full).
 */
import { create, toBinary } from '@bufbuild/protobuf';
import { anyPack, BytesValueSchema, DurationSchema, TimestampSchema } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import {
  HTTPAccessLogEntrySchema,
  TCPAccessLogEntrySchema,
  type HTTPAccessLogEntry,
  type TCPAccessLogEntry,
} from '../../../control-plane/src/gen/envoy/data/accesslog/v3/accesslog_pb.js';
import { RequestMethod } from '../../../control-plane/src/gen/envoy/config/core/v3/base_pb.js';
import { StreamAccessLogsMessageSchema } from '../../../control-plane/src/gen/envoy/service/accesslog/v3/als_pb.js';
import { ALS_METHOD_PATH } from '../../../control-plane/src/telemetry/als-server.js';

export interface EntryInit {
  identity?: string;
  model?: string;
  version?: string;
  /** Upstream cluster; defaults to `model|<model>|<version>` when both are set and the call was not denied. */
  cluster?: string;
  code?: number;
  details?: string;
  latencyMs?: number;
  requestBytes?: number;
  responseBytes?: number;
  /** The filter's summary JSON (docs/filter.md). */
  summary?: string;
  rateLimited?: boolean;
  shadowDenied?: boolean;
  startMs?: number;
  path?: string;
}

const utf8 = new TextEncoder();

export function httpEntry(e: EntryInit): HTTPAccessLogEntry {
  const ms = e.latencyMs ?? 20;
  const start = e.startMs ?? Date.now();
  const denied = (e.details ?? '').startsWith('rbac_access_denied');
  const cluster = e.cluster ?? (e.model !== undefined && e.version !== undefined && !denied && e.code !== 429 ? `model|${e.model}|${e.version}` : '');
  return create(HTTPAccessLogEntrySchema, {
    commonProperties: {
      startTime: create(TimestampSchema, { seconds: BigInt(Math.floor(start / 1000)), nanos: (start % 1000) * 1e6 }),
      duration: create(DurationSchema, { seconds: BigInt(Math.floor(ms / 1000)), nanos: Math.round((ms % 1000) * 1e6) }),
      upstreamCluster: cluster,
      routeName: e.model === undefined ? '' : `model-${e.model}`,
      ...(e.identity === undefined ? {} : { tlsProperties: { peerCertificateProperties: { subjectAltName: [{ san: { case: 'uri', value: e.identity } }] } } }),
      ...(e.rateLimited === true ? { responseFlags: { rateLimited: true } } : {}),
      ...(e.shadowDenied === true ? { metadata: { filterMetadata: { 'envoy.filters.http.rbac': { 'meshward_authz_dryrun_shadow_engine_result': 'denied' } } } } : {}),
      filterStateObjects: e.summary === undefined ? {} : { 'wasm.meshward.summary': anyPack(BytesValueSchema, create(BytesValueSchema, { value: utf8.encode(e.summary) })) },
    },
    request: {
      requestMethod: RequestMethod.POST,
      path: e.path ?? '/v1/chat/completions',
      requestBodyBytes: BigInt(e.requestBytes ?? 512),
      requestHeaders: e.model === undefined ? {} : { 'x-meshward-model': e.model, ...(e.version === undefined ? {} : { 'x-meshward-model-version': e.version }) },
    },
    response: { responseCode: e.code ?? 200, responseBodyBytes: BigInt(e.responseBytes ?? 2048), responseCodeDetails: e.details ?? 'via_upstream' },
  });
}

export function tlsFailureEntry(reason = 'TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED'): TCPAccessLogEntry {
  return create(TCPAccessLogEntrySchema, { commonProperties: { downstreamTransportFailureReason: reason } });
}

/** Encodes one StreamAccessLogsMessage (identifier only when `nodeId` is given). */
export function encodeBatch(entries: readonly HTTPAccessLogEntry[], nodeId?: string): Buffer {
  return Buffer.from(
    toBinary(
      StreamAccessLogsMessageSchema,
      create(StreamAccessLogsMessageSchema, {
        ...(nodeId === undefined ? {} : { identifier: { node: { id: nodeId }, logName: 'meshward' } }),
        logEntries: { case: 'httpLogs', value: { logEntry: [...entries] } },
      }),
    ),
  );
}

export function encodeTcpBatch(entries: readonly TCPAccessLogEntry[], nodeId?: string): Buffer {
  return Buffer.from(
    toBinary(
      StreamAccessLogsMessageSchema,
      create(StreamAccessLogsMessageSchema, {
        ...(nodeId === undefined ? {} : { identifier: { node: { id: nodeId }, logName: 'meshward' } }),
        logEntries: { case: 'tcpLogs', value: { logEntry: [...entries] } },
      }),
    ),
  );
}

export interface AlsStream {
  /** Writes one encoded message; resolves when the stream can take more (HTTP/2 flow control). */
  write(message: Buffer): Promise<void>;
  /** Half-closes; resolves with the server's status (0 = OK). */
  end(): Promise<{ code: number; details: string }>;
  readonly status: Promise<{ code: number; details: string }>;
  close(): void;
}

export interface AlsStreamOptions {
  /** Call metadata, e.g. `{ authorization: 'Bearer mwj_…' }` (a join token). */
  readonly metadata?: Readonly<Record<string, string>>;
  /** TLS to the server (PEM): `ca` to trust, `cert`/`key` for mTLS, `servername` to check. */
  readonly tls?: { readonly ca: string; readonly cert?: string; readonly key?: string; readonly servername?: string };
}

export function openAlsStream(address: string, options: AlsStreamOptions = {}): AlsStream {
  const tls = options.tls;
  const client = new grpc.Client(
    address,
    tls === undefined
      ? grpc.credentials.createInsecure()
      : grpc.credentials.createSsl(Buffer.from(tls.ca), tls.key === undefined ? null : Buffer.from(tls.key), tls.cert === undefined ? null : Buffer.from(tls.cert)),
    tls?.servername === undefined ? {} : { 'grpc.ssl_target_name_override': tls.servername, 'grpc.default_authority': tls.servername },
  );
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(options.metadata ?? {})) metadata.set(k, v);
  let resolveStatus!: (s: { code: number; details: string }) => void;
  const status = new Promise<{ code: number; details: string }>((r) => (resolveStatus = r));
  const call = client.makeClientStreamRequest<Buffer, Buffer>(
    ALS_METHOD_PATH,
    (b: Buffer) => b,
    (b: Buffer) => b,
    metadata,
    (err) => resolveStatus(err === null ? { code: 0, details: '' } : { code: err.code, details: err.details }),
  );
  return {
    status,
    write: (message) =>
      new Promise((resolve, reject) => {
        if (call.write(message)) resolve();
        else {
          call.once('drain', () => resolve());
          call.once('error', reject);
        }
      }),
    async end() {
      call.end();
      return status;
    },
    close() {
      call.cancel();
      client.close();
    },
  };
}
