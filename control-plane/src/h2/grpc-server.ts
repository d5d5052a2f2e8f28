/**
 * meshward's gRPC server on its own HTTP/2 connections (connection.ts), for many long-lived, mostly idle
 * streams (one xDS stream per Envoy connection). PROTOCOL-HTTP2.md on the wire; interoperates with
 * @grpc/grpc-js (node:http2 / nghttp2) clients, raw HTTP/2 clients and Envoy.
 *
 * Lifecycle: `createGrpcServer(options)` → `listen()` once → `close()` once. One shared timer per server
 * (setInterval, unref'd) drives keepalive and abuse windows; one more (setTimeout, unref'd) fires the
 * nearest grpc-timeout deadline. A call keeps nothing of its request headers after its handler ran.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { Metadata, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { H2Connection, H2Stream, STREAM_FLAG_SUBCLASS, encodeServerPreface, type ConnectionConfig, type ConnectionHost, type StreamEnd } from './connection.js';
import { GrpcStatus, H2Error, isGrpcStatusCode, type H2ErrorCode } from './errors.js';
import { encodeHeaderBlock } from './hpack.js';
import { createCompatHandlers } from './grpc-js-compat.js';

/** One gRPC call on a meshward HTTP/2 connection. Lean: no EventEmitter, callbacks set by the handler. */
export interface ServerCall {
  /** "ip:port" of the peer (computed from the socket on demand, not stored). */
  readonly peer: string;
  /** True for TLS connections. */
  readonly secure: boolean;
  /** Client certificate, only when the TLS connection's client certificate verified (socket.authorized); else undefined. Computed on demand. */
  readonly peerCertificate: PeerCertificate | undefined;
  /** True once the call is finished (status sent, reset, or connection gone). */
  readonly closed: boolean;
  /** Client's messages (gRPC frame payloads, uncompressed), in order; each Buffer is owned by the handler. */
  onMessage: ((message: Buffer) => void) | undefined;
  /** Client half-closed (END_STREAM) after its last message. */
  onEnd: (() => void) | undefined;
  /** The call is over for any reason (after end()/fail() are flushed, RST_STREAM, GOAWAY/connection loss, server close). Exactly once. */
  onClose: (() => void) | undefined;
  /** Queues one message. onWritten runs once its last byte has been handed to the socket (i.e. flow
   *  control let it through). Returns false (and drops it) if the call is closed or ending. Response
   *  headers (:status 200, content-type application/grpc) go out before the first message. Messages larger
   *  than the peer's SETTINGS_MAX_FRAME_SIZE are split into several DATA frames without copying
   *  (subarray). The caller must not modify `message` until onWritten ran. A message larger than
   *  maxSendMessageBytes fails the call with RESOURCE_EXHAUSTED (and returns false). */
  write(message: Uint8Array, onWritten?: () => void): boolean;
  /** Ends with grpc-status 0 once everything queued is sent. Idempotent (the first of end()/fail() wins).
   *  `trailers`: custom trailing metadata. */
  end(trailers?: Metadata): void;
  /** Ends with this gRPC status code (numeric, as grpc-js `status`) and message: queued messages not yet
   *  started are dropped (their onWritten never runs; a message already partly written is finished so
   *  the framing stays valid) and the trailers go out next (trailers-only response if no headers were
   *  sent). The message is percent-encoded as grpc-message. Idempotent; a no-op once closed. */
  fail(code: number, message: string, trailers?: Metadata): void;
  /** Sends the response headers now, with custom metadata (at most once, before the first message; later calls are ignored). */
  sendHeaders(metadata?: Metadata): void;
  /** Stops delivering messages and stops returning flow-control credit, so the client stalls at the
   *  stream window (1 MiB by default): backpressure for slow consumers. */
  pause(): void;
  /** Delivers held messages and resumes. */
  resume(): void;
  /** The grpc-timeout deadline as Date.now() milliseconds, or Infinity. */
  readonly deadline: number;
}

/** Native handler: called once per call, synchronously when its HEADERS arrive. `metadata` is the
 *  request's custom metadata (no pseudo-headers, no reserved grpc-* / te / content-type), built for
 *  this call only; the call does not keep it. `path` is the :path it was registered under. */
export type CallHandler = (call: ServerCall, metadata: Metadata, path: string) => void;

export interface GrpcServerOptions {
  /** Native handlers by :path, e.g. '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources'. */
  readonly handlers?: Readonly<Record<string, CallHandler>>;
  /** grpc-js services (definitions with their serializers, implementations as grpc-js expects), served
   *  through grpc-js-compat.ts. Unary, client-streaming, server-streaming and bidi. */
  readonly services?: ReadonlyArray<{ readonly definition: ServiceDefinition; readonly implementation: UntypedServiceImplementation }>;
  /** Default 16 MiB; a larger request message fails the call with RESOURCE_EXHAUSTED. */
  readonly maxReceiveMessageBytes?: number;
  /** Default 64 MiB; a larger response message fails the call with RESOURCE_EXHAUSTED. */
  readonly maxSendMessageBytes?: number;
  /** Default 60,000: PING a connection that received nothing for this long. */
  readonly keepaliveTimeMs?: number;
  /** Default 20,000: no PING ACK within this → connection destroyed. */
  readonly keepaliveTimeoutMs?: number;
  /** Default 100 (SETTINGS_MAX_CONCURRENT_STREAMS); more → RST_STREAM REFUSED_STREAM. */
  readonly maxConcurrentStreams?: number;
  /** Default 0 (SETTINGS_HEADER_TABLE_SIZE we advertise). */
  readonly headerTableSize?: number;
  /** Default 1 MiB (our stream receive window); the connection window is raised to 16 MiB (or this, if larger) with a WINDOW_UPDATE on stream 0. */
  readonly initialWindowSize?: number;
  /** Default 16 KiB (SETTINGS_MAX_HEADER_LIST_SIZE); a larger request header list → RESOURCE_EXHAUSTED. */
  readonly maxHeaderListSize?: number;
  /** Called for connection-level protocol errors and handler throws (a handler throw fails that call with INTERNAL, never the server). */
  readonly onError?: (err: H2Error, context: { peer: string }) => void;
}

export interface TlsServerOptions {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly ca?: string | Buffer;
  /** 'none' (default): no client cert asked; 'optional': asked, peerCertificate set only if it verified; 'required': handshake refused without a valid one. */
  readonly clientCertificates?: 'none' | 'optional' | 'required';
}

export interface GrpcServer {
  /** Binds (host default 127.0.0.1, port 0 = ephemeral); resolves with the port. Once. With `tls` →
   *  node:tls with ALPN ['h2'] (a client that does not negotiate h2 is refused), else plaintext
   *  prior-knowledge h2c. */
  listen(options?: { host?: string; port?: number; tls?: TlsServerOptions }): Promise<number>;
  /** Replaces certificate/key/ca for new TLS connections (tls.Server#setSecureContext). Throws if not listening with TLS. */
  updateTls(options: TlsServerOptions): void;
  /** Sends GOAWAY to every connection, fails open calls with UNAVAILABLE ("server shutting down"),
   *  waits up to graceMs (default 2000) for the sockets to close, then destroys the rest; closes the listener. */
  close(graceMs?: number): Promise<void>;
  /** Live counts, for tests, metrics and the benchmark. */
  stats(): { connections: number; streams: number; protocolErrors: number };
}

const MiB = 1024 * 1024;

function positiveInt(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`GrpcServerOptions.${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  return value;
}

// ---- constant header blocks (encoded once) ----
const RESPONSE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  [':status', '200'],
  ['content-type', 'application/grpc'],
  ['grpc-accept-encoding', 'identity'],
];
const RESPONSE_HEADERS_BLOCK = encodeHeaderBlock(RESPONSE_HEADERS);
const OK_TRAILERS_BLOCK = encodeHeaderBlock([['grpc-status', '0']]);
const OK_TRAILERS_ONLY_BLOCK = encodeHeaderBlock([...RESPONSE_HEADERS, ['grpc-status', '0']]);

/** grpc-message encoding (PROTOCOL-HTTP2.md): UTF-8, then every octet outside 0x20..0x7E and '%' as %XX. */
export function percentEncodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return message;
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25 ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

/** The inverse of percentEncodeGrpcMessage (lenient: malformed escapes stay as they are). */
export function percentDecodeGrpcMessage(value: string): string {
  if (!value.includes('%')) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length && /^[0-9a-fA-F]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  return Buffer.from(bytes).toString('utf8');
}

function metadataPairs(metadata: Metadata | undefined, into: Array<readonly [string, string]>): void {
  if (metadata === undefined) return;
  for (const [key, values] of Object.entries(metadata.getMap())) {
    void values;
    for (const value of metadata.get(key)) {
      into.push([key, typeof value === 'string' ? value : Buffer.from(value).toString('base64')]);
    }
  }
}

function trailerBlock(code: number, message: string, trailersOnly: boolean, metadata: Metadata | undefined): Buffer {
  if (code === 0 && message === '' && metadata === undefined) return trailersOnly ? OK_TRAILERS_ONLY_BLOCK : OK_TRAILERS_BLOCK;
  const fields: Array<readonly [string, string]> = trailersOnly ? [...RESPONSE_HEADERS] : [];
  fields.push(['grpc-status', String(code)]);
  if (message !== '') fields.push(['grpc-message', percentEncodeGrpcMessage(message)]);
  metadataPairs(metadata, fields);
  return encodeHeaderBlock(fields);
}

/** grpc-timeout ("1-8 digits" + H M S m u n) in milliseconds, or NaN when malformed. */
export function parseGrpcTimeout(value: string): number {
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) return NaN;
  const amount = Number(match[1]);
  switch (match[2]) {
    case 'H':
      return amount * 3_600_000;
    case 'M':
      return amount * 60_000;
    case 'S':
      return amount * 1000;
    case 'm':
      return amount;
    case 'u':
      return amount / 1000;
    default:
      return amount / 1_000_000;
  }
}

// Call flag bits (above the stream's).
const G_COMPRESSED_UNSUPPORTED = STREAM_FLAG_SUBCLASS; // request grpc-encoding is not identity
const G_MESSAGE_COMPRESSED = STREAM_FLAG_SUBCLASS << 1; // the message being read has the compressed flag
const G_HAS_DEADLINE = STREAM_FLAG_SUBCLASS << 2;
const G_DISCARD = STREAM_FLAG_SUBCLASS << 3; // stop parsing input (the call failed)

/** A gRPC call: one HTTP/2 stream. */
class GrpcCall extends H2Stream implements ServerCall {
  private readonly server: GrpcServerImpl;
  onMessage: ((message: Buffer) => void) | undefined = undefined;
  onEnd: (() => void) | undefined = undefined;
  onClose: (() => void) | undefined = undefined;
  /** Reading state: prefix octets seen (0..5), the message length being assembled, its buffer and fill. */
  private prefixSeen = 0;
  private messageLength = 0;
  private message: Buffer | undefined = undefined;
  private messageFill = 0;
  deadline = Infinity;

  constructor(connection: H2Connection, id: number, server: GrpcServerImpl) {
    super(connection, id);
    this.server = server;
  }

  get peer(): string {
    return this.connection.peer;
  }
  get secure(): boolean {
    return this.connection.secure;
  }
  get peerCertificate(): PeerCertificate | undefined {
    const socket = this.connection.socket as TLSSocket;
    if (socket.encrypted !== true || socket.authorized !== true) return undefined;
    const cert = socket.getPeerCertificate();
    return cert === null || Object.keys(cert).length === 0 ? undefined : cert;
  }
  get closed(): boolean {
    return this.isClosed;
  }

  /** @internal */
  markEncodingUnsupported(): void {
    this.flags |= G_COMPRESSED_UNSUPPORTED;
  }
  /** @internal */
  setDeadline(at: number): void {
    this.deadline = at;
    this.flags |= G_HAS_DEADLINE;
  }

  sendHeaders(metadata?: Metadata): void {
    if (this.isClosed || this.headersSent || this.localEnding) return;
    if (metadata === undefined) {
      this.writeHeaders(RESPONSE_HEADERS_BLOCK);
      return;
    }
    const fields: Array<readonly [string, string]> = [...RESPONSE_HEADERS];
    metadataPairs(metadata, fields);
    this.writeHeaders(encodeHeaderBlock(fields));
  }

  write(message: Uint8Array, onWritten?: () => void): boolean {
    if (this.isClosed || this.localEnding) return false;
    if (message.length > this.server.maxSendMessageBytes) {
      this.fail(GrpcStatus.RESOURCE_EXHAUSTED, `Sent message larger than max (${message.length} vs. ${this.server.maxSendMessageBytes})`);
      return false;
    }
    if (!this.headersSent) this.writeHeaders(RESPONSE_HEADERS_BLOCK);
    this.queueMessage(message, onWritten);
    return true;
  }

  end(trailers?: Metadata): void {
    if (this.isClosed || this.localEnding) return;
    this.writeTrailers(trailerBlock(0, '', !this.headersSent, trailers), false);
  }

  fail(code: number, message: string, trailers?: Metadata): void {
    if (this.isClosed || this.localEnding) return;
    const status = isGrpcStatusCode(code) && code !== 0 ? code : GrpcStatus.UNKNOWN;
    this.flags |= G_DISCARD;
    this.writeTrailers(trailerBlock(status, message, !this.headersSent, trailers), true);
  }

  protected onData(data: Buffer): number {
    let offset = 0;
    const length = data.length;
    while (offset < length && (this.flags & G_DISCARD) === 0 && !this.paused) {
      if (this.isClosed) return length;
      if (this.prefixSeen < 5) {
        const byte = data[offset++]!;
        if (this.prefixSeen === 0) {
          if (byte === 1) this.flags |= G_MESSAGE_COMPRESSED;
          else this.flags &= ~G_MESSAGE_COMPRESSED;
          this.messageLength = 0;
        } else {
          this.messageLength = this.messageLength * 256 + byte;
        }
        if (++this.prefixSeen < 5) continue;
        if (!this.startMessage()) return length;
        if (this.messageLength === 0) {
          this.emitMessage(Buffer.alloc(0));
          continue;
        }
      }
      const need = this.messageLength - this.messageFill;
      const available = length - offset;
      if (this.messageFill === 0 && available >= need) {
        // The whole message is in this frame: one copy, so the handler owns it (and not the socket chunk).
        const out = Buffer.allocUnsafe(need);
        data.copy(out, 0, offset, offset + need);
        offset += need;
        this.emitMessage(out);
        continue;
      }
      if (this.message === undefined) this.message = Buffer.allocUnsafe(this.messageLength);
      const n = Math.min(need, available);
      data.copy(this.message, this.messageFill, offset, offset + n);
      offset += n;
      this.messageFill += n;
      if (this.messageFill === this.messageLength) {
        const out = this.message;
        this.message = undefined;
        this.messageFill = 0;
        this.emitMessage(out);
      }
    }
    // A failed call discards the rest; a paused one holds it.
    return (this.flags & G_DISCARD) !== 0 || this.isClosed ? length : offset;
  }

  /** Checks a message prefix just read; false when the call failed. */
  private startMessage(): boolean {
    if ((this.flags & G_MESSAGE_COMPRESSED) !== 0) {
      if ((this.flags & G_COMPRESSED_UNSUPPORTED) !== 0) this.fail(GrpcStatus.UNIMPLEMENTED, 'Received message compressed with an unsupported grpc-encoding (only identity is accepted)');
      else this.fail(GrpcStatus.INTERNAL, 'Received a compressed message without grpc-encoding');
      return false;
    }
    if (this.messageLength > this.server.maxReceiveMessageBytes) {
      this.fail(GrpcStatus.RESOURCE_EXHAUSTED, `Received message larger than max (${this.messageLength} vs. ${this.server.maxReceiveMessageBytes})`);
      return false;
    }
    return true;
  }

  private emitMessage(message: Buffer): void {
    this.prefixSeen = 0;
    const handler = this.onMessage;
    if (handler !== undefined) handler(message);
  }

  protected onRemoteEnd(): void {
    if ((this.flags & G_DISCARD) !== 0) return;
    if (this.prefixSeen !== 0) {
      this.fail(GrpcStatus.INTERNAL, 'Client half-closed in the middle of a message');
      return;
    }
    const handler = this.onEnd;
    if (handler !== undefined) handler();
  }

  protected onTerminated(_end: StreamEnd, _code: H2ErrorCode): void {
    this.message = undefined;
    this.server.callClosed(this, (this.flags & G_HAS_DEADLINE) !== 0);
    const handler = this.onClose;
    this.onMessage = this.onEnd = this.onClose = undefined;
    if (handler !== undefined) {
      try {
        handler();
      } catch (err) {
        this.server.reportHandlerError(this, err, 'onClose');
      }
    }
  }
}

const RESERVED_HEADERS = new Set(['te', 'content-type']);
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

class GrpcServerImpl implements GrpcServer, ConnectionHost {
  readonly config: ConnectionConfig;
  readonly serverPreface: Buffer;
  now = Date.now();
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  private readonly handlers = new Map<string, CallHandler>();
  private readonly onErrorOption: GrpcServerOptions['onError'];
  private readonly connections = new Set<H2Connection>();
  private streams = 0;
  private protocolErrors = 0;
  private server: net.Server | tls.Server | undefined = undefined;
  private tlsServer: tls.Server | undefined = undefined;
  private tickTimer: NodeJS.Timeout | undefined = undefined;
  private readonly deadlines = new Set<GrpcCall>();
  private deadlineTimer: NodeJS.Timeout | undefined = undefined;
  private deadlineAt = Infinity;
  private closing = false;

  constructor(options: GrpcServerOptions) {
    const keepaliveTimeMs = positiveInt('keepaliveTimeMs', options.keepaliveTimeMs, 60_000, 1, 2 ** 31 - 1);
    const keepaliveTimeoutMs = positiveInt('keepaliveTimeoutMs', options.keepaliveTimeoutMs, 20_000, 1, 2 ** 31 - 1);
    const initialWindowSize = positiveInt('initialWindowSize', options.initialWindowSize, MiB, 1, 2 ** 31 - 1);
    this.config = {
      maxConcurrentStreams: positiveInt('maxConcurrentStreams', options.maxConcurrentStreams, 100, 1, 2 ** 31 - 1),
      initialWindowSize,
      connectionWindowSize: Math.max(16 * MiB, initialWindowSize),
      headerTableSize: positiveInt('headerTableSize', options.headerTableSize, 0, 0, 2 ** 31 - 1),
      maxHeaderListSize: positiveInt('maxHeaderListSize', options.maxHeaderListSize, 16 * 1024, 1024, 2 ** 31 - 1),
      keepaliveTimeMs,
      keepaliveTimeoutMs,
    };
    this.maxReceiveMessageBytes = positiveInt('maxReceiveMessageBytes', options.maxReceiveMessageBytes, 16 * MiB, 0, 2 ** 32 - 1);
    this.maxSendMessageBytes = positiveInt('maxSendMessageBytes', options.maxSendMessageBytes, 64 * MiB, 0, 2 ** 32 - 1);
    this.serverPreface = encodeServerPreface(this.config);
    this.onErrorOption = options.onError;
    for (const [path, handler] of Object.entries(options.handlers ?? {})) {
      if (!path.startsWith('/')) throw new RangeError(`GrpcServerOptions.handlers: path ${JSON.stringify(path)} must start with '/'`);
      if (typeof handler !== 'function') throw new TypeError(`GrpcServerOptions.handlers[${JSON.stringify(path)}] must be a function`);
      this.handlers.set(path, handler);
    }
    for (const [path, handler] of Object.entries(createCompatHandlers(options.services ?? []))) {
      if (this.handlers.has(path)) throw new RangeError(`GrpcServerOptions.services: method ${path} is also a native handler`);
      this.handlers.set(path, handler);
    }
  }

  // ---- ConnectionHost ----

  onRequest(connection: H2Connection, streamId: number, headers: readonly string[], endStream: boolean, headerListTooLarge: boolean): void {
    if (headerListTooLarge) {
      connection.respondAndClose(streamId, trailerBlock(GrpcStatus.RESOURCE_EXHAUSTED, `request header list larger than ${this.config.maxHeaderListSize} bytes`, true, undefined), endStream);
      return;
    }
    let method: string | undefined;
    let scheme: string | undefined;
    let path: string | undefined;
    let contentType: string | undefined;
    let timeout: string | undefined;
    let encoding: string | undefined;
    let malformed: string | undefined;
    let regularSeen = false;
    const n = headers.length;
    for (let i = 0; i < n; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      if (name.charCodeAt(0) === 0x3a) {
        if (regularSeen) malformed = `pseudo-header ${name} after regular headers`;
        if (name === ':method') method = method === undefined ? value : ((malformed = 'duplicate :method'), value);
        else if (name === ':scheme') scheme = scheme === undefined ? value : ((malformed = 'duplicate :scheme'), value);
        else if (name === ':path') path = path === undefined ? value : ((malformed = 'duplicate :path'), value);
        else if (name !== ':authority') malformed = `unknown pseudo-header ${name}`;
        continue;
      }
      regularSeen = true;
      if (/[A-Z]/.test(name)) malformed = `upper-case header name ${name}`;
      else if (CONNECTION_SPECIFIC.has(name)) malformed = `connection-specific header ${name}`;
      else if (name === 'te' && value !== 'trailers') malformed = `te: ${value}`;
      else if (name === 'content-type') contentType = value;
      else if (name === 'grpc-timeout') timeout = value;
      else if (name === 'grpc-encoding') encoding = value;
    }
    if (malformed === undefined && (method === undefined || scheme === undefined || path === undefined || path === '')) malformed = 'missing :method, :scheme or :path';
    if (malformed !== undefined) {
      connection.resetStream(streamId, 'PROTOCOL_ERROR');
      return;
    }
    if (method !== 'POST') {
      connection.respondAndClose(streamId, earlyBlock(405, GrpcStatus.INTERNAL, `:method ${method} is not POST`), endStream);
      return;
    }
    if (contentType === undefined || !contentType.startsWith('application/grpc')) {
      connection.respondAndClose(streamId, earlyBlock(415, GrpcStatus.INVALID_ARGUMENT, `invalid gRPC request content-type ${JSON.stringify(contentType ?? '')}`), endStream);
      return;
    }
    const handler = this.handlers.get(path!);
    if (handler === undefined) {
      connection.respondAndClose(streamId, trailerBlock(GrpcStatus.UNIMPLEMENTED, `unknown method ${path}`, true, undefined), endStream);
      return;
    }
    let deadline = Infinity;
    if (timeout !== undefined) {
      const ms = parseGrpcTimeout(timeout);
      if (Number.isNaN(ms)) {
        connection.respondAndClose(streamId, trailerBlock(GrpcStatus.INTERNAL, `Invalid grpc-timeout value ${JSON.stringify(timeout)}`, true, undefined), endStream);
        return;
      }
      deadline = Date.now() + ms;
    }
    const metadata = new Metadata();
    for (let i = 0; i < n; i += 2) {
      const name = headers[i]!;
      if (name.charCodeAt(0) === 0x3a || name.startsWith('grpc-') || RESERVED_HEADERS.has(name)) continue;
      const value = headers[i + 1]!;
      try {
        if (name.endsWith('-bin')) metadata.add(name, Buffer.from(value, 'base64'));
        else metadata.add(name, value);
      } catch {
        // A key or value grpc-js refuses (invalid characters) is left out, as grpc-js servers do.
      }
    }
    const call = new GrpcCall(connection, streamId, this);
    if (encoding !== undefined && encoding !== 'identity') call.markEncodingUnsupported();
    connection.addStream(call);
    this.streams++;
    if (deadline !== Infinity) {
      call.setDeadline(deadline);
      this.trackDeadline(call);
    }
    try {
      handler(call, metadata, path!);
    } catch (err) {
      this.reportHandlerError(call, err, 'handler');
    }
    if (endStream && !call.closed) call.receiveEnd();
  }

  onProtocolError(connection: H2Connection, err: H2Error): void {
    this.protocolErrors++;
    this.notify(err, connection.peer);
  }

  onConnectionClosed(connection: H2Connection): void {
    this.connections.delete(connection);
    if (this.closing && this.connections.size === 0) this.allClosed?.();
  }

  onCallbackError(stream: H2Stream, err: unknown): void {
    this.reportHandlerError(stream as GrpcCall, err, 'callback');
  }

  /** @internal a handler or one of its callbacks threw: the call fails with INTERNAL, onError is told. */
  reportHandlerError(call: GrpcCall, err: unknown, where: string): void {
    const message = err instanceof Error ? err.message : String(err);
    this.notify(new H2Error('INTERNAL_ERROR', `gRPC ${where} threw: ${message}`, { scope: 'stream', streamId: call.id, cause: err }), call.connection.peer);
    call.fail(GrpcStatus.INTERNAL, 'internal error');
  }

  /** @internal */
  callClosed(call: GrpcCall, hadDeadline: boolean): void {
    this.streams--;
    if (hadDeadline) this.deadlines.delete(call);
  }

  private notify(err: H2Error, peer: string): void {
    const onError = this.onErrorOption;
    if (onError === undefined) return;
    try {
      onError(err, { peer });
    } catch {
      // onError must not break the server.
    }
  }

  // ---- deadlines: one timer for the nearest ----

  private trackDeadline(call: GrpcCall): void {
    this.deadlines.add(call);
    if (call.deadline < this.deadlineAt) this.armDeadlineTimer(call.deadline);
  }

  private armDeadlineTimer(at: number): void {
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineAt = at;
    // setTimeout takes at most 2^31-1 ms (a longer grpc-timeout just re-arms when this fires).
    this.deadlineTimer = setTimeout(() => this.expireDeadlines(), Math.min(2 ** 31 - 1, Math.max(0, at - Date.now())));
    this.deadlineTimer.unref();
  }

  private expireDeadlines(): void {
    this.deadlineTimer = undefined;
    this.deadlineAt = Infinity;
    const now = Date.now();
    let next = Infinity;
    for (const call of [...this.deadlines]) {
      if (call.deadline <= now) {
        this.deadlines.delete(call);
        call.fail(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded');
      } else if (call.deadline < next) next = call.deadline;
    }
    if (next !== Infinity) this.armDeadlineTimer(next);
  }

  // ---- keepalive: one timer for every connection ----

  private tick(): void {
    const now = Date.now();
    this.now = now;
    for (const connection of this.connections) connection.tick(now);
  }

  // ---- GrpcServer ----

  listen(options: { host?: string; port?: number; tls?: TlsServerOptions } = {}): Promise<number> {
    if (this.server !== undefined) return Promise.reject(new Error('listen: already called'));
    if (this.closing) return Promise.reject(new Error('listen: the server is closed'));
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) return Promise.reject(new RangeError(`listen: port must be an integer in [0, 65535], got ${String(port)}`));
    let server: net.Server | tls.Server;
    if (options.tls !== undefined) {
      let context: ReturnType<typeof tlsContextOptions>;
      try {
        context = tlsContextOptions(options.tls);
      } catch (err) {
        return Promise.reject(err as Error);
      }
      const tlsServer = tls.createServer({ ...context, ALPNProtocols: ['h2'] });
      tlsServer.on('secureConnection', (socket: TLSSocket) => {
        if (socket.alpnProtocol !== 'h2') {
          socket.destroy();
          return;
        }
        this.accept(socket);
      });
      tlsServer.on('tlsClientError', () => {
        // Failed handshakes (no client certificate when required, wrong ALPN) are the client's problem.
      });
      this.tlsServer = tlsServer;
      server = tlsServer;
    } else {
      server = net.createServer((socket) => this.accept(socket));
    }
    this.server = server;
    const period = Math.min(1000, Math.max(5, Math.floor(Math.min(this.config.keepaliveTimeMs, this.config.keepaliveTimeoutMs) / 4)));
    this.tickTimer = setInterval(() => this.tick(), period);
    this.tickTimer.unref();
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        server.on('error', () => {
          // Accept errors (EMFILE) must not crash the process; the listener keeps going.
        });
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    // Read the peer address now: node:net caches it on the socket (an ADS stream reads it at its
    // start anyway), so errors reported after the client hung up still name who it was.
    void socket.remoteAddress;
    const connection = new H2Connection(socket, this);
    this.connections.add(connection);
  }

  updateTls(options: TlsServerOptions): void {
    if (this.tlsServer === undefined) throw new Error('updateTls: the server is not listening with TLS');
    // Only the secure context changes; whether client certificates are asked stays as listen() set it.
    const { requestCert: _r, rejectUnauthorized: _u, ...context } = tlsContextOptions(options);
    this.tlsServer.setSecureContext(context);
  }

  private allClosed: (() => void) | undefined = undefined;

  async close(graceMs = 2000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const listener = this.server;
    const listenerClosed = new Promise<void>((resolve) => {
      if (listener === undefined || !listener.listening) resolve();
      else listener.close(() => resolve());
    });
    for (const connection of this.connections) {
      connection.goaway();
      for (const stream of connection.openStreams()) (stream as GrpcCall).fail(GrpcStatus.UNAVAILABLE, 'server shutting down');
    }
    if (this.connections.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.allClosed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      for (const connection of [...this.connections]) connection.destroy();
    }
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    await listenerClosed;
  }

  stats(): { connections: number; streams: number; protocolErrors: number } {
    return { connections: this.connections.size, streams: this.streams, protocolErrors: this.protocolErrors };
  }
}

/** A response to a request that is not gRPC: HTTP status + a gRPC status for gRPC clients, END_STREAM. */
function earlyBlock(httpStatus: number, code: number, message: string): Buffer {
  return encodeHeaderBlock([
    [':status', String(httpStatus)],
    ['content-type', 'application/grpc'],
    ['grpc-status', String(code)],
    ['grpc-message', percentEncodeGrpcMessage(message)],
  ]);
}

function tlsContextOptions(options: TlsServerOptions): tls.SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
  const mode = options.clientCertificates ?? 'none';
  if (mode !== 'none' && mode !== 'optional' && mode !== 'required') throw new RangeError(`TlsServerOptions.clientCertificates must be 'none', 'optional' or 'required', got ${JSON.stringify(mode)}`);
  if (mode !== 'none' && options.ca === undefined) throw new RangeError(`TlsServerOptions.ca is required when clientCertificates is '${mode}'`);
  return {
    cert: options.cert,
    key: options.key,
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    requestCert: mode !== 'none',
    rejectUnauthorized: mode === 'required',
  };
}

/** Creates a server (not yet listening). Throws RangeError/TypeError naming the bad option. */
export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  return new GrpcServerImpl(options);
}
