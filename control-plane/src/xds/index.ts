/**
 * meshward's aggregated xDS server: snapshot cache, debounced publisher, SotW and delta ADS on
 * @grpc/grpc-js, per-identity SDS and the fleet view. Wiring only; each concept lives in its file.
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
 * MEMORY PER STREAM (Node 20, grpc-js 1.14, plaintext, every Envoy on its own HTTP/2 connection,
 * RSS after GC; `npm run bench:xds` prints these figures in one run). An idle xDS stream costs about
 * 31–34 KB RSS, of which the xDS state (stream record, per-type SotW/fleet state, ~20 closures) is
 * only 2–4 KB of V8 heap. The rest is the transport, and no option changes it:
 *  - TCP socket alone (node:net): ~4 KB.
 *  - node:http2 session with no stream: ~18–20 KB. nghttp2 allocates 21 KB per session (Node's own
 *    accounting, "nghttp2_memory" in a heap snapshot), 16 KB of it an outbound frame buffer whose size
 *    is fixed at compile time. Same 21 KB with settings initialWindowSize/maxFrameSize 16 KB,
 *    maxConcurrentStreams 4, maxHeaderListSize 8 KB, maxSessionMemory, maxSettings,
 *    peerMaxConcurrentStreams, paddingStrategy, maxOutstandingPings.
 *  - + one idle stream: ~23–25 KB (bare node:http2); bare grpc-js: ~28–32 KB (8 KB V8 heap: call,
 *    metadata, decoder, stream/socket states, keepalive timer per session).
 *  - TLS adds ~43 KB per connection (bare node:http2 over TLS: ~67 KB), so an mTLS fleet needs
 *    ~75 KB per Envoy.
 * So ≤ 20 KB per idle stream is below the node:http2 floor when each stream has its own connection.
 * What `listen()` does: `compactHttp2` (no HPACK dynamic tables; ~0.6 KB nghttp2, ~1.5 KB RSS per
 * connection) and channelz off (~1 KB per stream). Measured and NOT helping, so not set: glibc
 * MALLOC_ARENA_MAX=2 (sessions live in the main thread's arena), malloc_trim(0) (the memory is in
 * use, not fragmented), jemalloc via LD_PRELOAD (+3 KB), MALLOC_MMAP_THRESHOLD_ (within noise, one
 * mmap per 64 KB socket read), `--max-semi-space-size` (new space does not grow with idle streams).
 * Capacity planning: ~35 KB per plaintext stream (≈ 350 MB for 10k), ~80 KB with TLS; the open-file
 * limit (one socket per Envoy) must exceed the fleet size.
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
