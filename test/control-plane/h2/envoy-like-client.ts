/**
 * An "Envoy-like" raw HTTP/2 gRPC client for tests of meshward's h2 server: it reproduces the
 * structure of what Envoy's HTTP/2 client codec (oghttp2 or nghttp2 behind
 * source/common/http/http2/codec_impl.cc) puts on the wire for an Envoy gRPC stream (ADS, ALS), and
 * checks every frame the server sends against what that codec would accept. The facts it is built
 * on are listed, with Envoy/QUICHE source paths, in envoy-client.test.ts.
 *
 * What it does like Envoy:
 *  - first flight in ONE write: preface, SETTINGS (ENABLE_PUSH 0, HEADER_TABLE_SIZE 4096,
 *    ENABLE_CONNECT_PROTOCOL 0, MAX_CONCURRENT_STREAMS 2^31-1, INITIAL_WINDOW_SIZE 2^28; oghttp2
 *    orders them by id, nghttp2 as submitted), WINDOW_UPDATE on stream 0 (2^28 - 65,535), then the
 *    first stream's HEADERS and DATA — all before it has seen a byte from the server;
 *  - request headers as Envoy's gRPC async client + router produce them (pseudo-headers first,
 *    :authority = cluster name, te, content-type, x-envoy-internal, x-forwarded-for), HPACK-encoded
 *    with QUICHE's default indexing policy (literal with incremental indexing for :authority and
 *    every regular header, indexed references on later blocks, a dynamic table size update to the
 *    server's SETTINGS_HEADER_TABLE_SIZE at the start of the first block after it ACKed it);
 *  - half-close as an empty DATA frame with END_STREAM; local reset as RST_STREAM NO_ERROR;
 *    keepalive PING with the 8-octet big-endian ms-since-epoch payload; ACKs every SETTINGS and PING;
 *  - receive flow control: WINDOW_UPDATE once half of a window was consumed (can be turned off, to
 *    stall the server); send flow control: buffers DATA until the server grants window.
 *
 * What it checks (each breach is recorded in `violations`, which tests expect to stay empty):
 * frame sizes ≤ 16,384 (Envoy never raises SETTINGS_MAX_FRAME_SIZE), server preface first, stream ids
 * (no frames on idle or even streams, nothing but RST_STREAM after END_STREAM, nothing after
 * RST_STREAM), no PUSH_PROMISE, header block sequencing (CONTINUATION only right after), response
 * header rules (exactly one valid :status, no other pseudo-headers, pseudo-headers first, lower-case
 * names, no connection-specific headers, te only "trailers"), trailers with END_STREAM and without
 * pseudo-headers, content-length vs DATA, gRPC message framing (compressed flag 0), receive windows
 * (stream and connection), send window overflow, empty frames without END_STREAM (Envoy's
 * max_consecutive_inbound_frames_with_empty_payload = 1), the WINDOW_UPDATE flood bound of Envoy's
 * protocol constraints, SETTINGS and PING frame shapes, GOAWAY last-stream-id never increasing.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { CONNECTION_PREFACE, Flag, FrameType, encodeFrame, encodeGoaway, encodePing, encodeRstStream, encodeSettings, encodeWindowUpdate } from '../../../control-plane/src/h2/frame.js';
import { createHpackDecoder, huffmanEncode, staticTableEntries, type HpackDecoder } from '../../../control-plane/src/h2/hpack.js';
import { nextWake } from './h2-test-kit.js';

export const ENVOY_DEFAULT_WINDOW = 268_435_456;
const H2_DEFAULT_WINDOW = 65_535;
const MAX_WINDOW = 2 ** 31 - 1;
const ENVOY_MAX_FRAME_SIZE = 16_384;
/** Envoy's default max_inbound_window_update_frames_per_data_frame_sent. */
const WINDOW_UPDATES_PER_DATA_FRAME = 10;

export const SETTINGS_ID = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  ENABLE_CONNECT_PROTOCOL: 0x8,
  NO_RFC7540_PRIORITIES: 0x9,
} as const;

export interface EnvoyLikeOptions {
  /** Which Envoy codec to mimic (SETTINGS order). Defaults to 'oghttp2'. */
  readonly codec?: 'oghttp2' | 'nghttp2';
  /** :authority of gRPC streams (Envoy: the cluster name). Defaults to 'meshward_xds'. */
  readonly authority?: string;
  /** http2_protocol_options.initial_stream_window_size. Defaults to 268435456. */
  readonly initialStreamWindowSize?: number;
  /** http2_protocol_options.initial_connection_window_size. Defaults to 268435456. */
  readonly initialConnectionWindowSize?: number;
  /** http2_protocol_options.hpack_table_size: our SETTINGS_HEADER_TABLE_SIZE and (oghttp2 max_hpack_encoding_table_capacity)
   *  the bound of our encoder's table; a bound below 4096 starts the first block with a size update. Defaults to 4096. */
  readonly hpackTableSize?: number;
  /** http2_protocol_options.custom_settings_parameters. */
  readonly customSettings?: ReadonlyArray<readonly [id: number, value: number]>;
  /** Local address Envoy's async client appends as x-forwarded-for. */
  readonly localAddress?: string;
  /** Return receive window as data is consumed (default true). Off: the server stalls at our windows. */
  readonly autoWindowUpdate?: boolean;
  /** Write the first flight in pieces of this many octets, one per event-loop turn (default: one write). */
  readonly firstFlightChunkBytes?: number;
  /** TLS as Envoy's xDS cluster does it (ALPN h2; `cert`/`key` for mTLS). Default: plaintext (h2c prior knowledge). */
  readonly tls?: { readonly ca: string; readonly cert?: string; readonly key?: string; readonly servername?: string };
}

export interface FirstStream {
  readonly path: string;
  /** Encoded gRPC message (protobuf bytes) sent in the first flight. */
  readonly message?: Uint8Array;
  readonly metadata?: ReadonlyArray<readonly [string, string]>;
}

export interface ServerFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly length: number;
  /** For small frames only (≤ 64 bytes) or control frames; DATA payloads are not kept. */
  readonly payload: Buffer | undefined;
}

type StreamState = 'open' | 'half-closed-local' | 'half-closed-remote' | 'closed';

export class EnvoyStream {
  readonly id: number;
  state: StreamState = 'open';
  /** Response headers (decoded, in wire order) once received. */
  headers: Array<[string, string]> | undefined = undefined;
  trailers: Array<[string, string]> | undefined = undefined;
  /** gRPC messages received. */
  readonly messages: Buffer[] = [];
  /** RST_STREAM code received from the server, if any. */
  resetByServer: number | undefined = undefined;
  resetLocally = false;
  endStreamReceived = false;
  dataBytes = 0;
  dataFrames = 0;
  recvWindow: number;
  recvUnacked = 0;
  sendWindow: number;
  pendingSend: Array<{ bytes: Buffer; endStream: boolean }> = [];
  private grpcBuffer: Buffer = Buffer.alloc(0);
  contentLength: number | undefined = undefined;

  constructor(id: number, recvWindow: number, sendWindow: number) {
    this.id = id;
    this.recvWindow = recvWindow;
    this.sendWindow = sendWindow;
  }

  /** @internal */
  pushData(data: Buffer, violations: string[]): void {
    this.grpcBuffer = this.grpcBuffer.length === 0 ? Buffer.from(data) : Buffer.concat([this.grpcBuffer, data]);
    while (this.grpcBuffer.length >= 5) {
      const flag = this.grpcBuffer[0]!;
      const length = this.grpcBuffer.readUInt32BE(1);
      if (this.grpcBuffer.length < 5 + length) break;
      if (flag !== 0 && length > 0) violations.push(`stream ${this.id}: gRPC message with compressed flag ${flag} (Envoy's async client fails the stream with INTERNAL)`);
      this.messages.push(Buffer.from(this.grpcBuffer.subarray(5, 5 + length)));
      this.grpcBuffer = this.grpcBuffer.subarray(5 + length);
    }
  }
  get partialMessageBytes(): number {
    return this.grpcBuffer.length;
  }
  /** grpc-status of the trailers (or of a trailers-only response). */
  get grpcStatus(): number | undefined {
    const block = this.trailers ?? (this.endStreamReceived ? this.headers : undefined);
    const v = block?.find(([n]) => n === 'grpc-status')?.[1];
    return v === undefined ? undefined : Number(v);
  }
  get grpcMessage(): string | undefined {
    const block = this.trailers ?? (this.endStreamReceived ? this.headers : undefined);
    return block?.find(([n]) => n === 'grpc-message')?.[1];
  }
}

const STATIC = staticTableEntries();
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
/** quiche/http2/adapter/header_validator.cc: header name characters (RFC 9110 token, lower case) and value characters (no obs-text by default). */
const VALID_NAME = /^[!#$%&'*+\-.0-9^_`a-z|~]+$/;
const VALID_VALUE = /^[\t\x20-\x7e]*$/;

/** HPACK encoder with QUICHE's default indexing policy (quiche/http2/hpack/hpack_encoder.cc DefaultPolicy). */
class QuicheLikeHpackEncoder {
  constructor(private readonly nghttp2: boolean) {}
  private table: Array<[string, string]> = []; // newest first
  private size = 0;
  private capacity = 4096;
  private pendingSizeUpdate: number | undefined = undefined;
  /** Entries inserted with incremental indexing and indexed references emitted, for tests. */
  inserted = 0;
  dynamicReferences = 0;

  /** The peer's SETTINGS_HEADER_TABLE_SIZE applies from the next block (after we ACKed it). */
  applyTableSizeSetting(bytes: number): void {
    const capacity = Math.min(bytes, 4096);
    if (capacity === this.capacity && this.pendingSizeUpdate === undefined) return;
    this.capacity = capacity;
    this.pendingSizeUpdate = capacity;
    this.evict();
  }
  get tableSize(): number {
    return this.size;
  }

  encode(headers: ReadonlyArray<readonly [string, string]>): Buffer {
    const out: number[] = [];
    if (this.pendingSizeUpdate !== undefined) {
      this.integer(out, this.pendingSizeUpdate, 5, 0x20);
      this.pendingSizeUpdate = undefined;
    }
    for (const [name, value] of headers) {
      const staticExact = STATIC.findIndex(([n, v]) => n === name && v === value);
      if (staticExact >= 0) {
        this.integer(out, staticExact + 1, 7, 0x80);
        continue;
      }
      const dynamicExact = this.table.findIndex(([n, v]) => n === name && v === value);
      if (dynamicExact >= 0) {
        this.integer(out, STATIC.length + dynamicExact + 1, 7, 0x80);
        this.dynamicReferences++;
        continue;
      }
      const entrySize = name.length + value.length + 32;
      // QUICHE: :authority and regular headers; nghttp2 (hd_deflate_should_indexing) also skips :path and
      // entries larger than 3/4 of the table.
      const index = (name.startsWith(':') ? name === ':authority' : true) && !(this.nghttp2 && entrySize > (this.capacity * 3) / 4);
      let nameIndex = STATIC.findIndex(([n]) => n === name) + 1;
      if (nameIndex === 0) {
        const d = this.table.findIndex(([n]) => n === name);
        if (d >= 0) nameIndex = STATIC.length + d + 1;
      }
      if (index) this.integer(out, nameIndex, 6, 0x40);
      else this.integer(out, nameIndex, 4, 0x00);
      if (nameIndex === 0) this.string(out, name);
      this.string(out, value);
      if (index) this.insert(name, value);
    }
    return Buffer.from(out);
  }

  private insert(name: string, value: string): void {
    const entrySize = name.length + value.length + 32;
    if (entrySize > this.capacity) {
      this.table = [];
      this.size = 0;
      return;
    }
    this.table.unshift([name, value]);
    this.size += entrySize;
    this.inserted++;
    this.evict();
  }
  private evict(): void {
    while (this.size > this.capacity) {
      const [n, v] = this.table.pop()!;
      this.size -= n.length + v.length + 32;
    }
  }
  private integer(out: number[], value: number, prefixBits: number, pattern: number): void {
    const max = (1 << prefixBits) - 1;
    if (value < max) {
      out.push(pattern | value);
      return;
    }
    out.push(pattern | max);
    value -= max;
    while (value >= 128) {
      out.push((value % 128) + 128);
      value = Math.floor(value / 128);
    }
    out.push(value);
  }
  private string(out: number[], text: string): void {
    const raw = Buffer.from(text, 'latin1');
    const huff = huffmanEncode(raw);
    if (huff.length < raw.length) {
      this.integer(out, huff.length, 7, 0x80);
      for (const b of huff) out.push(b);
    } else {
      this.integer(out, raw.length, 7, 0x00);
      for (const b of raw) out.push(b);
    }
  }
}

/** A hand-driven Envoy-like HTTP/2 client connection. */
export class EnvoyLikeClient {
  readonly socket: net.Socket;
  readonly options: Required<Omit<EnvoyLikeOptions, 'customSettings' | 'tls' | 'firstFlightChunkBytes'>> & { customSettings: ReadonlyArray<readonly [number, number]> };
  /** Every frame the server sent, in order (DATA payloads not kept). */
  readonly frames: ServerFrame[] = [];
  /** Everything the server did that Envoy's codec would reject or that breaks RFC 9113. */
  readonly violations: string[] = [];
  readonly streams = new Map<number, EnvoyStream>();
  /** Runs once, when the server's next SETTINGS was read and applied, before our ACK is written. */
  beforeSettingsAck: ((client: EnvoyLikeClient) => void) | undefined = undefined;
  /** Server SETTINGS values as last received. */
  readonly serverSettings = new Map<number, number>();
  serverSettingsFrames = 0;
  settingsAcksReceived = 0;
  pingAcks: Buffer[] = [];
  goaways: Array<{ lastStreamId: number; code: number; debug: string }> = [];
  closed = false;
  nextStreamId = 1;
  /** Our connection receive window, and the server's connection window for us. */
  connRecvWindow: number;
  private connRecvUnacked = 0;
  connSendWindow = H2_DEFAULT_WINDOW;
  serverInitialWindow = H2_DEFAULT_WINDOW;
  private readonly encoder: QuicheLikeHpackEncoder;
  private readonly decoder: HpackDecoder = createHpackDecoder({ maxTableSize: 4096, maxHeaderListSize: 60 * 1024 });
  private buffer: Buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private blockStream = 0;
  private blockFlags = 0;
  private blockParts: Buffer[] = [];
  private consecutiveEmpty = 0;
  private windowUpdatesReceived = 0;
  private dataFramesSent = 0;
  private pendingTableSize: number | undefined = undefined;
  /** Our current SETTINGS_INITIAL_WINDOW_SIZE. */
  private streamWindow: number;
  /** Bytes written while the first flight is still going out in pieces. */
  private held: Uint8Array[] | undefined = undefined;

  private constructor(socket: net.Socket, options: EnvoyLikeOptions) {
    this.socket = socket;
    this.options = {
      codec: options.codec ?? 'oghttp2',
      authority: options.authority ?? 'meshward_xds',
      initialStreamWindowSize: options.initialStreamWindowSize ?? ENVOY_DEFAULT_WINDOW,
      initialConnectionWindowSize: options.initialConnectionWindowSize ?? ENVOY_DEFAULT_WINDOW,
      customSettings: options.customSettings ?? [],
      hpackTableSize: options.hpackTableSize ?? 4096,
      localAddress: options.localAddress ?? '10.0.0.7',
      autoWindowUpdate: options.autoWindowUpdate ?? true,
    };
    this.connRecvWindow = this.options.initialConnectionWindowSize;
    this.streamWindow = this.options.initialStreamWindowSize;
    this.encoder = new QuicheLikeHpackEncoder(this.options.codec === 'nghttp2');
    if (this.options.hpackTableSize < 4096) this.encoder.applyTableSizeSetting(this.options.hpackTableSize);
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects and writes Envoy's first flight (with the first stream's HEADERS + DATA when given) in one write. */
  static async connect(port: number, options: EnvoyLikeOptions = {}, first?: FirstStream): Promise<{ client: EnvoyLikeClient; firstStream: EnvoyStream | undefined }> {
    const t = options.tls;
    const socket =
      t === undefined
        ? net.connect(port, '127.0.0.1')
        : tls.connect({ host: '127.0.0.1', port, ca: t.ca, servername: t.servername ?? 'localhost', ALPNProtocols: ['h2'], ...(t.cert !== undefined && t.key !== undefined ? { cert: t.cert, key: t.key } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once(t === undefined ? 'connect' : 'secureConnect', resolve);
      socket.once('error', reject);
    });
    if (t !== undefined && (socket as tls.TLSSocket).alpnProtocol !== 'h2') throw new Error(`ALPN: server chose ${String((socket as tls.TLSSocket).alpnProtocol)}`);
    socket.setNoDelay(true);
    const client = new EnvoyLikeClient(socket, options);
    const parts: Buffer[] = [CONNECTION_PREFACE, encodeSettings(client.firstSettings())];
    const increment = client.options.initialConnectionWindowSize - H2_DEFAULT_WINDOW;
    if (increment > 0) parts.push(encodeWindowUpdate(0, increment));
    let firstStream: EnvoyStream | undefined;
    if (first !== undefined) {
      const { stream, frames } = client.buildStream(first.path, first.metadata ?? []);
      firstStream = stream;
      parts.push(...frames);
      if (first.message !== undefined) parts.push(...client.takeData(stream, grpcFrame(first.message), false));
    }
    const flight = Buffer.concat(parts);
    const chunk = options.firstFlightChunkBytes;
    if (chunk === undefined) socket.write(flight);
    else {
      // A slow network or small TLS records: the server sees the first flight in pieces, across event-loop turns.
      // What the client writes meanwhile (the ACK of the server's SETTINGS) waits behind it, as in a real send buffer.
      client.held = [];
      for (let offset = 0; offset < flight.length; offset += chunk) {
        socket.write(flight.subarray(offset, offset + chunk));
        await new Promise((r) => setTimeout(r, 1));
      }
      const held = client.held;
      client.held = undefined;
      for (const b of held) socket.write(b);
    }
    return { client, firstStream };
  }

  /** The SETTINGS Envoy submits first (codec_impl.cc sendSettingsHelper), in the chosen codec's order. */
  firstSettings(): Array<[number, number]> {
    const o = this.options;
    const named: Array<[number, number]> = [
      [SETTINGS_ID.HEADER_TABLE_SIZE, o.hpackTableSize],
      [SETTINGS_ID.ENABLE_CONNECT_PROTOCOL, 0],
      [SETTINGS_ID.MAX_CONCURRENT_STREAMS, MAX_WINDOW],
      [SETTINGS_ID.INITIAL_WINDOW_SIZE, o.initialStreamWindowSize],
    ];
    const all: Array<[number, number]> = [[SETTINGS_ID.ENABLE_PUSH, 0], ...o.customSettings.map(([i, v]) => [i, v] as [number, number]), ...named];
    // oghttp2 serializes a SpdySettingsIR, whose map is ordered by id; nghttp2 keeps submission order.
    return o.codec === 'oghttp2' ? all.sort((a, b) => a[0] - b[0]) : all;
  }

  /** Request headers of an Envoy gRPC stream (source/common/grpc/common.cc prepareHeaders + async client + router). */
  requestHeaders(path: string, metadata: ReadonlyArray<readonly [string, string]> = []): Array<[string, string]> {
    return [
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', path],
      [':authority', this.options.authority],
      ['te', 'trailers'],
      ['content-type', 'application/grpc'],
      ...metadata.map(([n, v]) => [n, v] as [string, string]),
      ['x-envoy-internal', 'true'],
      ['x-forwarded-for', this.options.localAddress],
    ];
  }

  private buildStream(path: string, metadata: ReadonlyArray<readonly [string, string]>): { stream: EnvoyStream; frames: Buffer[] } {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new EnvoyStream(id, this.streamWindow, this.serverInitialWindow);
    this.streams.set(id, stream);
    const block = this.encoder.encode(this.requestHeaders(path, metadata));
    // A block larger than the server's SETTINGS_MAX_FRAME_SIZE goes out as HEADERS + CONTINUATION frames.
    const frames: Buffer[] = [];
    for (let offset = 0; offset < block.length || offset === 0; offset += ENVOY_MAX_FRAME_SIZE) {
      const part = block.subarray(offset, offset + ENVOY_MAX_FRAME_SIZE);
      const last = offset + ENVOY_MAX_FRAME_SIZE >= block.length;
      frames.push(encodeFrame(offset === 0 ? FrameType.HEADERS : FrameType.CONTINUATION, last ? Flag.END_HEADERS : 0, id, part));
      if (last) break;
    }
    return { stream, frames };
  }

  /** Opens a gRPC stream (HEADERS without END_STREAM), optionally with a first message. */
  openStream(path: string, options: { message?: Uint8Array; metadata?: ReadonlyArray<readonly [string, string]> } = {}): EnvoyStream {
    const { stream, frames } = this.buildStream(path, options.metadata ?? []);
    for (const f of frames) this.out(f);
    if (options.message !== undefined) this.send(stream, options.message);
    return stream;
  }

  /** Sends one gRPC message (buffered while the server's windows are closed). */
  send(stream: EnvoyStream, message: Uint8Array, endStream = false): void {
    for (const f of this.takeData(stream, grpcFrame(message), endStream)) this.out(f);
  }

  /** Half-close as Envoy's gRPC client does (AsyncStreamImpl::closeStream): empty DATA with END_STREAM. */
  halfClose(stream: EnvoyStream): void {
    for (const f of this.takeData(stream, Buffer.alloc(0), true)) this.out(f);
  }

  /** Local reset: Envoy's codec maps every local reset reason but refused/connect to NO_ERROR (codec_impl.cc reasonToReset). */
  reset(stream: EnvoyStream, code = 0): void {
    stream.resetLocally = true;
    stream.state = 'closed';
    stream.pendingSend = [];
    this.out(encodeRstStream(stream.id, code));
  }

  private out(bytes: Uint8Array): void {
    if (this.held !== undefined) this.held.push(bytes);
    else this.socket.write(bytes);
  }

  /** Keepalive PING (codec_impl.cc sendKeepalive: payload = ms since epoch). */
  ping(payload?: Buffer): Buffer {
    const data = payload ?? Buffer.alloc(8);
    if (payload === undefined) data.writeBigUInt64BE(BigInt(Date.now()));
    this.out(encodePing(data, false));
    return data;
  }
  /** Raw bytes (e.g. an unsolicited PING ACK or extra SETTINGS). */
  write(bytes: Uint8Array): void {
    this.out(bytes);
  }
  /** GOAWAY as ConnectionImpl::goAway sends it: highest stream id received from the peer (0 for a client), NO_ERROR. */
  goaway(code = 0): void {
    this.out(encodeGoaway(0, code, ''));
  }
  /**
   * Sends a SETTINGS frame. A SETTINGS_INITIAL_WINDOW_SIZE in it is applied to our receive windows at
   * once, so call it only while the server has no DATA in flight (stalled on a window).
   */
  settings(values: ReadonlyArray<readonly [number, number]>): void {
    for (const [id, value] of values) {
      if (id !== SETTINGS_ID.INITIAL_WINDOW_SIZE) continue;
      const delta = value - this.streamWindow;
      this.streamWindow = value;
      for (const s of this.streams.values()) s.recvWindow += delta;
    }
    this.out(encodeSettings(values));
  }
  /** Grants the server more window (when autoWindowUpdate is off). */
  grant(stream: EnvoyStream | undefined, increment: number): void {
    if (stream === undefined) {
      this.connRecvWindow += increment;
      this.out(encodeWindowUpdate(0, increment));
    } else {
      stream.recvWindow += increment;
      this.out(encodeWindowUpdate(stream.id, increment));
    }
  }
  /** Closes the TCP connection (FIN). */
  end(): void {
    this.socket.end();
  }
  destroy(): void {
    this.socket.destroy();
  }

  get hpackInserted(): number {
    return this.encoder.inserted;
  }
  get hpackDynamicReferences(): number {
    return this.encoder.dynamicReferences;
  }

  /** DATA frames for `bytes` within the server's windows and 16,384-octet frames; the rest waits. */
  private takeData(stream: EnvoyStream, bytes: Buffer, endStream: boolean): Buffer[] {
    if (stream.state === 'closed' || stream.state === 'half-closed-local') throw new Error(`stream ${stream.id} cannot send (${stream.state})`);
    if (endStream) stream.state = stream.state === 'half-closed-remote' ? 'closed' : 'half-closed-local';
    stream.pendingSend.push({ bytes, endStream });
    return this.drain(stream);
  }

  /**
   * DATA frames from the stream's send buffer. Like Envoy's codec (one pending_send_data_ buffer per
   * stream, sliced by StreamDataFrameSource::SelectPayloadLength), messages that waited for window are
   * sent together, so a frame may end inside a message or even inside its 5-octet gRPC prefix.
   */
  private drain(stream: EnvoyStream): Buffer[] {
    const out: Buffer[] = [];
    const queue = stream.pendingSend;
    while (queue.length > 0) {
      const room = Math.min(stream.sendWindow, this.connSendWindow, ENVOY_MAX_FRAME_SIZE);
      const pendingBytes = queue.reduce((n, item) => n + item.bytes.length, 0);
      if (pendingBytes > 0 && room <= 0) break;
      const parts: Buffer[] = [];
      let n = 0;
      let endStream = false;
      while (queue.length > 0 && n < room) {
        const head = queue[0]!;
        const take = Math.min(room - n, head.bytes.length);
        parts.push(head.bytes.subarray(0, take));
        n += take;
        if (take === head.bytes.length) {
          queue.shift();
          endStream = head.endStream;
        } else head.bytes = head.bytes.subarray(take);
      }
      if (n === 0 && queue.length > 0 && queue[0]!.bytes.length === 0) {
        endStream = queue.shift()!.endStream; // an empty DATA (half-close) with nothing before it
      }
      out.push(encodeFrame(FrameType.DATA, endStream ? Flag.END_STREAM : 0, stream.id, Buffer.concat(parts)));
      this.dataFramesSent++;
      stream.sendWindow -= n;
      this.connSendWindow -= n;
    }
    return out;
  }

  private flushAll(): void {
    for (const stream of this.streams.values()) {
      if (stream.pendingSend.length === 0 || stream.resetLocally || stream.resetByServer !== undefined) continue;
      for (const f of this.drain(stream)) this.out(f);
    }
  }

  // ---- reading ----

  private violation(text: string): void {
    this.violations.push(text);
  }

  private onBytes(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 9) {
      const length = this.buffer.readUIntBE(0, 3);
      if (this.buffer.length < 9 + length) break;
      const type = this.buffer[3]!;
      const flags = this.buffer[4]!;
      const streamId = this.buffer.readUInt32BE(5) & 0x7fffffff;
      const payload = this.buffer.subarray(9, 9 + length);
      this.buffer = this.buffer.subarray(9 + length);
      this.onFrame(type, flags, streamId, payload);
    }
    this.wake();
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    const first = this.frames.length === 0;
    this.frames.push({ type, flags, streamId, length: payload.length, payload: type === FrameType.DATA && payload.length > 64 ? undefined : Buffer.from(payload) });
    if (first && (type !== FrameType.SETTINGS || (flags & Flag.ACK) !== 0)) this.violation(`server preface: first frame is type ${type} flags ${flags}, not SETTINGS`);
    if (payload.length > ENVOY_MAX_FRAME_SIZE) this.violation(`frame type ${type} on stream ${streamId} has length ${payload.length} > 16384 (Envoy never raises SETTINGS_MAX_FRAME_SIZE)`);
    if (this.blockStream !== 0 && (type !== FrameType.CONTINUATION || streamId !== this.blockStream)) {
      this.violation(`frame type ${type} on stream ${streamId} inside the header block of stream ${this.blockStream}`);
    }
    // Envoy's protocol constraints: consecutive HEADERS/CONTINUATION/DATA with an empty payload and no END_STREAM.
    if (type === FrameType.DATA || type === FrameType.HEADERS || type === FrameType.CONTINUATION) {
      const empty = payload.length === 0 && (type === FrameType.CONTINUATION || (flags & Flag.END_STREAM) === 0);
      this.consecutiveEmpty = empty ? this.consecutiveEmpty + 1 : 0;
      if (this.consecutiveEmpty > 1) this.violation(`${this.consecutiveEmpty} consecutive empty frames without END_STREAM (Envoy: inbound_empty_frames_flood)`);
    }
    switch (type) {
      case FrameType.SETTINGS:
        return this.onSettings(flags, streamId, payload);
      case FrameType.PING:
        if (streamId !== 0 || payload.length !== 8) this.violation(`PING on stream ${streamId} with length ${payload.length}`);
        if ((flags & Flag.ACK) !== 0) this.pingAcks.push(Buffer.from(payload));
        else this.out(encodePing(payload, true));
        return;
      case FrameType.GOAWAY: {
        if (streamId !== 0 || payload.length < 8) return this.violation(`GOAWAY on stream ${streamId} with length ${payload.length}`);
        const g = { lastStreamId: payload.readUInt32BE(0) & 0x7fffffff, code: payload.readUInt32BE(4), debug: payload.subarray(8).toString('latin1') };
        const previous = this.goaways[this.goaways.length - 1];
        if (previous !== undefined && g.lastStreamId > previous.lastStreamId) this.violation(`GOAWAY last stream id grew from ${previous.lastStreamId} to ${g.lastStreamId}`);
        this.goaways.push(g);
        return;
      }
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(streamId, payload);
      case FrameType.PUSH_PROMISE:
        return this.violation('PUSH_PROMISE although we sent SETTINGS_ENABLE_PUSH 0');
      case FrameType.PRIORITY:
        if (streamId === 0 || payload.length !== 5) this.violation(`malformed PRIORITY on stream ${streamId}`);
        return;
      case FrameType.RST_STREAM:
        return this.onRstStream(streamId, payload);
      case FrameType.HEADERS:
        return this.onHeaders(flags, streamId, payload);
      case FrameType.CONTINUATION:
        if (this.blockStream === 0 || streamId !== this.blockStream) return this.violation(`CONTINUATION on stream ${streamId} without an open header block`);
        this.blockParts.push(Buffer.from(payload));
        if ((flags & Flag.END_HEADERS) !== 0) {
          const id = this.blockStream;
          this.blockStream = 0;
          this.onHeaderBlock(id, this.blockFlags, Buffer.concat(this.blockParts));
          this.blockParts = [];
        }
        return;
      case FrameType.DATA:
        return this.onData(flags, streamId, payload);
      default:
        return; // unknown frame types are ignored
    }
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) return this.violation(`SETTINGS on stream ${streamId}`);
    if ((flags & Flag.ACK) !== 0) {
      if (payload.length !== 0) this.violation('SETTINGS ACK with a payload');
      this.settingsAcksReceived++;
      return;
    }
    if (payload.length % 6 !== 0) return this.violation(`SETTINGS length ${payload.length}`);
    this.serverSettingsFrames++;
    for (let i = 0; i < payload.length; i += 6) {
      const id = payload.readUInt16BE(i);
      const value = payload.readUInt32BE(i + 2);
      this.serverSettings.set(id, value);
      if (id === SETTINGS_ID.ENABLE_PUSH && value > 1) this.violation(`SETTINGS_ENABLE_PUSH ${value}`);
      if (id === SETTINGS_ID.MAX_FRAME_SIZE && (value < 16384 || value > 2 ** 24 - 1)) this.violation(`SETTINGS_MAX_FRAME_SIZE ${value}`);
      if (id === SETTINGS_ID.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) this.violation(`SETTINGS_INITIAL_WINDOW_SIZE ${value}`);
        const delta = value - this.serverInitialWindow;
        this.serverInitialWindow = value;
        for (const s of this.streams.values()) s.sendWindow += delta;
      }
      if (id === SETTINGS_ID.HEADER_TABLE_SIZE) this.pendingTableSize = value;
    }
    // oghttp2 applies a smaller HEADER_TABLE_SIZE to its encoder as soon as it reads it (OnSetting), a larger one
    // once its ACK is written; either way the first block encoded afterwards starts with a size update.
    if (this.pendingTableSize !== undefined) {
      this.encoder.applyTableSizeSetting(this.pendingTableSize);
      this.pendingTableSize = undefined;
    }
    // A HEADERS frame queued before the ACK (oghttp2 serializes queued frames in order) carries that update
    // ahead of the ACK on the wire.
    const hook = this.beforeSettingsAck;
    this.beforeSettingsAck = undefined;
    hook?.(this);
    this.out(encodeSettings([], true));
    this.flushAll();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) return this.violation(`WINDOW_UPDATE length ${payload.length}`);
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    this.windowUpdatesReceived++;
    const bound = 5 + 2 * (this.streams.size + WINDOW_UPDATES_PER_DATA_FRAME * this.dataFramesSent);
    if (this.windowUpdatesReceived > bound) this.violation(`${this.windowUpdatesReceived} WINDOW_UPDATE frames > Envoy's bound ${bound}`);
    if (increment === 0) return this.violation(`WINDOW_UPDATE increment 0 on stream ${streamId}`);
    if (streamId === 0) {
      this.connSendWindow += increment;
      if (this.connSendWindow > MAX_WINDOW) this.violation(`connection send window overflow: ${this.connSendWindow}`);
    } else {
      const s = this.streams.get(streamId);
      if (s === undefined || (streamId & 1) === 0) return this.violation(`WINDOW_UPDATE on idle stream ${streamId}`);
      s.sendWindow += increment;
      if (s.sendWindow > MAX_WINDOW) this.violation(`stream ${streamId} send window overflow`);
    }
    this.flushAll();
  }

  private onRstStream(streamId: number, payload: Buffer): void {
    if (streamId === 0 || payload.length !== 4) return this.violation(`RST_STREAM on stream ${streamId} length ${payload.length}`);
    const s = this.streams.get(streamId);
    if (s === undefined) return this.violation(`RST_STREAM on idle stream ${streamId}`);
    if (s.resetByServer !== undefined) return this.violation(`second RST_STREAM on stream ${streamId}`);
    s.resetByServer = payload.readUInt32BE(0);
    s.state = 'closed';
    s.pendingSend = [];
  }

  /** A frame on a stream must belong to a stream we opened, and may not follow the server's END_STREAM or RST_STREAM. */
  private streamFor(kind: string, streamId: number): EnvoyStream | undefined {
    if (streamId === 0) {
      this.violation(`${kind} on stream 0`);
      return undefined;
    }
    const s = this.streams.get(streamId);
    if (s === undefined) {
      this.violation(`${kind} on idle stream ${streamId}`);
      return undefined;
    }
    if (s.resetByServer !== undefined) this.violation(`${kind} on stream ${streamId} after the server's RST_STREAM`);
    else if (s.endStreamReceived) this.violation(`${kind} on stream ${streamId} after END_STREAM`);
    if (s.resetLocally) return undefined; // in flight when we reset it: ignored, as a codec does
    return s;
  }

  private onHeaders(flags: number, streamId: number, payload: Buffer): void {
    let start = 0;
    let end = payload.length;
    if ((flags & Flag.PADDED) !== 0) {
      const pad = payload[0]!;
      start = 1;
      end -= pad;
    }
    if ((flags & Flag.PRIORITY) !== 0) start += 5;
    if (start > end) return this.violation(`HEADERS on stream ${streamId}: padding/priority exceed the frame`);
    const fragment = Buffer.from(payload.subarray(start, end));
    if ((flags & Flag.END_HEADERS) === 0) {
      this.blockStream = streamId;
      this.blockFlags = flags;
      this.blockParts = [fragment];
      return;
    }
    this.onHeaderBlock(streamId, flags, fragment);
  }

  private onHeaderBlock(streamId: number, flags: number, block: Buffer): void {
    let list: string[];
    try {
      list = this.decoder.decode(block); // HPACK state is connection-wide: decode even if the stream is gone
    } catch (err) {
      this.violation(`HEADERS on stream ${streamId} does not decode: ${(err as Error).message}`);
      return;
    }
    const s = this.streamFor('HEADERS', streamId);
    if (s === undefined) return;
    const fields: Array<[string, string]> = [];
    for (let i = 0; i < list.length; i += 2) fields.push([list[i]!, list[i + 1]!]);
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const isTrailers = s.headers !== undefined;
    let regularSeen = false;
    let statusCount = 0;
    for (const [name, value] of fields) {
      if (name !== name.toLowerCase()) this.violation(`stream ${streamId}: upper-case header name ${name}`);
      else if (!VALID_NAME.test(name.startsWith(':') ? name.slice(1) : name)) this.violation(`stream ${streamId}: header name ${JSON.stringify(name)} has characters oghttp2 refuses`);
      if (CONNECTION_SPECIFIC.has(name)) this.violation(`stream ${streamId}: connection-specific header ${name}`);
      if (name === 'te' && value !== 'trailers') this.violation(`stream ${streamId}: te ${value}`);
      if (!VALID_VALUE.test(value)) this.violation(`stream ${streamId}: header ${name} value ${JSON.stringify(value)} has characters oghttp2 refuses (only tab and 0x20-0x7e)`);
      if (name.startsWith(':')) {
        if (isTrailers) this.violation(`stream ${streamId}: pseudo-header ${name} in trailers`);
        if (regularSeen) this.violation(`stream ${streamId}: pseudo-header ${name} after regular headers`);
        if (name === ':status') {
          statusCount++;
          if (!/^[1-5][0-9][0-9]$/.test(value)) this.violation(`stream ${streamId}: :status ${value}`);
        } else this.violation(`stream ${streamId}: request pseudo-header ${name} in a response`);
      } else regularSeen = true;
      if (name === 'content-length') s.contentLength = Number(value);
    }
    if (!isTrailers) {
      if (statusCount !== 1) this.violation(`stream ${streamId}: ${statusCount} :status fields`);
      s.headers = fields;
      if (endStream) {
        if (!fields.some(([n]) => n === 'grpc-status')) this.violation(`stream ${streamId}: trailers-only response without grpc-status`);
      } else {
        const ct = fields.find(([n]) => n === 'content-type')?.[1];
        if (ct === undefined || !ct.startsWith('application/grpc')) this.violation(`stream ${streamId}: response content-type ${ct}`);
        if (fields.find(([n]) => n === ':status')?.[1] !== '200') this.violation(`stream ${streamId}: gRPC response headers with :status ≠ 200 and no END_STREAM (Envoy: CANCELLED)`);
      }
    } else {
      if (!endStream) this.violation(`stream ${streamId}: trailers without END_STREAM`);
      if (!fields.some(([n]) => n === 'grpc-status')) this.violation(`stream ${streamId}: trailers without grpc-status`);
      s.trailers = fields;
    }
    if (endStream) this.remoteEnded(s);
  }

  private remoteEnded(s: EnvoyStream): void {
    s.endStreamReceived = true;
    if (s.contentLength !== undefined && s.contentLength !== s.dataBytes) this.violation(`stream ${s.id}: content-length ${s.contentLength} but ${s.dataBytes} DATA bytes`);
    if (s.partialMessageBytes > 0) this.violation(`stream ${s.id}: ended inside a gRPC message (${s.partialMessageBytes} bytes left)`);
    s.state = s.state === 'half-closed-local' ? 'closed' : 'half-closed-remote';
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    let data = payload;
    if ((flags & Flag.PADDED) !== 0) {
      const pad = payload[0]!;
      if (pad >= payload.length) return this.violation(`DATA padding ${pad} ≥ frame length on stream ${streamId}`);
      data = payload.subarray(1, payload.length - pad);
    }
    // Connection flow control applies to every DATA frame, whatever its stream.
    this.connRecvWindow -= payload.length;
    if (this.connRecvWindow < 0) this.violation(`DATA overflows the connection receive window by ${-this.connRecvWindow}`);
    this.connRecvUnacked += payload.length;
    if (this.options.autoWindowUpdate && this.connRecvUnacked * 2 >= this.options.initialConnectionWindowSize) {
      this.out(encodeWindowUpdate(0, this.connRecvUnacked));
      this.connRecvWindow += this.connRecvUnacked;
      this.connRecvUnacked = 0;
    }
    const s = this.streamFor('DATA', streamId);
    if (s === undefined) return;
    if (s.headers === undefined) this.violation(`DATA on stream ${streamId} before response HEADERS`);
    s.recvWindow -= payload.length;
    if (s.recvWindow < 0) this.violation(`DATA overflows stream ${streamId}'s receive window by ${-s.recvWindow}`);
    s.dataBytes += data.length;
    s.dataFrames++;
    if (s.contentLength !== undefined && s.dataBytes > s.contentLength) this.violation(`stream ${streamId}: DATA beyond content-length`);
    s.pushData(data, this.violations);
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (endStream) {
      // gRPC: a response ends with trailers; Envoy's async client reports DATA END_STREAM as UNKNOWN.
      this.violation(`stream ${streamId}: DATA with END_STREAM (no trailers)`);
      this.remoteEnded(s);
      return;
    }
    s.recvUnacked += payload.length;
    if (this.options.autoWindowUpdate && s.recvUnacked * 2 >= this.options.initialStreamWindowSize) {
      this.out(encodeWindowUpdate(streamId, s.recvUnacked));
      s.recvWindow += s.recvUnacked;
      s.recvUnacked = 0;
    }
  }

  // ---- waiting ----

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until `predicate` holds (re-checked after every chunk from the server); rejects on timeout or close. */
  async until<T>(predicate: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = predicate();
      if (v !== undefined && v !== false) return v;
      if (this.closed) throw new Error(`connection closed while waiting for ${what}; frames: ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${what}; frames: ${this.describe()}`);
      await nextWake(this.waiters, left);
    }
  }

  /** Waits for the connection to close. */
  async closedByServer(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for close; frames: ${this.describe()}`);
      await nextWake(this.waiters, left);
    }
  }

  describe(): string {
    return this.frames
      .slice(-40)
      .map((f) => `${f.type}/${f.flags}/${f.streamId}(${f.length})`)
      .join(' ');
  }
}

/** One gRPC length-prefixed message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}
