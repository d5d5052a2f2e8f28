/**
 * meshward's HTTP/2 server (control-plane/src/h2) with Envoy as its client: an Envoy-like raw client
 * (envoy-like-client.ts) runs real ADS conversations (SotW and delta) and an access log stream
 * against the real xDS server, and every frame the server sends is checked against what Envoy's
 * HTTP/2 codec accepts.
 *
 * FACTS ABOUT ENVOY'S HTTP/2 CLIENT (read in envoyproxy/envoy and google/quiche; our own words):
 *  - Codec: source/common/http/http2/codec_impl.cc picks oghttp2 (QUICHE) or nghttp2 per
 *    `use_oghttp2_codec` or the runtime flag envoy.reloadable_features.http2_use_oghttp2, behind the
 *    same Http2Adapter interface; ProdNghttp2SessionFactory::init → ConnectionImpl::sendSettings at
 *    connection creation, before anything is read from the server.
 *  - First SETTINGS (codec_impl.cc sendSettingsHelper): ENABLE_PUSH 0 (client), then any
 *    custom_settings_parameters, then HEADER_TABLE_SIZE = hpack_table_size, ENABLE_CONNECT_PROTOCOL
 *    = allow_connect (so a 0 is sent by default), MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE =
 *    initial_stream_window_size. No MAX_FRAME_SIZE (stays 16,384), no MAX_HEADER_LIST_SIZE, no
 *    NO_RFC7540_PRIORITIES (0x9) unless configured as a custom parameter.
 *  - Defaults (api/envoy/config/core/v3/protocol.proto Http2ProtocolOptions): hpack_table_size 4096,
 *    max_concurrent_streams 2147483647, initial_stream_window_size and initial_connection_window_size
 *    268435456 (min 65535, max 2^31-1), allow_connect false, max_outbound_frames 10000,
 *    max_outbound_control_frames 1000, max_consecutive_inbound_frames_with_empty_payload 1,
 *    max_inbound_priority_frames_per_stream 100, max_inbound_window_update_frames_per_data_frame_sent
 *    10 (bound: 5 + 2 × (opened streams + 10 × DATA frames sent)), connection_keepalive unset.
 *  - Then ConnectionImpl::sendSettings sends WINDOW_UPDATE on stream 0 with
 *    initial_connection_window_size − 65535 (268369921 by default) when it differs from 65535.
 *  - oghttp2 (quiche/http2/adapter/oghttp2_session.cc): EnqueueFrame → MaybeSetupPreface writes the
 *    client preface, and because Envoy's first frame is a non-ACK SETTINGS it does not add its own
 *    initial SETTINGS (GetInitialSettings: ENABLE_PUSH 0, MAX_HEADER_LIST_SIZE only if configured).
 *    The SETTINGS frame is a SpdySettingsIR whose SettingsMap is a std::map (ordered by id;
 *    quiche/http2/core/spdy_protocol.h); nghttp2 keeps submission order. Until the server's SETTINGS arrive oghttp2 opens at most 100 streams. So the first flight
 *    is: preface, SETTINGS, WINDOW_UPDATE(0), HEADERS(1), DATA(1), in one write, before a byte of
 *    the server is seen. No PRIORITY frames and no PRIORITY flag on HEADERS.
 *  - oghttp2 (OnSetting) applies a peer SETTINGS_HEADER_TABLE_SIZE smaller than the current one to its
 *    HPACK encoder at once, a larger one after its SETTINGS ACK is sent (AfterFrameSent,
 *    encoder_header_table_capacity_when_acking_), so a HEADERS queued before the ACK can carry the size
 *    update ahead of the ACK; QUICHE's encoder
 *    (quiche/http2/hpack/hpack_encoder.cc DefaultPolicy) indexes :authority and every regular header
 *    (literal with incremental indexing), other pseudo-headers as literals without indexing, and
 *    starts the next block with a dynamic table size update.
 *  - Request headers of an Envoy gRPC stream: source/common/grpc/common.cc prepareHeaders (:method
 *    POST, :path /service/method, :authority = the cluster name (or envoy_grpc.authority), te:
 *    trailers, grpc-timeout only with a timeout, content-type application/grpc) +
 *    source/common/grpc/async_client_impl.cc (GrpcService initial_metadata) +
 *    source/common/http/async_client_impl.cc sendHeaders (x-envoy-internal: true when send_internal,
 *    x-forwarded-for: local address when send_xff, both on by default) + router (:scheme). Envoy's
 *    header maps keep pseudo-headers first.
 *  - gRPC client (async_client_impl.cc): half-close = empty DATA with END_STREAM (closeStream); a
 *    response with :status ≠ 200 is CANCELLED unless it ends the stream with grpc-status; a gRPC
 *    frame with a non-zero flag is INTERNAL; DATA with END_STREAM (no trailers) is UNKNOWN.
 *  - Resets (codec_impl.cc reasonToReset): every local reset reason except LocalRefusedStreamReset
 *    (REFUSED_STREAM) and ConnectError maps to RST_STREAM NO_ERROR — Envoy cancels a gRPC stream
 *    with RST_STREAM code 0, not CANCEL. ConnectionImpl::goAway sends GOAWAY NO_ERROR with the
 *    highest stream id received from the peer (0 for a client).
 *  - Keepalive (connection_keepalive): PING whose 8 octets are the ms since epoch; any frame
 *    received extends the PING timeout; PINGs from the peer are ACKed by the codec library.
 *  - oghttp2 as a client ends the connection (PROTOCOL_ERROR) on: a GOAWAY whose last stream id is
 *    higher than a previous GOAWAY's, RST_STREAM or WINDOW_UPDATE on a stream id it never opened
 *    (above its highest), HEADERS on an even stream, SETTINGS_ENABLE_PUSH > 1, a bad MAX_FRAME_SIZE;
 *    FLOW_CONTROL_ERROR on INITIAL_WINDOW_SIZE > 2^31-1 or a connection window overflow; PINGs are
 *    ACKed automatically (auto_ping_ack); DATA on an unknown/reset stream is counted for the
 *    connection window and dropped (OgHttp2Session::OnStreamFrameData).
 *  - Inbound limits as a client (protocol_constraints): a run of more than one HEADERS/CONTINUATION/
 *    DATA with an empty payload and no END_STREAM ends the connection; so does the WINDOW_UPDATE
 *    bound above. oghttp2's header validation (quiche/http2/adapter/header_validator.cc, on by
 *    default) makes a stream error of: a response without exactly one 3-digit :status (or 101),
 *    request pseudo-headers in a response, any pseudo-header in trailers, a name outside the
 *    lower-case token characters, a value outside tab + 0x20..0x7E (obs-text only if allowed),
 *    connection-specific headers, te other than "trailers", a bad or mismatched content-length
 *    (OgHttp2Session::HandleContentLengthError). nghttp2 also refuses pseudo-headers after regular ones.
 * Not settled (no Envoy binary here): whether Envoy sends GOAWAY before closing an upstream
 * connection at shutdown (the conn pool closes it; we test both with and without GOAWAY); which
 * headers the router adds beyond :scheme for an async-client stream without timeout (none expected;
 * x-envoy-expected-rq-timeout-ms only with a timeout); whether Envoy offers ALPN h2 on a TLS xDS
 * cluster whose UpstreamTlsContext sets no alpn_protocols (the TLS code takes a per-connection ALPN
 * fallback; meshward's bootstraps set ["h2"], and the h2 server refuses a TLS client without it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually as eventuallyWithin } from '../xds/harness.js';
import { create, fromBinary, toBinary, type Message } from '@bufbuild/protobuf';
import {
  DeltaDiscoveryRequestSchema,
  DeltaDiscoveryResponseSchema,
  DiscoveryRequestSchema,
  DiscoveryResponseSchema,
  type DeltaDiscoveryResponse,
  type DiscoveryResponse,
} from '../../../control-plane/src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { NodeSchema } from '../../../control-plane/src/gen/envoy/config/core/v3/base_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../control-plane/src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { createSnapshot, createSnapshotCache, createXdsServer, createXdsServerCredentials, TypeUrl, type SnapshotCache, type XdsServer } from '../../../control-plane/src/xds/index.js';
import { createTestPki } from '../xds/test-pki.js';
import { ALS_METHOD_PATH, createAlsServer, type AlsServer } from '../../../control-plane/src/telemetry/als-server.js';
import type { AccessRecord } from '../../../control-plane/src/telemetry/access-record.js';
import * as net from 'node:net';
import { Flag, FrameType, encodeFrame, encodeRstStream, encodeSettings, encodeWindowUpdate, encodePing } from '../../../control-plane/src/h2/frame.js';
import { encodeHeaderBlock } from '../../../control-plane/src/h2/hpack.js';
import { Metadata } from '@grpc/grpc-js';
import { createGrpcServer, GrpcStatus, percentDecodeGrpcMessage, type GrpcServerOptions } from '../../../control-plane/src/h2/index.js';
import { meshResources } from '../xds/fixtures.js';
import { encodeBatch, httpEntry } from '../telemetry/envoy-als-client.js';
import { ENVOY_DEFAULT_WINDOW, EnvoyLikeClient, SETTINGS_ID, type EnvoyLikeOptions, type EnvoyStream, type FirstStream } from './envoy-like-client.js';

const SOTW = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const DELTA = '/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources';
const CDS = TypeUrl.Cluster;
const LDS = TypeUrl.Listener;
const RDS = TypeUrl.RouteConfiguration;
const EDS = TypeUrl.ClusterLoadAssignment;
const GROUP = 'role=sidecar';
const GRPC_ABORT_INVALID_ARGUMENT = 3;

interface Env {
  readonly cache: SnapshotCache;
  readonly xds: XdsServer;
  readonly als: AlsServer;
  readonly records: AccessRecord[];
  readonly port: number;
  publish(version: string, resources: Message[]): void;
}

let env: Env | undefined;
const clients: EnvoyLikeClient[] = [];

async function start(h2Options: Omit<GrpcServerOptions, 'handlers' | 'services'> = {}): Promise<Env> {
  const cache = createSnapshotCache();
  const xds = createXdsServer({ cache });
  const records: AccessRecord[] = [];
  const als = createAlsServer({ onRecords: (b) => records.push(...b), logName: 'meshward' });
  const port = await xds.listen({ transport: 'h2', extraServices: [als.service], h2Options });
  env = {
    cache,
    xds,
    als,
    records,
    port,
    publish(version, resources) {
      cache.setSnapshot(GROUP, createSnapshot({ version, resources }));
    },
  };
  env.publish('v1', meshResources());
  return env;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  if (env !== undefined) {
    await env.xds.close();
    await env.als.close();
    env = undefined;
  }
});

async function connect(options: EnvoyLikeOptions = {}, first?: FirstStream): Promise<{ client: EnvoyLikeClient; stream: EnvoyStream }> {
  const { client, firstStream } = await EnvoyLikeClient.connect(env!.port, options, first);
  clients.push(client);
  return { client, stream: firstStream! };
}

const node = (id: string) => create(NodeSchema, { id, cluster: 'sidecars', metadata: { role: 'sidecar' } });

function sotw(init: { node?: string; typeUrl: string; names?: string[]; version?: string; nonce?: string; error?: string }): Uint8Array {
  return toBinary(
    DiscoveryRequestSchema,
    create(DiscoveryRequestSchema, {
      ...(init.node !== undefined ? { node: node(init.node) } : {}),
      typeUrl: init.typeUrl,
      resourceNames: init.names ?? [],
      versionInfo: init.version ?? '',
      responseNonce: init.nonce ?? '',
      ...(init.error !== undefined ? { errorDetail: { code: GRPC_ABORT_INVALID_ARGUMENT, message: init.error } } : {}),
    }),
  );
}

function delta(init: { node?: string; typeUrl: string; subscribe?: string[]; nonce?: string; error?: string }): Uint8Array {
  return toBinary(
    DeltaDiscoveryRequestSchema,
    create(DeltaDiscoveryRequestSchema, {
      ...(init.node !== undefined ? { node: node(init.node) } : {}),
      typeUrl: init.typeUrl,
      resourceNamesSubscribe: init.subscribe ?? [],
      responseNonce: init.nonce ?? '',
      ...(init.error !== undefined ? { errorDetail: { code: GRPC_ABORT_INVALID_ARGUMENT, message: init.error } } : {}),
    }),
  );
}

/** Reads a stream's gRPC messages in order. */
class Reader<T> {
  private next = 0;
  constructor(
    private readonly client: EnvoyLikeClient,
    private readonly stream: EnvoyStream,
    private readonly decode: (b: Buffer) => T,
  ) {}
  async read(what: string, timeoutMs = 5000): Promise<T> {
    await this.client.until(() => this.stream.messages.length > this.next || this.stream.endStreamReceived || this.stream.resetByServer !== undefined, what, timeoutMs);
    if (this.stream.messages.length <= this.next) throw new Error(`stream ${this.stream.id} ended while waiting for ${what} (grpc-status ${this.stream.grpcStatus}: ${this.stream.grpcMessage})`);
    return this.decode(this.stream.messages[this.next++]!);
  }
  /** Nothing more arrives within `ms`. */
  async none(ms: number): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    expect(this.stream.messages.length - this.next).toBe(0);
  }
}
const sotwReader = (c: EnvoyLikeClient, s: EnvoyStream) => new Reader<DiscoveryResponse>(c, s, (b) => fromBinary(DiscoveryResponseSchema, b));
const deltaReader = (c: EnvoyLikeClient, s: EnvoyStream) => new Reader<DeltaDiscoveryResponse>(c, s, (b) => fromBinary(DeltaDiscoveryResponseSchema, b));

const resourceNames = (r: DiscoveryResponse, schemaName: (b: Uint8Array) => string): string[] => r.resources.map((a) => schemaName(a.value)).sort();
const claName = (b: Uint8Array) => fromBinary(ClusterLoadAssignmentSchema, b).clusterName;

/** harness.ts's poller, with the reason first (as every call here reads). */
const eventually = <T>(fn: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> => eventuallyWithin(fn, timeoutMs, what);
const fleetOf = (id: string) => env!.xds.fleet.byNode(id)[0];

/** Envoy at shutdown: its gRPC clients reset their streams (RST_STREAM NO_ERROR), then the connection closes. */
async function envoyShutdown(client: EnvoyLikeClient, streams: EnvoyStream[], withGoaway: boolean): Promise<void> {
  for (const s of streams) if (s.state !== 'closed') client.reset(s, 0);
  if (withGoaway) client.goaway(0);
  client.end();
  await client.closedByServer();
  await eventually(() => env!.xds.transportStats()!.connections === 0, 'server connections to close');
}

function expectClean(client: EnvoyLikeClient): void {
  expect(client.violations).toEqual([]);
  expect(env!.xds.transportStats()!.protocolErrors).toBe(0);
}

describe('Envoy as the HTTP/2 client of the xDS server (h2 transport)', () => {
  it.each([1, 7, 61])('the first flight arriving in %i-octet pieces (slow network) is served the same', async (pieceBytes) => {
    await start();
    const { client, stream } = await connect({ firstFlightChunkBytes: pieceBytes }, { path: SOTW, message: sotw({ node: 'pieces', typeUrl: CDS }) });
    expect((await sotwReader(client, stream).read('CDS')).typeUrl).toBe(CDS);
    await envoyShutdown(client, [stream], true);
    expectClean(client);
  });

  it('hpack_table_size 256: the first block starts with a dynamic table size update to 256, later blocks evict within it', async () => {
    await start();
    const { client, stream } = await connect({ hpackTableSize: 256 }, { path: SOTW, message: sotw({ node: 'small-table', typeUrl: CDS }) });
    const als = client.openStream(ALS_METHOD_PATH, { message: encodeBatch([httpEntry({ model: 'm', version: 'v1' })], 'small-table') });
    // The five indexed fields (263 HPACK octets) do not fit in 256: every insert evicts the oldest entry, and the
    // server's decoder must evict exactly the same way to stay in sync.
    expect(client.hpackInserted).toBe(10);
    expect((await sotwReader(client, stream).read('CDS')).typeUrl).toBe(CDS);
    await eventually(() => env!.records.length === 1, 'ALS record');
    const third = client.openStream(SOTW, { message: sotw({ node: 'small-table-3', typeUrl: LDS }) });
    expect((await sotwReader(client, third).read('LDS')).typeUrl).toBe(LDS);
    await envoyShutdown(client, [stream, als, third], true);
    expectClean(client);
  });

  it.each(['oghttp2', 'nghttp2'] as const)('first flight as %s sends it (preface, SETTINGS, WINDOW_UPDATE, HEADERS, DATA in one write) is served', async (codec) => {
    await start();
    const { client, stream } = await connect({ codec }, { path: SOTW, message: sotw({ node: 'first-' + codec, typeUrl: CDS }) });
    const ids = client.firstSettings().map(([id]) => id);
    if (codec === 'oghttp2') expect(ids).toEqual([1, 2, 3, 4, 8]);
    else expect(ids).toEqual([2, 1, 8, 3, 4]);
    const cds = await sotwReader(client, stream).read('CDS');
    expect(cds.typeUrl).toBe(CDS);
    expect(cds.versionInfo).toBe('v1');
    expect(cds.resources).toHaveLength(2);
    // The server's preface: SETTINGS first, our SETTINGS ACKed exactly once, its connection window raised.
    expect(client.frames[0]!.type).toBe(FrameType.SETTINGS);
    expect(client.serverSettings.get(SETTINGS_ID.HEADER_TABLE_SIZE)).toBe(0);
    expect(client.serverSettings.get(SETTINGS_ID.ENABLE_PUSH)).toBe(0);
    expect(client.serverSettings.get(SETTINGS_ID.MAX_FRAME_SIZE)).toBe(16_384);
    expect(client.settingsAcksReceived).toBe(1);
    expect(client.frames.filter((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0)).toHaveLength(1);
    // Response headers as Envoy's gRPC client wants them.
    expect(stream.headers).toEqual([
      [':status', '200'],
      ['content-type', 'application/grpc'],
      ['grpc-accept-encoding', 'identity'],
    ]);
    // QUICHE's HPACK policy put :authority and the regular headers into the (server's) dynamic table.
    expect(client.hpackInserted).toBe(5);
    expect(client.frames.some((f) => f.type === FrameType.PRIORITY || f.type === FrameType.PUSH_PROMISE)).toBe(false);
    await envoyShutdown(client, [stream], true);
    expectClean(client);
  });

  it('SotW ADS conversation + ALS stream on one connection, then Envoy shutdown (RST_STREAM NO_ERROR, GOAWAY, FIN)', async () => {
    await start();
    const id = 'envoy-sotw';
    const { client, stream: ads } = await connect({}, { path: SOTW, message: sotw({ node: id, typeUrl: CDS }) });
    const r = sotwReader(client, ads);
    const cds = await r.read('CDS');
    expect(cds.versionInfo).toBe('v1');
    client.send(ads, sotw({ typeUrl: CDS, version: cds.versionInfo, nonce: cds.nonce }));
    client.send(ads, sotw({ typeUrl: EDS, names: ['model-v1', 'model-v2'] }));
    const eds = await r.read('EDS');
    expect(eds.typeUrl).toBe(EDS);
    expect(resourceNames(eds, claName)).toEqual(['model-v1', 'model-v2']);
    client.send(ads, sotw({ typeUrl: EDS, names: ['model-v1', 'model-v2'], version: eds.versionInfo, nonce: eds.nonce }));
    client.send(ads, sotw({ typeUrl: LDS }));
    const lds = await r.read('LDS');
    expect(lds.typeUrl).toBe(LDS);
    client.send(ads, sotw({ typeUrl: LDS, version: lds.versionInfo, nonce: lds.nonce }));
    client.send(ads, sotw({ typeUrl: RDS, names: ['routes'] }));
    const rds = await r.read('RDS');
    expect(rds.typeUrl).toBe(RDS);
    client.send(ads, sotw({ typeUrl: RDS, names: ['routes'], version: rds.versionInfo, nonce: rds.nonce }));
    await eventually(() => {
      const s = fleetOf(id);
      return s !== undefined && ['CDS', 'EDS', 'LDS', 'RDS'].every((t) => s.types[t as 'CDS']?.ackedVersion === 'v1');
    }, 'all four types ACKed');

    // A new snapshot: only RDS changes; Envoy NACKs it.
    env!.publish('v2', meshResources({ weights: [50, 50] }));
    const rds2 = await r.read('RDS push');
    expect(rds2.typeUrl).toBe(RDS);
    expect(rds2.versionInfo).toBe('v2');
    client.send(ads, sotw({ typeUrl: RDS, names: ['routes'], version: 'v1', nonce: rds2.nonce, error: 'route rejected' }));
    const nack = await eventually(() => fleetOf(id)?.types.RDS?.lastNack, 'NACK recorded');
    expect(nack).toMatchObject({ version: 'v2', message: 'route rejected', code: GRPC_ABORT_INVALID_ARGUMENT });
    expect(fleetOf(id)!.types.RDS!.ackedVersion).toBe('v1');
    await r.none(150);

    // The meshward_als cluster reaches the same address: Envoy opens the access log stream on this connection.
    // Its HEADERS start with a dynamic table size update to 0 (the server's SETTINGS, now ACKed).
    const als = client.openStream(ALS_METHOD_PATH, { message: encodeBatch([httpEntry({ identity: 'spiffe://meshward.local/ns/a/sa/x', model: 'chat', version: 'v1' })], id) });
    client.send(als, encodeBatch([httpEntry({ identity: 'spiffe://meshward.local/ns/a/sa/y', model: 'chat', version: 'v2', code: 503 })]));
    await eventually(() => env!.records.length === 2, 'two access log records');
    await env!.als.drained();
    expect(env!.records.map((x) => [x.nodeId, x.version, x.responseCode])).toEqual([
      [id, 'v1', 200],
      [id, 'v2', 503],
    ]);

    await envoyShutdown(client, [als, ads], true);
    expect(env!.xds.fleet.byNode(id)).toHaveLength(0);
    expectClean(client);
  });

  it('delta ADS conversation + ALS half-closed as Envoy does (empty DATA END_STREAM), then shutdown without GOAWAY', async () => {
    await start();
    const id = 'envoy-delta';
    const { client, stream: ads } = await connect({ codec: 'nghttp2' }, { path: DELTA, message: delta({ node: id, typeUrl: CDS, subscribe: ['*'] }) });
    const r = deltaReader(client, ads);
    const cds = await r.read('CDS');
    expect(cds.typeUrl).toBe(CDS);
    expect(cds.resources.map((x) => x.name).sort()).toEqual(['model-v1', 'model-v2']);
    client.send(ads, delta({ typeUrl: CDS, nonce: cds.nonce }));
    client.send(ads, delta({ typeUrl: EDS, subscribe: ['model-v1', 'model-v2'] }));
    const eds = await r.read('EDS');
    expect(eds.resources.map((x) => x.name).sort()).toEqual(['model-v1', 'model-v2']);
    client.send(ads, delta({ typeUrl: EDS, nonce: eds.nonce }));
    client.send(ads, delta({ typeUrl: LDS, subscribe: ['*'] }));
    const lds = await r.read('LDS');
    client.send(ads, delta({ typeUrl: LDS, nonce: lds.nonce }));
    client.send(ads, delta({ typeUrl: RDS, subscribe: ['routes'] }));
    const rds = await r.read('RDS');
    expect(rds.resources.map((x) => x.name)).toEqual(['routes']);
    client.send(ads, delta({ typeUrl: RDS, nonce: rds.nonce }));
    await eventually(() => {
      const s = fleetOf(id);
      return s !== undefined && s.protocol === 'delta' && ['CDS', 'EDS', 'LDS', 'RDS'].every((t) => s.types[t as 'CDS']?.ackedVersion === 'v1');
    }, 'all four types ACKed (delta)');

    env!.publish('v2', meshResources({ weights: [30, 70] }));
    const rds2 = await r.read('RDS push');
    expect(rds2.typeUrl).toBe(RDS);
    expect(rds2.systemVersionInfo).toBe('v2');
    client.send(ads, delta({ typeUrl: RDS, nonce: rds2.nonce, error: 'weights rejected' }));
    const nack = await eventually(() => fleetOf(id)?.types.RDS?.lastNack, 'delta NACK recorded');
    expect(nack).toMatchObject({ version: 'v2', message: 'weights rejected' });
    await r.none(150);

    const als = client.openStream(ALS_METHOD_PATH, { message: encodeBatch([httpEntry({ identity: 'spiffe://meshward.local/ns/a/sa/z', model: 'm', version: 'v9' })], id) });
    client.halfClose(als);
    await client.until(() => als.endStreamReceived, 'ALS status');
    expect(als.grpcStatus).toBe(0);
    expect(env!.records.map((x) => x.version)).toEqual(['v9']);
    // The server may end a stream whose client has not half-closed only with RST_STREAM NO_ERROR after its trailers;
    // here the client had half-closed, so nothing follows the trailers.
    expect(als.resetByServer).toBeUndefined();

    await envoyShutdown(client, [ads], false);
    expectClean(client);
  });

  it('first flight with two streams (ADS + ALS) before the server SETTINGS: the second block references the dynamic table', async () => {
    await start();
    const { client, firstStream } = await EnvoyLikeClient.connect(env!.port, {}, { path: SOTW, message: sotw({ node: 'two', typeUrl: LDS }) });
    clients.push(client);
    // Written before any server byte was read: a block made of indexed references into HPACK entries of block 1.
    const als = client.openStream(ALS_METHOD_PATH, { message: encodeBatch([httpEntry({ model: 'a', version: 'v1' })], 'two') });
    expect(client.hpackDynamicReferences).toBeGreaterThanOrEqual(5);
    const lds = await sotwReader(client, firstStream!).read('LDS');
    expect(lds.typeUrl).toBe(LDS);
    await eventually(() => env!.records.length === 1, 'ALS record');
    // After the ACK of the server's HEADER_TABLE_SIZE 0: a size update, then literals that no longer fit (RFC 7541 §4.4).
    await client.until(() => client.settingsAcksReceived > 0 && client.serverSettingsFrames > 0, 'settings exchange');
    const again = client.openStream(SOTW, { message: sotw({ node: 'two-b', typeUrl: CDS }) });
    expect((await sotwReader(client, again).read('CDS on a third stream')).typeUrl).toBe(CDS);
    await envoyShutdown(client, [firstStream!, als, again], true);
    expectClean(client);
  });

  it('oghttp2 applies the smaller HEADER_TABLE_SIZE on receipt: a HEADERS queued before its ACK starts with the size update and is decoded', async () => {
    await start();
    const { client, stream } = await connect({}, { path: SOTW, message: sotw({ node: 'early-update', typeUrl: CDS }) });
    let als: EnvoyStream | undefined;
    client.beforeSettingsAck = (c) => {
      als = c.openStream(ALS_METHOD_PATH, { message: encodeBatch([httpEntry({ model: 'm', version: 'v7' })], 'early-update') });
    };
    await sotwReader(client, stream).read('CDS');
    await eventually(() => env!.records.length === 1, 'ALS record');
    expect(als).toBeDefined();
    // Written before our ACK: one block with a size update to 0 and literals that no longer fit.
    const s3 = client.openStream(SOTW, { message: sotw({ node: 'early-update-2', typeUrl: LDS }) });
    expect((await sotwReader(client, s3).read('LDS')).typeUrl).toBe(LDS);
    await envoyShutdown(client, [stream, als!, s3], true);
    expectClean(client);
  });

  it('over mTLS (ALPN h2, client certificate): first flight right after the handshake, ADS + ALS, shutdown', async () => {
    const pki = createTestPki();
    try {
      const cache = createSnapshotCache();
      const seen: Array<string | undefined> = [];
      const xds = createXdsServer({
        cache,
        authenticate: (ctx) => {
          const uri = ctx.peerCertificate?.subjectaltname?.split(', ').find((x) => x.startsWith('URI:'));
          seen.push(uri);
          return { id: uri === undefined ? 'anonymous' : uri.slice(4), method: 'mtls' };
        },
      });
      const records: AccessRecord[] = [];
      const als = createAlsServer({ onRecords: (b) => records.push(...b) });
      const creds = createXdsServerCredentials({ mode: 'tls', certificateChain: pki.serverCert, privateKey: pki.serverKey, clientCa: pki.caPem, clientCertificates: 'optional' });
      const port = await xds.listen({ transport: 'h2', credentials: creds, extraServices: [als.service] });
      env = { cache, xds, als, records, port, publish: (version, resources) => cache.setSnapshot(GROUP, createSnapshot({ version, resources })) };
      env.publish('v1', meshResources());
      const spiffe = 'spiffe://meshward.local/ns/prod/sa/edge';
      const { client, stream } = await connect({ tls: { ca: pki.caPem, ...pki.client(spiffe) } }, { path: SOTW, message: sotw({ node: 'tls-envoy', typeUrl: CDS }) });
      const r = sotwReader(client, stream);
      const cds = await r.read('CDS over TLS');
      client.send(stream, sotw({ typeUrl: CDS, version: cds.versionInfo, nonce: cds.nonce }));
      client.send(stream, sotw({ typeUrl: LDS }));
      expect((await r.read('LDS over TLS')).typeUrl).toBe(LDS);
      expect(seen).toEqual([`URI:${spiffe}`]);
      expect(fleetOf('tls-envoy')!.identity).toEqual({ id: spiffe, method: 'mtls' });
      const alsStream = client.openStream(ALS_METHOD_PATH, { message: encodeBatch([httpEntry({ model: 'm', version: 'v1' })], 'tls-envoy') });
      await eventually(() => records.length === 1, 'ALS record over TLS');
      await envoyShutdown(client, [stream, alsStream], true);
      expectClean(client);
    } finally {
      pki.dispose();
    }
  });

  it('unknown and Envoy-specific SETTINGS (ENABLE_CONNECT_PROTOCOL 0, NO_RFC7540_PRIORITIES, custom ids) are ACKed and ignored', async () => {
    await start();
    const { client, stream } = await connect(
      { customSettings: [[SETTINGS_ID.NO_RFC7540_PRIORITIES, 1], [0xff01, 7]] },
      { path: SOTW, message: sotw({ node: 'settings', typeUrl: CDS }) },
    );
    expect(client.firstSettings().map(([i]) => i)).toEqual([1, 2, 3, 4, 8, 9, 0xff01]);
    await sotwReader(client, stream).read('CDS');
    // A later SETTINGS frame with only unknown ids is ACKed too.
    client.write(encodeSettings([[0xff02, 1]]));
    await client.until(() => client.settingsAcksReceived === 2, 'second ACK');
    await envoyShutdown(client, [stream], true);
    expectClean(client);
  });

  it('keepalive: Envoy PINGs (ms payload) are ACKed with the same payload; an unsolicited PING ACK is ignored; server PINGs are answered', async () => {
    await start({ keepaliveTimeMs: 100, keepaliveTimeoutMs: 5000 });
    const { client, stream } = await connect({}, { path: SOTW, message: sotw({ node: 'ping', typeUrl: CDS }) });
    const r = sotwReader(client, stream);
    await r.read('CDS');
    const payload = client.ping();
    await client.until(() => client.pingAcks.some((p) => p.equals(payload)), 'PING ACK');
    client.write(encodePing(Buffer.from('12345678'), true));
    // The server's own keepalive PING after 100 ms of silence: the client ACKs it (as the codec library does).
    await client.until(() => client.frames.some((f) => f.type === FrameType.PING && f.flags === 0), 'server PING', 3000);
    await new Promise((res) => setTimeout(res, 300));
    expect(client.closed).toBe(false);
    client.send(stream, sotw({ typeUrl: LDS }));
    expect((await r.read('LDS after pings')).typeUrl).toBe(LDS);
    await envoyShutdown(client, [stream], true);
    expectClean(client);
  });
});

describe('RFC 9113 corners Envoy can reach (big responses, window extremes, resets, GOAWAY mid-flight)', () => {
  /** One CLA with `count` endpoints: an EDS response of several MB. */
  function bigMesh(count: number): Message[] {
    const base = meshResources().filter((m) => m.$typeName !== ClusterLoadAssignmentSchema.typeName);
    const endpoints = Array.from({ length: count }, (_, i) => ({
      hostIdentifier: {
        case: 'endpoint' as const,
        value: { address: { address: { case: 'socketAddress' as const, value: { address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, portSpecifier: { case: 'portValue' as const, value: 8000 + (i % 1000) } } } } },
      },
    }));
    return [
      ...base,
      create(ClusterLoadAssignmentSchema, { clusterName: 'model-v1', endpoints: [{ lbEndpoints: endpoints }] }),
      create(ClusterLoadAssignmentSchema, { clusterName: 'model-v2', endpoints: [] }),
    ];
  }
  const BIG = 120_000;

  it('a multi-MB EDS response under Envoy default windows (2^28) goes out in DATA frames ≤ 16,384 and decodes', async () => {
    await start();
    env!.publish('big', bigMesh(BIG));
    const { client, stream } = await connect({}, { path: SOTW, message: sotw({ node: 'big', typeUrl: EDS, names: ['model-v1'] }) });
    const eds = await sotwReader(client, stream).read('big EDS', 15_000);
    const cla = fromBinary(ClusterLoadAssignmentSchema, eds.resources[0]!.value);
    expect(cla.endpoints[0]!.lbEndpoints).toHaveLength(BIG);
    expect(stream.dataBytes).toBeGreaterThan(2_000_000);
    const dataFrames = client.frames.filter((f) => f.type === FrameType.DATA && f.streamId === stream.id);
    expect(Math.max(...dataFrames.map((f) => f.length))).toBe(16_384);
    // Windows were never touched by the server: 2^28 each side is plenty; nothing to return yet.
    expect(client.frames.filter((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId !== 0)).toHaveLength(0);
    await envoyShutdown(client, [stream], true);
    expectClean(client);
  });

  it('peer windows at the maximum: SETTINGS_INITIAL_WINDOW_SIZE 2^31-1 and the connection window raised to exactly 2^31-1 are accepted', async () => {
    await start();
    env!.publish('big', bigMesh(40_000));
    const { client, stream } = await connect({ initialStreamWindowSize: 2 ** 31 - 1, initialConnectionWindowSize: 2 ** 31 - 1 }, { path: SOTW, message: sotw({ node: 'max', typeUrl: EDS, names: ['model-v1'] }) });
    const eds = await sotwReader(client, stream).read('EDS', 15_000);
    expect(eds.resources).toHaveLength(1);
    // Give back exactly what the server consumed: its connection send window is 2^31-1 again.
    client.write(encodeWindowUpdate(0, stream.dataBytes));
    await new Promise((res) => setTimeout(res, 100));
    expect(client.goaways).toEqual([]);
    // Beyond 2^31-1: FLOW_CONTROL_ERROR (RFC 9113 §6.9.1).
    client.write(encodeWindowUpdate(0, 1));
    await client.until(() => client.goaways.length > 0, 'GOAWAY');
    expect(client.goaways[0]!.code).toBe(0x3);
    client.destroy();
  });

  it('RST_STREAM NO_ERROR (Envoy) and CANCEL mid-response: no further DATA on it; ADS restarts on a new stream of the same connection', async () => {
    await start();
    env!.publish('big', bigMesh(BIG));
    for (const code of [0x0, 0x8]) {
      // The connection window (65,535, no auto WINDOW_UPDATE) stalls the response after one window.
      const { client, stream } = await connect({ initialConnectionWindowSize: 65_535, autoWindowUpdate: false }, { path: SOTW, message: sotw({ node: `reset-${code}`, typeUrl: EDS, names: ['model-v1'] }) });
      await client.until(() => stream.dataBytes === 65_535, 'first window of DATA');
      await new Promise((res) => setTimeout(res, 50));
      expect(stream.dataBytes).toBe(65_535);
      client.reset(stream, code);
      const framesAtReset = client.frames.length;
      client.grant(undefined, 16 * 1024 * 1024);
      // Envoy's gRPC mux reconnects; same connection, next stream id.
      const again = client.openStream(SOTW, { message: sotw({ node: `reset-${code}`, typeUrl: EDS, names: ['model-v1'] }) });
      client.grant(undefined, 2 ** 31 - 1 - 16 * 1024 * 1024 - 65_535);
      const eds = await sotwReader(client, again).read('EDS on the new stream', 15_000);
      expect(fromBinary(ClusterLoadAssignmentSchema, eds.resources[0]!.value).endpoints[0]!.lbEndpoints).toHaveLength(BIG);
      const after = client.frames.slice(framesAtReset).filter((f) => f.streamId === stream.id);
      expect(after).toEqual([]);
      await eventually(() => env!.xds.fleet.byNode(`reset-${code}`).length === 1, 'one stream left for the node');
      await envoyShutdown(client, [again], true);
      expectClean(client);
    }
  });

  it('GOAWAY from Envoy while a response is mid-flight: the response completes, a new stream is refused, FIN closes', async () => {
    await start();
    env!.publish('big', bigMesh(BIG));
    const { client, stream } = await connect({ initialConnectionWindowSize: 65_535, autoWindowUpdate: false }, { path: SOTW, message: sotw({ node: 'goaway', typeUrl: EDS, names: ['model-v1'] }) });
    await client.until(() => stream.dataBytes > 60_000, 'first window of DATA');
    client.goaway(0);
    await new Promise((res) => setTimeout(res, 50));
    client.grant(undefined, 2 ** 31 - 1 - 65_535);
    const eds = await sotwReader(client, stream).read('EDS completes after GOAWAY', 15_000);
    expect(fromBinary(ClusterLoadAssignmentSchema, eds.resources[0]!.value).endpoints[0]!.lbEndpoints).toHaveLength(BIG);
    // A stream opened after our GOAWAY (which Envoy never does) is refused, not served.
    const late = client.openStream(SOTW, { message: sotw({ node: 'goaway-late', typeUrl: CDS }) });
    await client.until(() => late.resetByServer !== undefined, 'REFUSED_STREAM');
    expect(late.resetByServer).toBe(0x7);
    expect(client.closed).toBe(false);
    client.reset(stream, 0);
    // No stream left and a GOAWAY received: the server ends the connection by itself.
    await client.closedByServer();
    expectClean(client);
  });

  it('server drain (xds.close) while Envoy is connected: trailers, RST_STREAM NO_ERROR, GOAWAY NO_ERROR naming the last stream, close', async () => {
    await start();
    const { client, stream } = await connect({}, { path: SOTW, message: sotw({ node: 'drain', typeUrl: CDS }) });
    await sotwReader(client, stream).read('CDS');
    const e = env!;
    env = undefined;
    await Promise.all([e.xds.close(), client.until(() => stream.endStreamReceived, 'trailers')]);
    await e.als.close();
    expect(client.goaways[0]).toMatchObject({ lastStreamId: stream.id, code: 0 });
    // The xDS server ends its streams first (grpc-status in trailers), then the transport sends GOAWAY.
    expect(stream.grpcStatus).toBeTypeOf('number');
    // Envoy had not half-closed: the trailers are followed by RST_STREAM NO_ERROR (RFC 9113 §8.1), legal in half-closed (remote).
    expect(stream.resetByServer).toBe(0);
    await client.closedByServer();
    expect(client.violations).toEqual([]);
  });

  it('a request larger than the server window waits for its WINDOW_UPDATE (Envoy buffers) and is served', async () => {
    await start({ initialWindowSize: 65_535 });
    const names = Array.from({ length: 6000 }, (_, i) => `cluster-with-a-long-name-${i}`);
    const { client, stream } = await connect({}, { path: SOTW, message: sotw({ node: 'bigreq', typeUrl: EDS, names: ['model-v1', ...names] }) });
    expect(stream.pendingSend.length).toBe(1); // more than 65,535 octets: the rest waits for the server's credit
    const eds = await sotwReader(client, stream).read('EDS for a big request', 10_000);
    expect(resourceNames(eds, claName)).toContain('model-v1');
    await envoyShutdown(client, [stream], true);
    expectClean(client);
  });

  it('SETTINGS_INITIAL_WINDOW_SIZE lowered to 0 mid-response stops DATA; raised again, the response resumes and completes (§6.9.2)', async () => {
    await start();
    env!.publish('big', bigMesh(BIG));
    const { client, stream } = await connect({ initialConnectionWindowSize: 65_535, autoWindowUpdate: false }, { path: SOTW, message: sotw({ node: 'iws', typeUrl: EDS, names: ['model-v1'] }) });
    await client.until(() => stream.dataBytes === 65_535, 'first window of DATA');
    client.settings([[SETTINGS_ID.INITIAL_WINDOW_SIZE, 0]]);
    await client.until(() => client.settingsAcksReceived === 2, 'ACK of the new SETTINGS');
    client.grant(undefined, 2 ** 31 - 1 - 65_535);
    await new Promise((res) => setTimeout(res, 100));
    expect(stream.dataBytes).toBe(65_535); // the stream window is now negative: nothing may be sent
    client.settings([[SETTINGS_ID.INITIAL_WINDOW_SIZE, ENVOY_DEFAULT_WINDOW]]);
    const eds = await sotwReader(client, stream).read('EDS after the window reopened', 15_000);
    expect(fromBinary(ClusterLoadAssignmentSchema, eds.resources[0]!.value).endpoints[0]!.lbEndpoints).toHaveLength(BIG);
    await envoyShutdown(client, [stream], true);
    expectClean(client);
  });

  it('a stream WINDOW_UPDATE past 2^31-1 resets only that stream (FLOW_CONTROL_ERROR); a SETTINGS change that overflows an open stream ends the connection', async () => {
    await start();
    const { client, stream } = await connect({}, { path: SOTW, message: sotw({ node: 'wu', typeUrl: CDS }) });
    await sotwReader(client, stream).read('CDS');
    client.write(encodeWindowUpdate(stream.id, 2 ** 31 - 1));
    await client.until(() => stream.resetByServer !== undefined, 'RST_STREAM');
    expect(stream.resetByServer).toBe(0x3);
    const s2 = client.openStream(SOTW, { message: sotw({ node: 'wu', typeUrl: CDS }) });
    await sotwReader(client, s2).read('CDS on a new stream');
    expect(client.goaways).toEqual([]);
    // Raise s2's window by 2^30, then move SETTINGS_INITIAL_WINDOW_SIZE from 2^28 to 2^31-1: s2 would exceed 2^31-1.
    client.write(encodeWindowUpdate(s2.id, 2 ** 30));
    client.write(encodeSettings([[SETTINGS_ID.INITIAL_WINDOW_SIZE, 2 ** 31 - 1]]));
    await client.until(() => client.goaways.length > 0, 'GOAWAY');
    expect(client.goaways[0]!.code).toBe(0x3);
    expect(client.violations).toEqual([]);
  });

  it('a big header block (initial_metadata) in HEADERS + CONTINUATION is served; over maxHeaderListSize it is RESOURCE_EXHAUSTED and the HPACK state stays in sync', async () => {
    await start();
    const token = 'Bearer ' + 'a'.repeat(40_000);
    // Both streams in the first flight (table 4096): the too-large block's indexed entries must still be applied.
    const { client, firstStream } = await EnvoyLikeClient.connect(env!.port, {}, { path: SOTW, message: sotw({ node: 'cont', typeUrl: CDS }), metadata: [['authorization', token]] });
    clients.push(client);
    const ok = client.openStream(SOTW, { message: sotw({ node: 'cont-ok', typeUrl: CDS }) });
    await client.until(() => firstStream!.endStreamReceived, 'trailers-only answer');
    expect(firstStream!.grpcStatus).toBe(8);
    expect(firstStream!.grpcMessage).toMatch(/header list larger than 16384/);
    expect(client.frames.some((f) => f.type === FrameType.GOAWAY)).toBe(false);
    expect((await sotwReader(client, ok).read('CDS on the second stream')).typeUrl).toBe(CDS);
    await envoyShutdown(client, [ok], true);
    expectClean(client);
  });

  it('with maxHeaderListSize raised, a 40 KB header block in HEADERS + CONTINUATION opens the stream', async () => {
    await start({ maxHeaderListSize: 128 * 1024 });
    const { client, stream } = await connect({}, { path: SOTW, message: sotw({ node: 'cont2', typeUrl: CDS }), metadata: [['authorization', 'Bearer ' + 'b'.repeat(40_000)]] });
    expect((await sotwReader(client, stream).read('CDS')).typeUrl).toBe(CDS);
    await envoyShutdown(client, [stream], true);
    expectClean(client);
  });

  it('Envoy cancels the ADS stream in its first flight (HEADERS, DATA, RST_STREAM NO_ERROR): nothing breaks, the next stream is served', async () => {
    await start();
    const { client, firstStream } = await EnvoyLikeClient.connect(env!.port, {}, { path: SOTW, message: sotw({ node: 'cancel', typeUrl: CDS }) });
    clients.push(client);
    client.reset(firstStream!, 0);
    const s2 = client.openStream(SOTW, { message: sotw({ node: 'cancel', typeUrl: LDS }) });
    expect((await sotwReader(client, s2).read('LDS')).typeUrl).toBe(LDS);
    await eventually(() => env!.xds.fleet.byNode('cancel').length === 1, 'one ADS stream');
    await envoyShutdown(client, [s2], true);
    expectClean(client);
  });

  it('GOAWAY last stream id never grows: server drain while a response is stalled, a stream refused after it, then a connection error (RFC 9113 §6.8)', async () => {
    await start();
    env!.publish('big', bigMesh(BIG));
    const { client, stream } = await connect({ initialConnectionWindowSize: 65_535, autoWindowUpdate: false }, { path: SOTW, message: sotw({ node: 'drain-big', typeUrl: EDS, names: ['model-v1'] }) });
    await client.until(() => stream.dataBytes === 65_535, 'first window of DATA');
    const e = env!;
    env = undefined;
    const closing = e.xds.close();
    await client.until(() => client.goaways.length === 1, 'graceful GOAWAY');
    expect(client.goaways[0]).toMatchObject({ lastStreamId: 1, code: 0 });
    // Envoy's ALS stream was already on its way: refused.
    const late = client.openStream(ALS_METHOD_PATH, { message: encodeBatch([httpEntry({ model: 'x', version: 'v1' })], 'drain-big') });
    await client.until(() => late.resetByServer !== undefined, 'REFUSED_STREAM');
    expect(late.resetByServer).toBe(0x7);
    // A protocol error now (a PING of 7 octets): the second GOAWAY must not name stream 3.
    client.write(encodeFrame(FrameType.PING, 0, 0, Buffer.alloc(7)));
    await client.until(() => client.goaways.length === 2, 'second GOAWAY');
    expect(client.goaways[1]).toMatchObject({ lastStreamId: 1, code: 0x6 });
    await closing;
    await e.als.close();
    expect(client.violations).toEqual([]);
  });

  it('a malformed PRIORITY: RST_STREAM FRAME_SIZE_ERROR on an open stream, but never RST_STREAM on an idle one (connection error instead)', async () => {
    await start();
    const { client, stream } = await connect({}, { path: SOTW, message: sotw({ node: 'prio', typeUrl: CDS }) });
    await sotwReader(client, stream).read('CDS');
    client.write(encodeFrame(FrameType.PRIORITY, 0, stream.id, Buffer.alloc(4)));
    await client.until(() => stream.resetByServer !== undefined, 'RST_STREAM on the open stream');
    expect(stream.resetByServer).toBe(0x6);
    client.write(encodeFrame(FrameType.PRIORITY, 0, 7, Buffer.alloc(4)));
    await client.until(() => client.goaways.length > 0, 'GOAWAY');
    expect(client.goaways[0]).toMatchObject({ code: 0x6, lastStreamId: 1 });
    expect(client.violations).toEqual([]);
  });

  it('server stream window below 65,535: the request DATA Envoy sends before it has seen our SETTINGS (up to 65,535) is accepted', async () => {
    await start({ initialWindowSize: 16_384 });
    const names = Array.from({ length: 1800 }, (_, i) => `cluster-with-a-long-name-${i}`);
    const request = sotw({ node: 'small-window', typeUrl: EDS, names: ['model-v1', ...names] });
    expect(request.length).toBeGreaterThan(50_000);
    expect(request.length).toBeLessThan(65_535 - 5);
    const { client, stream } = await connect({}, { path: SOTW, message: request });
    expect(stream.pendingSend).toHaveLength(0); // all of it went out in the first flight
    const r = sotwReader(client, stream);
    const eds = await r.read('EDS');
    expect(resourceNames(eds, claName)).toEqual(['model-v1']);
    // A second request after the SETTINGS exchange is held to the 16,384 window and credited by the server.
    client.send(stream, sotw({ typeUrl: EDS, names: ['model-v2', ...names], version: eds.versionInfo, nonce: eds.nonce }));
    expect(resourceNames(await r.read('EDS again'), claName)).toEqual(['model-v2']);
    await envoyShutdown(client, [stream], true);
    expectClean(client);
  });

  it('Envoy ends the connection on its own error (GOAWAY PROTOCOL_ERROR) or on a keepalive timeout (close, no GOAWAY): the server cleans up', async () => {
    await start();
    const a = await connect({}, { path: SOTW, message: sotw({ node: 'err-goaway', typeUrl: CDS }) });
    const b = await connect({}, { path: DELTA, message: delta({ node: 'err-close', typeUrl: CDS, subscribe: ['*'] }) });
    await sotwReader(a.client, a.stream).read('CDS a');
    await deltaReader(b.client, b.stream).read('CDS b');
    expect(env!.xds.fleet.byNode('err-goaway')).toHaveLength(1);
    a.client.goaway(0x1);
    await eventually(() => env!.xds.fleet.byNode('err-goaway').length === 0, 'stream of a ended by the GOAWAY');
    a.client.end();
    await a.client.closedByServer();
    b.client.destroy(); // NoFlush close
    await eventually(() => env!.xds.fleet.byNode('err-close').length === 0 && env!.xds.transportStats()!.connections === 0, 'b cleaned up');
    expect(env!.xds.transportStats()!.protocolErrors).toBe(0);
    expect(a.client.violations).toEqual([]);
    expect(b.client.violations).toEqual([]);
  });

  it('the server ends an ADS stream (INVALID_ARGUMENT): trailers + RST_STREAM NO_ERROR; Envoy\'s late RST and retry on the same connection are fine', async () => {
    await start();
    const { client, stream } = await connect({}, { path: SOTW, message: Buffer.from([0x12, 0xff, 0xff, 0x03]) });
    await client.until(() => stream.endStreamReceived, 'trailers');
    expect(stream.grpcStatus).toBe(3);
    expect(stream.headers?.find(([n]) => n === ':status')?.[1]).toBe('200');
    await client.until(() => stream.resetByServer !== undefined, 'RST_STREAM NO_ERROR after the trailers');
    expect(stream.resetByServer).toBe(0);
    // Envoy's router resets the upstream stream it had not finished sending (RST_STREAM NO_ERROR): ignored.
    client.write(encodeRstStream(stream.id, 0));
    const retry = client.openStream(SOTW, { message: sotw({ node: 'retry', typeUrl: CDS }) });
    expect((await sotwReader(client, retry).read('CDS on the retry stream')).typeUrl).toBe(CDS);
    await envoyShutdown(client, [retry], true);
    expectClean(client);
  });

  it('status messages with non-ASCII, control characters and % reach Envoy percent-encoded, in values oghttp2 accepts (headers, trailers, trailers-only)', async () => {
    const message = 'naïve\tcafé\n100% \u{1F600}\u007f';
    const metadataValue = 'plain ascii ~!';
    const server = createGrpcServer({
      handlers: {
        '/t.T/Fail': (call) => {
          call.onMessage = () => {
            const md = new Metadata();
            md.set('x-detail', metadataValue);
            call.sendHeaders(md);
            call.fail(GrpcStatus.INVALID_ARGUMENT, message, md);
          };
        },
        '/t.T/FailEarly': (call) => call.fail(GrpcStatus.PERMISSION_DENIED, message),
      },
    });
    const port = await server.listen();
    try {
      const { client, firstStream } = await EnvoyLikeClient.connect(port, {}, { path: '/t.T/Fail', message: Buffer.from('x') });
      clients.push(client);
      const early = client.openStream('/t.T/FailEarly');
      await client.until(() => firstStream!.endStreamReceived && early.endStreamReceived, 'both statuses');
      expect(firstStream!.grpcStatus).toBe(3);
      expect(percentDecodeGrpcMessage(firstStream!.grpcMessage!)).toBe(message);
      expect(firstStream!.headers!.find(([n]) => n === 'x-detail')?.[1]).toBe(metadataValue);
      expect(early.trailers).toBeUndefined(); // trailers-only
      expect(early.grpcStatus).toBe(7);
      expect(percentDecodeGrpcMessage(early.grpcMessage!)).toBe(message);
      expect(client.violations).toEqual([]);
    } finally {
      await server.close(100);
    }
  });

  it('request messages split anywhere (a gRPC prefix cut by the stream window, messages coalesced after a stall) are reassembled', async () => {
    const got: number[] = [];
    const server = createGrpcServer({
      initialWindowSize: 65_535,
      handlers: {
        '/t.T/Sink': (call) => {
          call.onMessage = (m) => got.push(m.length);
          call.onEnd = () => call.end();
        },
      },
    });
    const port = await server.listen();
    try {
      const { client, firstStream: s } = await EnvoyLikeClient.connect(port, {}, { path: '/t.T/Sink' });
      clients.push(client);
      await client.until(() => client.serverSettingsFrames > 0 && client.connSendWindow > 65_535, 'server SETTINGS and connection window');
      // 65,532 framed octets leave 3 octets of stream window: the next message's 5-octet prefix is cut after 3.
      client.send(s!, Buffer.alloc(65_527, 1));
      const sizes = [1000, 20_000, 16_379, 7, 0, 40_000];
      for (const n of sizes) client.send(s!, Buffer.alloc(n, 2));
      const cut = client.streams.get(s!.id)!;
      expect(cut.sendWindow).toBe(0);
      client.halfClose(s!);
      await client.until(() => s!.endStreamReceived, 'status after all messages');
      expect(s!.grpcStatus).toBe(0);
      expect(got).toEqual([65_527, ...sizes]);
      expect(client.violations).toEqual([]);
    } finally {
      await server.close(100);
    }
  });

  it('raw frames Envoy may send are tolerated: PRIORITY on a stream, WINDOW_UPDATE on a closed stream, empty DATA END_STREAM after a reset', async () => {
    await start();
    const { client, stream } = await connect({}, { path: SOTW, message: sotw({ node: 'raw', typeUrl: CDS }) });
    await sotwReader(client, stream).read('CDS');
    client.write(encodeFrame(FrameType.PRIORITY, 0, stream.id, Buffer.from([0, 0, 0, 0, 15])));
    client.reset(stream, 0);
    client.write(encodeWindowUpdate(stream.id, 1000));
    client.write(encodeFrame(FrameType.DATA, Flag.END_STREAM, stream.id));
    const s2 = client.openStream(SOTW, { message: sotw({ node: 'raw', typeUrl: LDS }) });
    expect((await sotwReader(client, s2).read('LDS')).typeUrl).toBe(LDS);
    await envoyShutdown(client, [s2], true);
    expectClean(client);
  });
});

describe('the Envoy-like checker flags what Envoy\'s codec rejects (so the suites above can fail)', () => {
  const OK_HEADERS: Array<[string, string]> = [
    [':status', '200'],
    ['content-type', 'application/grpc'],
  ];
  const headers = (id: number, list: Array<[string, string]>, endStream = false) =>
    encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0), id, encodeHeaderBlock(list));
  const data = (id: number, bytes: Buffer, endStream = false) => encodeFrame(FrameType.DATA, endStream ? Flag.END_STREAM : 0, id, bytes);
  const grpcMsg = (n: number, flag = 0) => {
    const b = Buffer.alloc(5 + n);
    b[0] = flag;
    b.writeUInt32BE(n, 1);
    return b;
  };
  const trailers = (id: number) => headers(id, [['grpc-status', '0']], true);
  /** Literal without indexing, new name, raw octets (our encoder refuses upper-case names). */
  const literal = (name: string, value: string) => Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name, 'latin1'), Buffer.from([value.length]), Buffer.from(value, 'latin1')]);
  const cases: Array<[string, (id: number) => Buffer[], RegExp, EnvoyLikeOptions?]> = [
    ['pseudo-header in trailers', (id) => [headers(id, OK_HEADERS), headers(id, [[':status', '200'], ['grpc-status', '0']], true)], /pseudo-header :status in trailers/],
    ['upper-case header name', (id) => [encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, id, Buffer.concat([encodeHeaderBlock(OK_HEADERS), literal('X-Bad', '1')]))], /upper-case header name X-Bad/],
    ['DATA after END_STREAM', (id) => [headers(id, OK_HEADERS), trailers(id), data(id, grpcMsg(1))], /DATA on stream 1 after END_STREAM/],
    ['stream window overflow', (id) => [headers(id, OK_HEADERS), ...Array.from({ length: 5 }, () => data(id, Buffer.alloc(16_000)))], /overflows stream 1's receive window/, { initialStreamWindowSize: 65_535, autoWindowUpdate: false }],
    ['content-length mismatch', (id) => [headers(id, [...OK_HEADERS, ['content-length', '3']]), data(id, grpcMsg(4)), trailers(id)], /content-length/],
    ['consecutive empty frames', (id) => [headers(id, OK_HEADERS), data(id, Buffer.alloc(0)), data(id, Buffer.alloc(0))], /consecutive empty frames/],
    ['frame over 16,384', (id) => [headers(id, OK_HEADERS), data(id, Buffer.alloc(16_385))], /length 16385 > 16384/],
    ['compressed gRPC flag', (id) => [headers(id, OK_HEADERS), data(id, grpcMsg(2, 1))], /compressed flag 1/],
    ['no :status', (id) => [headers(id, [['content-type', 'application/grpc']])], /0 :status fields/],
    ['obs-text in a header value', (id) => [headers(id, [...OK_HEADERS, ['grpc-message', 'caf\u00e9']])], /characters oghttp2 refuses/],
    ['connection-specific header', (id) => [headers(id, [...OK_HEADERS, ['connection', 'close']])], /connection-specific header connection/],
    ['DATA END_STREAM without trailers', (id) => [headers(id, OK_HEADERS), data(id, grpcMsg(0), true)], /DATA with END_STREAM \(no trailers\)/],
    ['frame inside a header block', (id) => [encodeFrame(FrameType.HEADERS, 0, id, encodeHeaderBlock(OK_HEADERS)), encodePing(Buffer.alloc(8), false)], /inside the header block/],
    ['send window overflow', () => [encodeWindowUpdate(0, 2 ** 31 - 1)], /connection send window overflow/],
    ['GOAWAY last stream id grows', () => [encodeFrame(FrameType.GOAWAY, 0, 0, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])), encodeFrame(FrameType.GOAWAY, 0, 0, Buffer.from([0, 0, 0, 1, 0, 0, 0, 0]))], /GOAWAY last stream id grew/],
    ['PUSH_PROMISE', (id) => [encodeFrame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, id, Buffer.from([0, 0, 0, 2]))], /PUSH_PROMISE/],
  ];
  it.each(cases)('%s', async (_name, script, expected, options) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write(Buffer.concat([encodeSettings([]), ...script(1)]));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const { client } = await EnvoyLikeClient.connect(port, options ?? {}, { path: SOTW, message: Buffer.from('x') });
      clients.push(client);
      await client.until(() => client.violations.length > 0, 'a violation', 2000);
      expect(client.violations.join('\n')).toMatch(expected);
    } finally {
      for (const c of clients.splice(0)) c.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a well-behaved raw server produces no violation (the checker is not trigger-happy)', async () => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.write(Buffer.concat([encodeSettings([]), headers(1, OK_HEADERS), data(1, grpcMsg(3)), trailers(1), encodeRstStream(1, 0)])));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { client, firstStream } = await EnvoyLikeClient.connect((server.address() as net.AddressInfo).port, {}, { path: SOTW, message: Buffer.from('x') });
      clients.push(client);
      await client.until(() => firstStream!.resetByServer !== undefined, 'end of the response');
      expect(firstStream!.grpcStatus).toBe(0);
      expect(firstStream!.messages).toHaveLength(1);
      expect(client.violations).toEqual([]);
    } finally {
      for (const c of clients.splice(0)) c.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
