import { fromBinary } from '@bufbuild/protobuf';
import { Server, ServerCredentials, type ChannelOptions, type Metadata, type ServerDuplexStream, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { createGrpcServer, type CallHandler, type GrpcServer, type GrpcServerOptions, type ServerCall } from '../h2/index.js';
import { adsCallFromGrpcJs, type AdsCall, type AdsCallAuth } from './ads-call.js';
import { isXdsServerCredentials, type XdsServerCredentials } from './server-credentials.js';
import type { Node } from '../gen/envoy/config/core/v3/base_pb.js';
import {
  DeltaDiscoveryRequestSchema,
  DiscoveryRequestSchema,
} from '../gen/envoy/service/discovery/v3/discovery_pb.js';
import { XdsError, grpcStatusOf, type XdsErrorCode } from './errors.js';
import { createFleetRegistry, type FleetRegistry, type FleetView, type StreamRecord } from './fleet-view.js';
import type { SnapshotCache } from './snapshot-cache.js';
import type { Snapshot, TypeSnapshot } from './snapshot.js';
import type { SecretSource } from './secret-source.js';
import { createSecretStore } from './secret-store.js';
import type { Authenticate, AuthorizeNode, StreamIdentity } from './stream-auth.js';
import type { AdsProtocol, StreamContext } from './stream-context.js';
import { createSotwProtocol } from './sotw-stream.js';
import { createDeltaProtocol } from './delta-stream.js';

const SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';
const identity = (b: Buffer): Buffer => b;

/**
 * The ADS service with raw-Buffer (de)serializers: requests are decoded by the stream (so a
 * malformed one gets a clear INVALID_ARGUMENT), responses are pre-encoded Buffers (see wire.ts).
 */
const ADS_SERVICE: ServiceDefinition = {
  streamAggregatedResources: {
    path: `/${SERVICE}/StreamAggregatedResources`,
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
  deltaAggregatedResources: {
    path: `/${SERVICE}/DeltaAggregatedResources`,
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export interface XdsServerOptions {
  readonly cache: SnapshotCache;
  /** SEAM (1). Without it every stream is anonymous and receives no secrets. */
  readonly authenticate?: Authenticate;
  /** Optional node check after the first request (see {@link AuthorizeNode}). */
  readonly authorizeNode?: AuthorizeNode;
  /** SEAM (2). Without it SDS requests are answered with no secrets. */
  readonly secrets?: SecretSource;
  /**
   * Called for errors that do not belong to one stream (e.g. a failing SecretSource), and, on the h2
   * transport, for connections refused for HTTP/2 protocol errors or abuse (code INVALID_REQUEST,
   * `peer` set; at most {@link TRANSPORT_ERRORS_PER_MINUTE} a minute, the rest counted into the next
   * report, so a flood of garbage cannot flood the log).
   */
  readonly onError?: (err: XdsError, context: { identityId?: string; peer?: string }) => void;
}

export interface ListenOptions {
  /** Defaults to 127.0.0.1. */
  readonly host?: string;
  /** Defaults to 0 (ephemeral). */
  readonly port?: number;
  /**
   * Defaults to insecure (plaintext). See `createXdsServerCredentials` (SEAM 3): pass the returned
   * object (either transport). A bare grpc-js `ServerCredentials` works with `transport: 'grpc-js'`
   * only, since the h2 transport needs the PEM material.
   */
  readonly credentials?: XdsServerCredentials | ServerCredentials;
  /**
   * Which gRPC server carries ADS (and `extraServices`):
   *  - `'h2'` (default): meshward's compact HTTP/2 server (control-plane/src/h2), built for many
   *    long-lived idle streams: about a quarter of grpc-js's memory per connection (see MEMORY PER
   *    STREAM in index.ts and `npm run bench:xds`).
   *  - `'grpc-js'`: @grpc/grpc-js on node:http2 (nghttp2): more memory per connection; the choice
   *    when its channel options or its wider HTTP/2 feature set are needed.
   */
  readonly transport?: 'h2' | 'grpc-js';
  /**
   * Extra grpc-js server options (transport 'grpc-js'), over the defaults: 16 MiB max request,
   * 64 MiB max response, channelz off, keepalive ping every 60 s with a 20 s timeout.
   */
  readonly grpcOptions?: ChannelOptions;
  /**
   * Options of the h2 transport, over the defaults: 16 MiB max request, 64 MiB max response,
   * keepalive ping after 60 s of silence with a 20 s timeout (see GrpcServerOptions).
   */
  readonly h2Options?: Omit<GrpcServerOptions, 'handlers' | 'services'>;
  /**
   * Transport 'grpc-js' only. Shrinks per-connection HTTP/2 memory (about 2 KB of each ~27 KB nghttp2 connection): no HPACK
   * dynamic table for our response headers and SETTINGS_HEADER_TABLE_SIZE 0 for the client's.
   * Headers are sent once per xDS stream, so compression buys nothing. Defaults to true.
   */
  readonly compactHttp2?: boolean;
  /**
   * Further gRPC services served on the same server and port as ADS (e.g. Envoy's access log
   * service, which the bootstraps reach through the xDS address). Registered before the bind;
   * the services' handlers and their authentication are the caller's. Defaults to none.
   */
  readonly extraServices?: ReadonlyArray<{ readonly definition: ServiceDefinition; readonly implementation: UntypedServiceImplementation }>;
}

/**
 * grpc-js has no option for these node:http2 settings; it keeps the options it passes to
 * http2.createServer in `commonServerOptions` (set in its constructor, read at bind time). When that
 * internal shape is absent (another grpc-js version) this does nothing.
 */
function compactHttp2(server: Server): void {
  const internal = server as unknown as { commonServerOptions?: { maxDeflateDynamicTableSize?: number; settings?: Record<string, unknown> } };
  const opts = internal.commonServerOptions;
  if (opts === undefined || typeof opts !== 'object') return;
  opts.maxDeflateDynamicTableSize = 0;
  opts.settings = { ...opts.settings, headerTableSize: 0 };
}

/** The aggregated xDS server (SotW and delta ADS on one gRPC service). */
export interface XdsServer {
  readonly fleet: FleetView;
  /** Registers the ADS service on an existing grpc-js server (which the caller binds and owns). */
  addTo(server: Server): void;
  /** Creates and binds its own gRPC server (see `ListenOptions.transport`); resolves with the bound port. Call at most once. */
  listen(options?: ListenOptions): Promise<number>;
  /**
   * SEAM (2): the CA tells the server that the secrets of `identityId` (or of all identities when
   * undefined) changed. Only streams of that identity are re-read and, if the content changed,
   * pushed. Resolves when the pushes are written.
   */
  notifySecretsChanged(identityId?: string): Promise<void>;
  /**
   * Ends every open stream authenticated as `identityId` with `code` and `message` (e.g.
   * PERMISSION_DENIED after the identity's certificate was revoked: its streams must not keep the
   * secrets and config they hold, and Envoy's reconnect goes through authentication again).
   * Streams still authenticating are not affected (the authenticator decides for them). Returns
   * how many streams were ended.
   */
  endStreamsOf(identityId: string, code: XdsErrorCode, message: string): number;
  /**
   * The listening transport's own counts, for metrics: HTTP/2 connections on the port (ADS and
   * access log streams alike) and connections ended for HTTP/2 protocol errors or abuse. Counts
   * are known for the h2 transport only (undefined on grpc-js); undefined before `listen`.
   */
  transportStats(): XdsTransportStats | undefined;
  /** Stops accepting streams, ends open streams and closes the listening server (if `listen` was used). */
  close(): Promise<void>;
}

export interface XdsTransportStats {
  readonly transport: 'h2' | 'grpc-js';
  readonly connections: number | undefined;
  readonly protocolErrors: number | undefined;
}

/** Transport (HTTP/2) error reports passed to `onError` per minute; more are counted, not reported. */
export const TRANSPORT_ERRORS_PER_MINUTE = 20;

let nextStreamId = 1;
/** Requests a stream may send while it is being authenticated/bound; more ends it (flood guard). */
const MAX_QUEUED_REQUESTS = 256;
/** Responses written but not yet taken by HTTP/2 for one stream before it is ended as too slow. */
const MAX_QUEUED_RESPONSES = 512;
const SLOW_CONSUMER_GRACE_MS = 2000;

export function createXdsServer(options: XdsServerOptions): XdsServer {
  const { cache } = options;
  const registry: FleetRegistry = createFleetRegistry();
  const onError = options.onError ?? (() => {});
  const secretStore = createSecretStore(options.secrets, (identityId, err) => onError(err, { identityId }));
  const open = new Set<() => void>();
  /** Open streams and how to end one with a status (endStreamsOf). */
  const failable = new Map<StreamRecord, StreamContext['fail']>();
  let grpcServer: Server | undefined;
  let h2Server: GrpcServer | undefined;
  let stopTlsUpdates: (() => void) | undefined;
  let transportWindowStart = 0;
  let transportReported = 0;
  let transportSuppressed = 0;
  const onTransportError = (err: Error, context: { peer: string }): void => {
    const now = Date.now();
    if (now - transportWindowStart >= 60_000) {
      transportWindowStart = now;
      transportReported = 0;
    }
    if (transportReported >= TRANSPORT_ERRORS_PER_MINUTE) {
      transportSuppressed++;
      return;
    }
    transportReported++;
    const more = transportSuppressed === 0 ? '' : ` (${transportSuppressed} more since the last report, not reported)`;
    transportSuppressed = 0;
    onError(new XdsError('INVALID_REQUEST', `HTTP/2 from ${context.peer}: ${err.message}${more}`), { peer: context.peer });
  };
  let closing = false;

  const handle = (call: AdsCall, auth: AdsCallAuth, protocolKind: 'sotw' | 'delta'): void => {
    if (closing) {
      call.fail(grpcStatusOf('SHUTTING_DOWN'), 'xDS server is shutting down');
      return;
    }
    const now = Date.now();
    const record: StreamRecord = {
      streamId: nextStreamId++,
      protocol: protocolKind,
      peer: call.peer,
      connectedSince: now,
      nodeId: '',
      cluster: '',
      group: '',
      identity: undefined,
      lastSeen: now,
      types: new Map(),
      staleRequests: 0,
      unknownTypeRequests: 0,
    };
    let ended = false;
    let slowCheck: NodeJS.Timeout | undefined;
    /** Responses handed to the transport whose write has not completed yet. */
    let outstanding = 0;
    const onSent = (): void => {
      outstanding--;
    };
    let streamIdentity: StreamIdentity | undefined;
    let snapshot: Snapshot | undefined;
    let secrets: TypeSnapshot | undefined;
    const unsubscribers: Array<() => void> = [];
    let protocol: AdsProtocol;

    const cleanup = (): void => {
      if (ended) return;
      ended = true;
      if (slowCheck !== undefined) clearTimeout(slowCheck);
      open.delete(endStream);
      failable.delete(record);
      for (const u of unsubscribers.splice(0)) u();
      registry.remove(record);
    };
    const endStream = (): void => {
      const wasEnded = ended;
      cleanup();
      if (!wasEnded) call.end();
    };
    open.add(endStream);

    const ctx: StreamContext = {
      record,
      fleet: registry,
      send(bytes) {
        if (ended || call.closed) return;
        outstanding++;
        if (!call.write(bytes, onSent)) outstanding--;
        // Responses queue in memory while a client does not read (HTTP/2 flow control stops the
        // socket, not our writes). A burst of pushes also queues briefly, so the stream is ended
        // only if it is still this far behind a while later; Envoy then reconnects and gets the
        // current state in one response per type.
        if (outstanding > MAX_QUEUED_RESPONSES && slowCheck === undefined) {
          slowCheck = setTimeout(() => {
            slowCheck = undefined;
            if (outstanding > MAX_QUEUED_RESPONSES) {
              ctx.fail('SLOW_CONSUMER', `more than ${MAX_QUEUED_RESPONSES} responses queued for ${SLOW_CONSUMER_GRACE_MS} ms: the client is not reading`);
            }
          }, SLOW_CONSUMER_GRACE_MS);
          slowCheck.unref();
        }
      },
      fail(code: XdsErrorCode, message: string) {
        if (ended) return;
        cleanup();
        call.fail(grpcStatusOf(code), message);
      },
      async bindNode(node: Node) {
        let group: string;
        try {
          group = cache.groupOf(node);
        } catch (err) {
          // Node metadata the grouping cannot place (e.g. no role): the client's request is at fault.
          const e = XdsError.from(err, 'INVALID_REQUEST');
          ctx.fail(e.code === 'INVALID_ARGUMENT' ? 'INVALID_REQUEST' : e.code, `node: ${e.message}`);
          return false;
        }
        try {
          if (options.authorizeNode !== undefined) await options.authorizeNode(streamIdentity, node);
        } catch (err) {
          const e = XdsError.from(err, 'PERMISSION_DENIED');
          ctx.fail(e.code, e.message);
          return false;
        }
        if (ended) return false;
        record.nodeId = node.id;
        record.cluster = node.cluster;
        record.group = group;
        snapshot = cache.getSnapshot(group);
        unsubscribers.push(
          cache.watch(group, (s) => {
            snapshot = s;
            protocol.onUpdate();
          }),
        );
        if (streamIdentity !== undefined && options.secrets !== undefined) {
          const id = streamIdentity;
          unsubscribers.push(
            secretStore.watch(
              id,
              (s) => {
                secrets = s;
                protocol.onUpdate();
              },
              // The SecretSource refused this identity (e.g. its certificate was revoked): end the stream.
              (err) => ctx.fail(err.code, err.message),
            ),
          );
          secretStore.load(id).then(
            (s) => {
              if (ended || secrets === s) return;
              secrets = s;
              protocol.onUpdate();
            },
            (err: unknown) => {
              const e = XdsError.from(err, 'SECRETS_UNAVAILABLE');
              if (e.code === 'PERMISSION_DENIED' || e.code === 'UNAUTHENTICATED') ctx.fail(e.code, e.message);
              else onError(e, { identityId: id.id });
            },
          );
        }
        registry.add(record);
        return true;
      },
      snapshot: () => snapshot,
      secrets: () => secrets,
    };
    protocol = protocolKind === 'sotw' ? createSotwProtocol(ctx) : createDeltaProtocol(ctx);
    failable.set(record, (code, message) => ctx.fail(code, message));
    const schema = protocolKind === 'sotw' ? DiscoveryRequestSchema : DeltaDiscoveryRequestSchema;

    // Requests are handled strictly in order: authentication first, then one request at a time.
    // Handling is synchronous except while authenticating or binding the node; requests arriving
    // meanwhile wait in `queue` (no promise per request on the hot path).
    const queue: Buffer[] = [];
    let busy = false;
    const handleBytes = (bytes: Buffer): Promise<void> | void => {
      let request;
      try {
        request = fromBinary(schema, bytes);
      } catch (err) {
        ctx.fail('INVALID_REQUEST', `cannot decode ${schema.typeName}: ${(err as Error).message}`);
        return;
      }
      try {
        const pending = protocol.onRequest(request);
        if (pending !== undefined) {
          return pending.catch((err: unknown) => ctx.fail('INVALID_REQUEST', `request handling failed: ${(err as Error).message}`));
        }
      } catch (err) {
        // A bug in request handling must end this stream only, never the server.
        ctx.fail('INVALID_REQUEST', `request handling failed: ${(err as Error).message}`);
      }
    };
    const drain = (): void => {
      while (!ended && queue.length > 0) {
        const pending = handleBytes(queue.shift()!);
        if (pending !== undefined) {
          busy = true;
          void pending.then(() => {
            busy = false;
            drain();
          });
          return;
        }
      }
    };
    if (options.authenticate !== undefined) {
      const authenticate = options.authenticate;
      busy = true;
      void Promise.resolve()
        .then(() =>
          authenticate({
            metadata: auth.metadata,
            peerCertificate: auth.peerCertificate,
            transportSecurityType: auth.transportSecurityType,
            peer: record.peer,
            protocol: protocolKind,
          }),
        )
        .then(
          (id) => {
            if (id === undefined || id === null || typeof id.id !== 'string' || id.id === '') {
              throw new XdsError('UNAUTHENTICATED', 'authenticate: returned no identity');
            }
            streamIdentity = id;
            record.identity = id;
          },
        )
        .then(
          () => {
            busy = false;
            drain();
          },
          (err: unknown) => {
            const e = XdsError.from(err, 'UNAUTHENTICATED');
            ctx.fail(e.code === 'PERMISSION_DENIED' ? 'PERMISSION_DENIED' : 'UNAUTHENTICATED', e.message);
          },
        );
    }

    call.onMessage = (bytes: Buffer) => {
      if (ended) return;
      if (busy || queue.length > 0) {
        if (queue.length >= MAX_QUEUED_REQUESTS) {
          ctx.fail('INVALID_REQUEST', `more than ${MAX_QUEUED_REQUESTS} requests sent before the stream was authenticated and bound`);
          return;
        }
        queue.push(bytes);
        return;
      }
      const pending = handleBytes(bytes);
      if (pending !== undefined) {
        busy = true;
        void pending.then(() => {
          busy = false;
          drain();
        });
      }
    };
    call.onEnd = endStream;
    call.onClose = cleanup;
  };

  /** grpc-js entry points (transport 'grpc-js' and addTo()). */
  const fromGrpcJs = (call: ServerDuplexStream<Buffer, Buffer>, kind: 'sotw' | 'delta'): void => {
    const auth = call.getAuthContext();
    handle(adsCallFromGrpcJs(call), { metadata: call.metadata, peerCertificate: auth.sslPeerCertificate, transportSecurityType: auth.transportSecurityType }, kind);
  };
  const implementation = {
    streamAggregatedResources: (call: ServerDuplexStream<Buffer, Buffer>) => fromGrpcJs(call, 'sotw'),
    deltaAggregatedResources: (call: ServerDuplexStream<Buffer, Buffer>) => fromGrpcJs(call, 'delta'),
  };
  /** Native entry points of the compact HTTP/2 transport: its ServerCall is an AdsCall. */
  const fromH2 = (kind: 'sotw' | 'delta') => (call: ServerCall, metadata: Metadata): void => {
    handle(call, { metadata, peerCertificate: call.peerCertificate, transportSecurityType: call.secure ? 'ssl' : undefined }, kind);
  };
  const h2Handlers: Record<string, CallHandler> = {
    [ADS_SERVICE.streamAggregatedResources!.path]: fromH2('sotw'),
    [ADS_SERVICE.deltaAggregatedResources!.path]: fromH2('delta'),
  };

  return {
    fleet: registry.view,
    addTo(server) {
      server.addService(ADS_SERVICE, implementation);
    },
    async listen(listenOptions = {}) {
      if (grpcServer !== undefined || h2Server !== undefined) throw new XdsError('INVALID_ARGUMENT', 'listen: already listening');
      const transport = listenOptions.transport ?? 'h2';
      if (transport !== 'h2' && transport !== 'grpc-js') {
        throw new XdsError('INVALID_ARGUMENT', `transport: must be 'h2' or 'grpc-js', got ${JSON.stringify(transport)}`);
      }
      const host = listenOptions.host ?? '127.0.0.1';
      const given = listenOptions.credentials;
      const credentials: XdsServerCredentials | undefined = isXdsServerCredentials(given) ? given : undefined;
      if (transport === 'h2') {
        if (given !== undefined && credentials === undefined) {
          throw new XdsError('INVALID_ARGUMENT', "credentials: the h2 transport needs the object createXdsServerCredentials() returns (it holds the PEM material), not a grpc-js ServerCredentials");
        }
        const server = createGrpcServer({
          maxReceiveMessageBytes: 16 * 1024 * 1024,
          maxSendMessageBytes: 64 * 1024 * 1024,
          keepaliveTimeMs: 60_000,
          keepaliveTimeoutMs: 20_000,
          onError: onTransportError,
          ...listenOptions.h2Options,
          handlers: h2Handlers,
          services: listenOptions.extraServices ?? [],
        });
        h2Server = server;
        const tls = credentials?.tlsOptions();
        const port = await server.listen({ host, port: listenOptions.port ?? 0, ...(tls === undefined ? {} : { tls }) });
        if (tls !== undefined) stopTlsUpdates = credentials!.onUpdate((next) => server.updateTls(next));
        return port;
      }
      const server = new Server({
        'grpc.max_receive_message_length': 16 * 1024 * 1024,
        'grpc.max_send_message_length': 64 * 1024 * 1024,
        // channelz keeps per-connection and per-call tracking objects: ~1 KB per idle xDS stream.
        'grpc.enable_channelz': 0,
        // Find dead proxies (and drop their streams from the fleet view) within ~1.5 minutes.
        'grpc.keepalive_time_ms': 60_000,
        'grpc.keepalive_timeout_ms': 20_000,
        ...listenOptions.grpcOptions,
      });
      server.addService(ADS_SERVICE, implementation);
      for (const extra of listenOptions.extraServices ?? []) server.addService(extra.definition, extra.implementation);
      if (listenOptions.compactHttp2 !== false) compactHttp2(server);
      grpcServer = server;
      const address = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
      return new Promise<number>((resolve, reject) => {
        server.bindAsync(
          `${address}:${listenOptions.port ?? 0}`,
          credentials?.credentials ?? (given as ServerCredentials | undefined) ?? ServerCredentials.createInsecure(),
          (err, port) => (err !== null ? reject(err) : resolve(port)),
        );
      });
    },
    endStreamsOf(identityId, code, message) {
      let ended = 0;
      for (const [record, fail] of [...failable]) {
        if (record.identity?.id !== identityId) continue;
        fail(code, message);
        ended++;
      }
      return ended;
    },
    transportStats() {
      if (h2Server !== undefined) {
        const st = h2Server.stats();
        return { transport: 'h2', connections: st.connections, protocolErrors: st.protocolErrors };
      }
      if (grpcServer !== undefined) return { transport: 'grpc-js', connections: undefined, protocolErrors: undefined };
      return undefined;
    },
    async notifySecretsChanged(identityId) {
      await secretStore.refresh(identityId);
    },
    async close() {
      closing = true;
      for (const end of [...open]) end();
      stopTlsUpdates?.();
      if (h2Server !== undefined) {
        await h2Server.close(2000);
        return;
      }
      const server = grpcServer;
      if (server === undefined) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
