/**
 * meshward's aggregated xDS server: snapshot cache, debounced publisher, SotW and delta ADS on
 * meshward's compact HTTP/2 gRPC server (control-plane/src/h2; `transport: 'grpc-js'` for
 * @grpc/grpc-js), per-identity SDS and the fleet view. Wiring only; each concept lives in its file.
 *
 * Typical use:
 * ```ts
 * const cache = createSnapshotCache({ groupOf: (node) => nodeGroupKey(nodeGroupOf(node.metadata)) });
 * const xds = createXdsServer({ cache, authenticate, authorizeNode, secrets });
 * const port = await xds.listen({ port: 18000, credentials: createXdsServerCredentials({ mode: 'insecure' }) });
 * const publisher = createPublisher({
 *   cache, quietMs: 100, maxDelayMs: 1000,
 *   snapshotOptions: { consistencyCheck: fromTranslatorCheck(checkConsistency) },
 *   build: () => new Map(groups.map((g) => [key(g), { version: rev(), resources: translateAll(model, g, { now }) }])),
 * });
 * store.on('change', (c) => publisher.notify(c));         // bursts → one publish
 * xds.fleet.on('nack', (e) => log.warn(e));               // per node/type error_detail
 * ```
 *
 * PROTOCOL DECISIONS (details in sotw-stream.ts / delta-stream.ts)
 *  - ACK vs NACK is decided on response_nonce + error_detail, never on version_info.
 *  - SotW: a non-empty nonce that is not the latest sent for the type (stale or never sent) makes
 *    the request ignored entirely (xDS spec); an empty nonce is a (re)subscription, and so is a
 *    nonce on a type nothing was sent for yet on this stream (carried over from an old stream). Delta:
 *    subscription deltas always apply; only the ACK/NACK of an unknown nonce is ignored.
 *  - Wildcard: LDS/CDS only — empty names on the type's first request (legacy, sticky until names
 *    are given) or `*` (explicit). RDS/EDS/SDS/ECDS are by name only.
 *  - A NACK records error_detail per node and type, keeps the last ACKed version, and nothing is
 *    resent until the type's content changes (no resend loop). Responses are sent only when the
 *    content the stream receives changed (or its subscription brought new resources).
 *  - Garbage: undecodable request → INVALID_ARGUMENT for that stream only; missing node on the
 *    first request or empty type_url → INVALID_ARGUMENT naming the field; unknown type_url →
 *    ignored (counted in the fleet view); a client that stops reading → RESOURCE_EXHAUSTED.
 *
 * PERFORMANCE: each resource is encoded once per version (content hash = delta version); SotW
 * responses are pre-built per (type snapshot, subscription) including a shared nonce, so a push to
 * 10k streams of a group writes one shared Buffer per stream (see wire.ts, snapshot.ts).
 *
 * MEMORY PER STREAM (Node 20, plaintext, every Envoy on its own HTTP/2 connection, RSS after GC;
 * `npm run bench:xds` prints these figures in one run, both transports). Transport 'h2' (default):
 * about 8 KB RSS per idle xDS stream at 10,000 and 19,500 streams (5.5 KB of it V8 heap), of which
 * the TCP socket is ~4 KB (libuv handle + net.Socket), meshward's HTTP/2 connection and call ~0.8 KB
 * (h2/: numeric fields in two classes, no timer per connection, no buffer while idle, no HPACK
 * table after our SETTINGS ACK) and the xDS state ~3 KB (stream record, per-type SotW/fleet state,
 * closures). Transport 'grpc-js': 31–34 KB, and nothing under it can go below ~24 KB:
 *  - node:http2 session with no stream: ~18 KB. nghttp2 allocates 21 KB per session (Node's own
 *    accounting, "nghttp2_memory" in a heap snapshot), 16 KB of it an outbound frame buffer whose size
 *    is fixed at compile time; no node:http2 option (window and frame sizes, concurrent streams,
 *    header list size, maxSessionMemory, padding, pings) changes it, nor do glibc MALLOC_ARENA_MAX,
 *    malloc_trim, MALLOC_MMAP_THRESHOLD_ or jemalloc.
 *  - + one idle stream: ~23.5 KB (bare node:http2); bare grpc-js: ~28 KB (call, metadata, decoder,
 *    stream/socket states, keepalive timer per session).
 * That is why the xDS port has its own HTTP/2 server. TLS adds node:tls's OpenSSL state (~39 KB per
 * connection, no option exposed to shrink it) on either transport: `XDS_BENCH_TLS=1 npm run
 * bench:xds` measured 46.9 KB per idle TLS stream on 'h2' and 82.6 KB on 'grpc-js' (4,000 streams).
 * For 'grpc-js', `listen()` sets `compactHttp2` (no HPACK dynamic tables; ~1.5 KB per connection)
 * and channelz off (~1 KB per stream). Capacity planning on 'h2': ~10 KB per plaintext Envoy
 * (≈ 100 MB for 10k), ~50 KB per TLS Envoy (≈ 500 MB for 10k); the open-file limit (one socket per Envoy, and one more for its access log
 * stream) must exceed twice the fleet size.
 *
 * SEAMS FOR THE CA (control-plane/src/ca)
 *
 * (1) Stream authentication — `XdsServerOptions.authenticate: (ctx: StreamAuthContext) =>
 *     Promise<StreamIdentity> | StreamIdentity`. Called once per stream, when it starts and before
 *     any request is handled, with `ctx.metadata` (gRPC metadata: e.g. `authorization: Bearer
 *     <join token>`), `ctx.peerCertificate` (node:tls PeerCertificate with `.raw` DER, present only
 *     on TLS connections whose client certificate verified against the configured client CA),
 *     `ctx.transportSecurityType` ('ssl' | undefined), `ctx.peer` and `ctx.protocol`. Return
 *     `{ id: <SPIFFE ID>, method?: 'mtls' | 'join-token', attributes? }`. Throw
 *     `new XdsError('UNAUTHENTICATED' | 'PERMISSION_DENIED', message)` to refuse: the stream ends
 *     with that gRPC status and message and receives nothing. Other throws → UNAUTHENTICATED.
 *     Optional `authorizeNode(identity, node)` runs on the first request (node id/metadata vs
 *     identity) and refuses the same way (default PERMISSION_DENIED).
 *
 * (2) Per-identity secrets — `XdsServerOptions.secrets: SecretSource` with
 *     `secretsFor(identity) => Secret[] | Promise<Secret[]>` (generated
 *     envoy.extensions.transport_sockets.tls.v3.Secret messages: `default` = tls_certificate with the
 *     workload chain + private key, `ROOTCA` = validation_context with the trust bundle; names in
 *     WORKLOAD_CERT_SECRET / TRUST_BUNDLE_SECRET). SDS (typeUrl
 *     type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret) is answered ONLY from
 *     the stream's own identity — never from group snapshots (createSnapshot refuses Secret
 *     resources unless `allowSharedSecrets`), never for anonymous streams. Results are encoded once
 *     per identity and version and shared by that identity's streams; their version_info is a
 *     content hash. After issuing/rotating/revoking, call `xdsServer.notifySecretsChanged(id)`
 *     (or with no argument for a CA/bundle rotation affecting all): only that identity's streams are
 *     re-read and pushed, and only if the content changed. If `secretsFor` then throws an error whose
 *     `code` is 'PERMISSION_DENIED' or 'UNAUTHENTICATED' (e.g. the identity's certificate was
 *     revoked), every open stream of that identity ends with that status and message; other errors
 *     are transient (streams keep their secrets, `onError` is told).
 *
 * (3) Server credentials — `createXdsServerCredentials({ mode: 'insecure' })` or
 *     `{ mode: 'tls', certificateChain, privateKey, clientCa?, clientCertificates: 'none' |
 *     'optional' | 'required' }` → `{ credentials, update(material) }`; pass `credentials` to
 *     `xdsServer.listen({ credentials })`. 'optional' asks for a client certificate (mTLS on the xDS
 *     connection) but lets join-token streams in; `update()` rotates the serving certificate and
 *     client CA for new connections without a restart.
 */
export { XdsError, grpcStatusOf, type XdsErrorCode } from './errors.js';
export {
  TypeUrl,
  ALL_TYPE_URLS,
  SHORT_NAME,
  isWildcardType,
  isTypeUrl,
  resourceNameOf,
  typeUrlOfMessage,
} from './type-urls.js';
export {
  createSnapshot,
  fromTranslatorCheck,
  encodeResource,
  rebaseSnapshot,
  type Snapshot,
  type SnapshotInput,
  type SnapshotResources,
  type TypeSnapshot,
  type EncodedResource,
  type CreateSnapshotOptions,
  type ConsistencyCheck,
  type TranslatedResourceSet,
  type TranslatorConsistencyError,
  type SotwBody,
} from './snapshot.js';
export {
  findConsistencyIssues,
  DEFAULT_PER_IDENTITY_SECRET_NAMES,
  type ConsistencyIssue,
  type ConsistencyOptions,
} from './consistency.js';
export { createSnapshotCache, type SnapshotCache, type SnapshotCacheOptions, type SnapshotListener } from './snapshot-cache.js';
export { groupByMetadata, DEFAULT_GROUP, type GroupOf } from './node-group.js';
export {
  createPublisher,
  type Publisher,
  type PublisherOptions,
  type PublishResult,
  type BuildSnapshots,
} from './publisher.js';
export {
  createXdsServer,
  type XdsServer,
  type XdsTransportStats,
  type XdsServerOptions,
  type ListenOptions,
} from './xds-server.js';
export {
  createXdsServerCredentials,
  type XdsServerCredentials,
  type XdsServerCredentialsOptions,
} from './server-credentials.js';
export type { Authenticate, AuthorizeNode, StreamAuthContext, StreamIdentity } from './stream-auth.js';
export { WORKLOAD_CERT_SECRET, TRUST_BUNDLE_SECRET, type SecretSource } from './secret-source.js';
export type {
  FleetView,
  FleetEvents,
  StreamStatus,
  TypeStatus,
  NackRecord,
  AckEvent,
  NackEvent,
} from './fleet-view.js';
