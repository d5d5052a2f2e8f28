/**
 * One server-side HTTP/2 connection (RFC 9113) over a node:net or node:tls socket, and `H2Stream`, the
 * base of a stream on it. Built for many long-lived, mostly idle connections:
 *  - a connection is one object with numeric fields and prototype methods; the socket listeners are
 *    shared functions (the connection is found through a symbol property on the socket), there is no
 *    per-connection timer (the host's one timer calls `tick()`), and nothing is buffered while idle;
 *  - outbound DATA is written without copying message bytes: a small buffer with the frame header (and
 *    the 5-byte gRPC prefix) followed by a view of the message, corked so Node does one writev.
 *
 * HTTP semantics (what a request means, what to answer) belong to the host (`ConnectionHost`, the gRPC
 * server); this file knows frames, streams, flow control, SETTINGS, PING, GOAWAY and abuse limits.
 *
 * Abuse limits, per connection, counted over a one-second window (coarse clock of the host), each one
 * answered with GOAWAY ENHANCE_YOUR_CALM: more than `LIMITS.pings` PINGs, `LIMITS.settings` SETTINGS,
 * `LIMITS.resets` RST_STREAMs from the client (rapid reset, CVE-2023-44487), `LIMITS.emptyData` empty
 * DATA frames without END_STREAM, `LIMITS.refusedStreams` refused streams. A header block (HEADERS +
 * CONTINUATION) larger than twice maxHeaderListSize or made of more than `LIMITS.continuations` frames is
 * refused the same way. Control frames we must answer stop being answered (GOAWAY ENHANCE_YOUR_CALM)
 * when the socket already holds more than `LIMITS.outboundBytes` unsent bytes, since a peer that does
 * not read could otherwise make us queue without bound.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { H2Error, h2ErrorCodeName, h2ErrorCodeValue, type H2ErrorCode } from './errors.js';
import {
  CONNECTION_PREFACE,
  DEFAULT_MAX_FRAME_SIZE,
  DEFAULT_WINDOW_SIZE,
  Flag,
  FrameReader,
  FrameType,
  MAX_MAX_FRAME_SIZE,
  MAX_WINDOW_SIZE,
  Setting,
  encodeGoaway,
  encodeHeaderFrames,
  encodePing,
  encodeRstStream,
  encodeSettings,
  encodeWindowUpdate,
  writeFrameHeader,
  type FrameSink,
} from './frame.js';
import { createHpackDecoder, HpackError, type HpackDecoder } from './hpack.js';

/** Abuse limits (see the file comment). Per connection per one-second window unless noted. */
export const LIMITS = {
  pings: 100,
  settings: 100,
  resets: 200,
  emptyData: 200,
  refusedStreams: 200,
  /** CONTINUATION frames in one header block. */
  continuations: 64,
  /** Unsent bytes in the socket beyond which answering control frames is refused. */
  outboundBytes: 4 * 1024 * 1024,
} as const;

/** Largest DATA frame we write even when the peer allows more (bounds the socket's queue per frame). */
const MAX_OUTBOUND_FRAME = 256 * 1024;
/** How long a connection that sent GOAWAY (error) may linger before its socket is destroyed. */
const CLOSING_LINGER_MS = 1000;
/** Our keepalive PING payload. */
const KEEPALIVE_PING = Buffer.from('mw-alive', 'latin1');

/** Numbers every connection of one server shares (read-only after the server is created). */
export interface ConnectionConfig {
  readonly maxConcurrentStreams: number;
  /** Our stream receive window (SETTINGS_INITIAL_WINDOW_SIZE we advertise). */
  readonly initialWindowSize: number;
  /** Our connection receive window (raised from 65,535 with a WINDOW_UPDATE on stream 0). */
  readonly connectionWindowSize: number;
  readonly headerTableSize: number;
  readonly maxHeaderListSize: number;
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
}

/** What a connection asks of its server. */
export interface ConnectionHost {
  readonly config: ConnectionConfig;
  /** Coarse clock (ms), advanced by the host's timer; connections read it instead of calling Date.now(). */
  readonly now: number;
  /** Our SETTINGS + connection WINDOW_UPDATE, written first on every connection (shared, never mutated). */
  readonly serverPreface: Buffer;
  /**
   * A request's header block arrived on a new stream (already checked: odd id, increasing, under the
   * concurrency limit). `headers` is [name, value, ...] as decoded; `headerListTooLarge` is true when it
   * exceeded maxHeaderListSize (then `headers` is empty). The host either registers a stream
   * (`connection.addStream`) or answers at once (`connection.respondAndClose` / `resetStream`).
   */
  onRequest(connection: H2Connection, streamId: number, headers: readonly string[], endStream: boolean, headerListTooLarge: boolean): void;
  /** A connection error we detected (the connection is already closing) — for metrics and onError. */
  onProtocolError(connection: H2Connection, err: H2Error): void;
  /** The socket closed; the connection is finished (all its streams were terminated before). */
  onConnectionClosed(connection: H2Connection): void;
  /** A stream's callback (onData, onRemoteEnd, a write callback) threw; the host decides the stream's fate. */
  onCallbackError(stream: H2Stream, err: unknown): void;
}

const kConnection = Symbol('meshward.h2.connection');
type SocketWithConnection = Socket & { [kConnection]?: H2Connection | undefined };

function onSocketData(this: SocketWithConnection, chunk: Buffer): void {
  this[kConnection]?.receive(chunk);
}
function onSocketError(this: SocketWithConnection): void {
  // ECONNRESET and friends are normal endings; 'close' follows and cleans up.
}
function onSocketClose(this: SocketWithConnection): void {
  const connection = this[kConnection];
  if (connection !== undefined) connection.socketClosed();
}
function onSocketDrain(this: SocketWithConnection): void {
  this[kConnection]?.drained();
}

// Connection flag bits.
const C_SETTINGS_ACKED = 1; // the client ACKed our SETTINGS
const C_GOAWAY_SENT = 2;
const C_GOAWAY_RECEIVED = 4;
const C_BLOCKED = 8; // waiting for 'drain'
const C_FLUSHING = 16;
const C_CLOSED = 32; // no more frames processed; streams terminated
const C_SOCKET_GONE = 64;
const C_PING_OUTSTANDING = 128;

// Connection reading states.
const R_PREFACE = 0;
const R_FIRST_SETTINGS = 1;
const R_FRAMES = 2;
const R_DONE = 3;

/** A message queued for sending: bytes, how far it got (-5..length: the 5-byte gRPC prefix comes first), callback. */
class OutboundMessage {
  readonly message: Uint8Array;
  offset = -5;
  readonly onWritten: (() => void) | undefined;
  constructor(message: Uint8Array, onWritten: (() => void) | undefined) {
    this.message = message;
    this.onWritten = onWritten;
  }
}

// Stream flag bits.
const S_REMOTE_ENDED = 1; // END_STREAM received
const S_HEADERS_SENT = 2; // response HEADERS written
const S_LOCAL_ENDING = 4; // trailers decided (queued or written)
const S_LOCAL_ENDED = 8; // END_STREAM written
const S_CLOSED = 16;
const S_PAUSED = 32;
const S_READY = 64; // in the connection's ready list
/** First bit free for subclasses. */
export const STREAM_FLAG_SUBCLASS = 256;

/** Why a stream ended, as told to `H2Stream.onTerminated`. */
export type StreamEnd =
  /** We wrote END_STREAM (and the client half-closed, or we reset the rest with NO_ERROR). */
  | 'done'
  /** The client reset it (`code` is the RST_STREAM error code). */
  | 'reset'
  /** We reset it (stream error, `code`). */
  | 'refused'
  /** The connection is gone (socket closed, connection error, server shutdown). */
  | 'connection';

/**
 * One HTTP/2 stream on an `H2Connection`. Subclasses (the gRPC call) implement `onData`, `onRemoteEnd`
 * and `onTerminated`, and send through `writeHeaders`, `queueMessage`, `writeTrailers` and `reset`.
 */
export abstract class H2Stream {
  readonly connection: H2Connection;
  readonly id: number;
  /** S_* bits (subclasses use bits from STREAM_FLAG_SUBCLASS up). */
  protected flags = 0;
  /** Bytes the peer lets us send on this stream (may go negative after a SETTINGS change). */
  sendWindow: number;
  /** Bytes the peer may still send us before our next WINDOW_UPDATE. */
  recvWindow: number;
  /** Bytes consumed but not yet returned with WINDOW_UPDATE. */
  private recvUnacked = 0;
  private outbound: OutboundMessage[] | undefined = undefined;
  private pendingTrailers: Buffer | undefined = undefined;
  /** DATA payloads received while paused (copies), delivered on resume. */
  private held: Buffer[] | undefined = undefined;

  constructor(connection: H2Connection, id: number) {
    this.connection = connection;
    this.id = id;
    this.sendWindow = connection.peerInitialWindowSize;
    this.recvWindow = connection.streamReceiveWindow();
  }

  /** Message bytes of one DATA frame (padding removed). Called only while not paused. Returns how many
   *  bytes it consumed: fewer than `data.length` only when it paused the stream (the rest is held and
   *  passed again on resume). Only consumed bytes are returned to the peer as flow-control credit. */
  protected abstract onData(data: Buffer): number;
  /** The client half-closed; called after every held DATA was delivered. */
  protected abstract onRemoteEnd(): void;
  /** The stream is gone (exactly once). */
  protected abstract onTerminated(end: StreamEnd, code: H2ErrorCode): void;

  get isClosed(): boolean {
    return (this.flags & S_CLOSED) !== 0;
  }
  get remoteEnded(): boolean {
    return (this.flags & S_REMOTE_ENDED) !== 0;
  }
  get headersSent(): boolean {
    return (this.flags & S_HEADERS_SENT) !== 0;
  }
  /** True once trailers were decided (end or fail called). */
  get localEnding(): boolean {
    return (this.flags & S_LOCAL_ENDING) !== 0;
  }
  /** True between pause() and resume(). */
  get paused(): boolean {
    return (this.flags & S_PAUSED) !== 0;
  }
  get queuedMessages(): number {
    return this.outbound === undefined ? 0 : this.outbound.length;
  }

  /** Stops delivering DATA and stops returning stream flow-control credit (the peer stalls at the window). */
  pause(): void {
    this.flags |= S_PAUSED;
  }

  /** Delivers what was held while paused, then resumes. */
  resume(): void {
    if ((this.flags & S_PAUSED) === 0) return;
    this.flags &= ~S_PAUSED;
    while (this.held !== undefined && (this.flags & (S_PAUSED | S_CLOSED)) === 0) {
      const chunk = this.held.shift()!;
      if (this.held.length === 0) this.held = undefined;
      this.deliver(chunk);
    }
    if ((this.flags & (S_PAUSED | S_CLOSED)) === 0 && this.held === undefined && (this.flags & S_REMOTE_ENDED) !== 0) {
      this.endDelivered();
    }
  }

  /** Writes the response HEADERS now (not flow controlled). `frames` from encodeHeaderFrames without END_STREAM. */
  protected writeHeaders(block: Uint8Array): void {
    if ((this.flags & (S_HEADERS_SENT | S_CLOSED)) !== 0) return;
    this.flags |= S_HEADERS_SENT;
    this.connection.writeRaw(encodeHeaderFrames(this.id, block, false, this.connection.peerMaxFrameSize));
  }

  /** Queues one gRPC message (5-byte prefix added when written); sent as flow control allows. */
  protected queueMessage(message: Uint8Array, onWritten: (() => void) | undefined): void {
    const item = new OutboundMessage(message, onWritten);
    if (this.outbound === undefined) this.outbound = [item];
    else this.outbound.push(item);
    this.connection.schedule(this);
  }

  /**
   * Ends our side with this header block (END_STREAM) once every queued message is written; with
   * `dropQueued`, messages not yet started are discarded (a message already partly written is finished
   * first, since cutting it would corrupt the gRPC framing).
   */
  protected writeTrailers(block: Uint8Array, dropQueued: boolean): void {
    if ((this.flags & (S_LOCAL_ENDING | S_CLOSED)) !== 0) return;
    this.flags |= S_LOCAL_ENDING;
    if (dropQueued && this.outbound !== undefined) {
      const head = this.outbound[0]!;
      if (head.offset > -5) this.outbound.length = 1;
      else this.outbound = undefined;
    }
    const frames = encodeHeaderFrames(this.id, block, true, this.connection.peerMaxFrameSize);
    if (this.outbound === undefined) this.finishWith(frames);
    else this.pendingTrailers = frames;
  }

  /** Resets the stream (stream error or cancellation) and terminates it. */
  reset(code: H2ErrorCode): void {
    if ((this.flags & S_CLOSED) !== 0) return;
    this.connection.writeRaw(encodeRstStream(this.id, h2ErrorCodeValue(code)));
    this.terminate('refused', code);
  }

  private finishWith(trailerFrames: Buffer): void {
    this.flags |= S_HEADERS_SENT | S_LOCAL_ENDED;
    this.connection.writeRaw(trailerFrames);
    if ((this.flags & S_REMOTE_ENDED) === 0) {
      // As gRPC servers do: the response is complete, free the stream even though the client has not half-closed.
      this.connection.writeRaw(encodeRstStream(this.id, 0));
    }
    this.terminate('done', 'NO_ERROR');
  }

  /** Writes at most one DATA frame. Returns true if the stream still has data it could send now. */
  writeFrame(budget: number): boolean {
    const queue = this.outbound;
    if (queue === undefined || (this.flags & S_CLOSED) !== 0) return false;
    const item = queue[0]!;
    const message = item.message;
    const connection = this.connection;
    let length = message.length - item.offset;
    const limit = Math.min(budget, this.sendWindow, connection.peerMaxFrameSize > MAX_OUTBOUND_FRAME ? MAX_OUTBOUND_FRAME : connection.peerMaxFrameSize);
    if (limit <= 0) return false;
    if (length > limit) length = limit;
    const prefixPart = item.offset < 0 ? Math.min(-item.offset, length) : 0;
    const head = Buffer.allocUnsafe(9 + prefixPart);
    writeFrameHeader(head, 0, length, FrameType.DATA, 0, this.id);
    if (prefixPart > 0) {
      // The gRPC prefix: compressed flag 0, then the length big-endian; write the part not yet sent.
      const size = message.length;
      const prefix = [0, (size >>> 24) & 0xff, (size >>> 16) & 0xff, (size >>> 8) & 0xff, size & 0xff];
      for (let i = 0; i < prefixPart; i++) head[9 + i] = prefix[5 + item.offset + i]!;
    }
    const bodyStart = item.offset + prefixPart;
    const bodyEnd = item.offset + length;
    connection.writeData(head);
    if (bodyEnd > bodyStart) connection.writeData(message.subarray(bodyStart, bodyEnd));
    item.offset = bodyEnd;
    this.sendWindow -= length;
    connection.sendWindow -= length;
    if (bodyEnd === message.length) {
      queue.shift();
      if (queue.length === 0) this.outbound = undefined;
      if (item.onWritten !== undefined) {
        try {
          item.onWritten();
        } catch (err) {
          connection.reportCallbackError(this, err);
        }
      }
      if ((this.flags & S_CLOSED) !== 0) return false;
      if (this.outbound === undefined) {
        const trailers = this.pendingTrailers;
        if (trailers !== undefined) {
          this.pendingTrailers = undefined;
          this.finishWith(trailers);
        }
        return false;
      }
    }
    return this.sendWindow > 0;
  }

  /** Called by the connection for each DATA frame: `data` without padding, `frameLength` as counted by flow control. */
  receiveData(data: Buffer, frameLength: number, endStream: boolean): void {
    this.recvWindow -= frameLength;
    if (this.recvWindow < 0) {
      this.reset('FLOW_CONTROL_ERROR');
      return;
    }
    // Padding is never consumed by anyone: return it at once.
    if (frameLength > data.length) this.credit(frameLength - data.length);
    if (endStream) this.flags |= S_REMOTE_ENDED;
    if ((this.flags & S_PAUSED) !== 0 || this.held !== undefined) {
      if (data.length > 0) {
        const copy = Buffer.from(data);
        if (this.held === undefined) this.held = [copy];
        else this.held.push(copy);
      }
    } else if (data.length > 0) {
      this.deliver(data);
    }
    if (endStream && (this.flags & (S_PAUSED | S_CLOSED)) === 0 && this.held === undefined) this.endDelivered();
  }

  /** The client half-closed with a HEADERS frame (trailers) or an empty DATA frame. */
  receiveEnd(): void {
    this.flags |= S_REMOTE_ENDED;
    if ((this.flags & (S_PAUSED | S_CLOSED)) === 0 && this.held === undefined) this.endDelivered();
  }

  private deliver(data: Buffer): void {
    let consumed = data.length;
    try {
      consumed = this.onData(data);
    } catch (err) {
      this.connection.reportCallbackError(this, err);
    }
    if ((this.flags & S_CLOSED) !== 0) return;
    this.credit(consumed);
    if (consumed < data.length) {
      const rest = Buffer.from(data.subarray(consumed));
      if (this.held === undefined) this.held = [rest];
      else this.held.unshift(rest);
    }
  }

  private endDelivered(): void {
    if ((this.flags & S_CLOSED) !== 0) return;
    try {
      this.onRemoteEnd();
    } catch (err) {
      this.connection.reportCallbackError(this, err);
    }
  }

  /** Returns consumed bytes to the peer when they reach half the window (not after END_STREAM). */
  private credit(bytes: number): void {
    this.recvUnacked += bytes;
    if ((this.flags & (S_REMOTE_ENDED | S_CLOSED)) !== 0) return;
    if (this.recvUnacked * 2 >= this.connection.host.config.initialWindowSize) {
      this.connection.writeRaw(encodeWindowUpdate(this.id, this.recvUnacked));
      this.recvWindow += this.recvUnacked;
      this.recvUnacked = 0;
    }
  }

  /** Removes the stream from its connection and tells the subclass (once). */
  terminate(end: StreamEnd, code: H2ErrorCode): void {
    if ((this.flags & S_CLOSED) !== 0) return;
    this.flags |= S_CLOSED;
    this.outbound = undefined;
    this.pendingTrailers = undefined;
    this.held = undefined;
    this.connection.removeStream(this);
    this.onTerminated(end, code);
  }

  /** @internal connection bookkeeping */
  get inReadyList(): boolean {
    return (this.flags & S_READY) !== 0;
  }
  /** @internal */
  set inReadyList(value: boolean) {
    if (value) this.flags |= S_READY;
    else this.flags &= ~S_READY;
  }
  /** @internal */
  get hasOutbound(): boolean {
    return this.outbound !== undefined;
  }
}

/**
 * The server side of one HTTP/2 connection. Created by the host for each accepted socket (after the TLS
 * handshake for TLS); writes our SETTINGS at once and reads the client preface.
 */
export class H2Connection implements FrameSink {
  readonly socket: Socket;
  readonly host: ConnectionHost;
  private readonly reader = new FrameReader(DEFAULT_MAX_FRAME_SIZE);
  private decoder: HpackDecoder | undefined = undefined;
  /** Open streams: the usual single one in a slot, a Map only when there are more (saves ~200 bytes per idle connection). */
  private stream1: H2Stream | undefined = undefined;
  private moreStreams: Map<number, H2Stream> | undefined = undefined;
  private ready: H2Stream[] | undefined = undefined;
  private flags = 0;
  private readState = R_PREFACE;
  private prefaceMatched = 0;

  /** Peer settings that matter to us. */
  peerInitialWindowSize = DEFAULT_WINDOW_SIZE;
  peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  /** Connection-level send window (peer's credit to us). */
  sendWindow = DEFAULT_WINDOW_SIZE;
  /** Connection-level receive window left, and consumed bytes not yet returned. */
  private recvWindow: number;
  private recvUnacked = 0;

  /** Highest client stream id seen (the last stream id of our GOAWAY). */
  lastStreamId = 0;
  /** Last stream id of the graceful GOAWAY we sent: a later GOAWAY (connection error) must not name a higher one (RFC 9113 §6.8). */
  private goawayLastStreamId = 0;
  /** Header block being assembled from HEADERS + CONTINUATION (stream id 0 when none). */
  private blockStream = 0;
  private blockFlags = 0;
  private blockParts: Buffer[] | undefined = undefined;
  private blockBytes = 0;

  /** Coarse times (host.now) of the last byte received, the keepalive PING, the GOAWAY we sent on error. */
  private lastSeen: number;
  private pingSentAt = 0;
  private closingAt = 0;
  /** Abuse counters for the current one-second window. */
  private windowStart: number;
  private pings = 0;
  private settingsFrames = 0;
  private resets = 0;
  private emptyData = 0;
  private refused = 0;

  constructor(socket: Socket, host: ConnectionHost) {
    this.socket = socket;
    this.host = host;
    this.recvWindow = Math.max(DEFAULT_WINDOW_SIZE, host.config.connectionWindowSize);
    this.lastSeen = host.now;
    this.windowStart = host.now;
    const s = socket as SocketWithConnection;
    s[kConnection] = this;
    socket.setNoDelay(true);
    socket.on('data', onSocketData);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    socket.write(host.serverPreface);
  }

  /** Open streams. */
  get streamCount(): number {
    return (this.stream1 === undefined ? 0 : 1) + (this.moreStreams === undefined ? 0 : this.moreStreams.size);
  }

  private getStream(id: number): H2Stream | undefined {
    const first = this.stream1;
    if (first !== undefined && first.id === id) return first;
    return this.moreStreams === undefined ? undefined : this.moreStreams.get(id);
  }

  /** Every open stream (a copy), for the host (shutdown). */
  openStreams(): H2Stream[] {
    const out: H2Stream[] = this.stream1 === undefined ? [] : [this.stream1];
    if (this.moreStreams !== undefined) for (const stream of this.moreStreams.values()) out.push(stream);
    return out;
  }
  get closed(): boolean {
    return (this.flags & C_CLOSED) !== 0;
  }
  /** True for TLS sockets. */
  get secure(): boolean {
    return (this.socket as Partial<TLSSocket>).encrypted === true;
  }
  /** "ip:port" of the peer ("[v6]:port" for IPv6). */
  get peer(): string {
    const address = this.socket.remoteAddress ?? 'unknown';
    const port = this.socket.remotePort ?? 0;
    return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  }
  /** Bytes the frame reader holds (an incomplete frame), for tests. */
  get bufferedBytes(): number {
    return this.reader.bufferedBytes;
  }

  /** Stream receive window for a new stream: before the client ACKs our SETTINGS it may still assume 65,535. */
  streamReceiveWindow(): number {
    const ours = this.host.config.initialWindowSize;
    return (this.flags & C_SETTINGS_ACKED) !== 0 || ours >= DEFAULT_WINDOW_SIZE ? ours : DEFAULT_WINDOW_SIZE;
  }

  // ---- socket side ----

  /** @internal bytes from the socket */
  receive(chunk: Buffer): void {
    if (this.readState === R_DONE) return;
    this.lastSeen = this.host.now;
    if (this.readState === R_PREFACE) {
      const need = CONNECTION_PREFACE.length - this.prefaceMatched;
      const n = Math.min(need, chunk.length);
      for (let i = 0; i < n; i++) {
        if (chunk[i] !== CONNECTION_PREFACE[this.prefaceMatched + i]) {
          this.connectionError(new H2Error('PROTOCOL_ERROR', 'invalid connection preface'));
          return;
        }
      }
      this.prefaceMatched += n;
      if (this.prefaceMatched < CONNECTION_PREFACE.length) return;
      this.readState = R_FIRST_SETTINGS;
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    this.socket.cork();
    try {
      this.reader.push(chunk, this);
    } finally {
      this.socket.uncork();
    }
  }

  /** @internal socket 'close' */
  socketClosed(): void {
    this.flags |= C_SOCKET_GONE;
    this.readState = R_DONE;
    this.reader.reset();
    this.closeStreams();
    this.flags |= C_CLOSED;
    const s = this.socket as SocketWithConnection;
    s[kConnection] = undefined;
    this.host.onConnectionClosed(this);
  }

  /** @internal socket 'drain' */
  drained(): void {
    this.flags &= ~C_BLOCKED;
    this.flush();
  }

  // ---- frames in ----

  onFrameTooLarge(type: number, streamId: number, length: number): void {
    this.connectionError(new H2Error('FRAME_SIZE_ERROR', `frame of type ${type} on stream ${streamId} has length ${length} > ${this.reader.maxFrameSize}`));
  }

  onFrame(type: number, flags: number, streamId: number, payload: Buffer): boolean {
    if (this.readState === R_FIRST_SETTINGS) {
      if (type !== FrameType.SETTINGS || (flags & Flag.ACK) !== 0) {
        this.connectionError(new H2Error('PROTOCOL_ERROR', 'the connection preface must be followed by a SETTINGS frame'));
        return false;
      }
      this.readState = R_FRAMES;
    }
    if (this.blockStream !== 0 && (type !== FrameType.CONTINUATION || streamId !== this.blockStream)) {
      this.connectionError(new H2Error('PROTOCOL_ERROR', `expected CONTINUATION on stream ${this.blockStream}, got frame type ${type} on stream ${streamId}`));
      return false;
    }
    try {
      switch (type) {
        case FrameType.DATA:
          this.onDataFrame(flags, streamId, payload);
          break;
        case FrameType.HEADERS:
          this.onHeadersFrame(flags, streamId, payload);
          break;
        case FrameType.PRIORITY:
          if (streamId === 0) throw new H2Error('PROTOCOL_ERROR', 'PRIORITY on stream 0');
          if (payload.length !== 5) this.resetUnknownOrOpen(streamId, 'FRAME_SIZE_ERROR');
          break;
        case FrameType.RST_STREAM:
          this.onRstStream(streamId, payload);
          break;
        case FrameType.SETTINGS:
          this.onSettings(flags, streamId, payload);
          break;
        case FrameType.PUSH_PROMISE:
          throw new H2Error('PROTOCOL_ERROR', 'PUSH_PROMISE from a client');
        case FrameType.PING:
          this.onPing(flags, streamId, payload);
          break;
        case FrameType.GOAWAY:
          this.onGoaway(streamId, payload);
          break;
        case FrameType.WINDOW_UPDATE:
          this.onWindowUpdate(streamId, payload);
          break;
        case FrameType.CONTINUATION:
          this.onContinuation(flags, streamId, payload);
          break;
        default:
          // Unknown frame types are ignored (RFC 9113 §4.1).
          break;
      }
    } catch (err) {
      // A bug or a host failure must not take the process down: it ends this connection only.
      this.connectionError(err instanceof H2Error ? err : new H2Error('INTERNAL_ERROR', `internal error: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
      return false;
    }
    return this.readState !== R_DONE;
  }

  private onDataFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new H2Error('PROTOCOL_ERROR', 'DATA on stream 0');
    const length = payload.length;
    this.recvWindow -= length;
    if (this.recvWindow < 0) throw new H2Error('FLOW_CONTROL_ERROR', `DATA exceeds the connection window by ${-this.recvWindow} bytes`);
    let data = payload;
    if ((flags & Flag.PADDED) !== 0) {
      if (length < 1) throw new H2Error('FRAME_SIZE_ERROR', 'PADDED DATA without a pad length');
      const pad = payload[0]!;
      if (pad >= length) throw new H2Error('PROTOCOL_ERROR', `DATA padding ${pad} >= frame length ${length}`);
      data = payload.subarray(1, length - pad);
    }
    // The connection window is returned as soon as a frame is read: stream windows bound what is held.
    this.creditConnection(length);
    const endStream = (flags & Flag.END_STREAM) !== 0;
    if (length === 0 && !endStream) {
      this.countAbuse('emptyData');
      if (this.readState === R_DONE) return;
    }
    const stream = this.getStream(streamId);
    if (stream === undefined) {
      if (streamId > this.lastStreamId || (streamId & 1) === 0) throw new H2Error('PROTOCOL_ERROR', `DATA on idle stream ${streamId}`);
      return; // closed (we may have reset it; frames in flight are ignored)
    }
    if (stream.remoteEnded) {
      stream.reset('STREAM_CLOSED');
      return;
    }
    stream.receiveData(data, length, endStream);
  }

  private onHeadersFrame(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new H2Error('PROTOCOL_ERROR', 'HEADERS on stream 0');
    if ((streamId & 1) === 0) throw new H2Error('PROTOCOL_ERROR', `HEADERS on even stream id ${streamId}`);
    let start = 0;
    let end = payload.length;
    if ((flags & Flag.PADDED) !== 0) {
      if (end < 1) throw new H2Error('FRAME_SIZE_ERROR', 'PADDED HEADERS without a pad length');
      const pad = payload[0]!;
      start = 1;
      if (pad > end - start) throw new H2Error('PROTOCOL_ERROR', `HEADERS padding ${pad} exceeds the frame`);
      end -= pad;
    }
    if ((flags & Flag.PRIORITY) !== 0) {
      if (end - start < 5) throw new H2Error('FRAME_SIZE_ERROR', 'HEADERS with PRIORITY shorter than 5 octets');
      start += 5;
      if (start > end) throw new H2Error('PROTOCOL_ERROR', 'HEADERS padding exceeds the frame');
    }
    const fragment = payload.subarray(start, end);
    if (fragment.length > this.host.config.maxHeaderListSize * 2) {
      throw new H2Error('ENHANCE_YOUR_CALM', `header block larger than ${this.host.config.maxHeaderListSize * 2} bytes`);
    }
    if ((flags & Flag.END_HEADERS) !== 0) {
      this.onHeaderBlock(streamId, flags, fragment);
      return;
    }
    this.blockStream = streamId;
    this.blockFlags = flags;
    this.blockParts = [Buffer.from(fragment)];
    this.blockBytes = fragment.length;
  }

  private onContinuation(flags: number, streamId: number, payload: Buffer): void {
    if (this.blockStream === 0 || streamId !== this.blockStream) throw new H2Error('PROTOCOL_ERROR', `unexpected CONTINUATION on stream ${streamId}`);
    const parts = this.blockParts!;
    this.blockBytes += payload.length;
    if (this.blockBytes > this.host.config.maxHeaderListSize * 2 || parts.length >= LIMITS.continuations) {
      throw new H2Error('ENHANCE_YOUR_CALM', `header block on stream ${streamId} too large (${this.blockBytes} bytes in ${parts.length + 1} frames)`);
    }
    parts.push(Buffer.from(payload));
    if ((flags & Flag.END_HEADERS) === 0) return;
    const block = Buffer.concat(parts);
    const headerFlags = this.blockFlags;
    this.blockStream = 0;
    this.blockParts = undefined;
    this.blockBytes = 0;
    this.onHeaderBlock(streamId, headerFlags, block);
  }

  private onHeaderBlock(streamId: number, flags: number, block: Buffer): void {
    // Always decode, even for a stream we refuse: the HPACK state is connection-wide.
    let headers: string[] = [];
    let tooLarge = false;
    this.decoder ??= createHpackDecoder({ maxTableSize: 4096, maxHeaderListSize: this.host.config.maxHeaderListSize });
    try {
      headers = this.decoder.decode(block);
    } catch (err) {
      if (err instanceof HpackError && err.kind === 'header-list-too-large') tooLarge = true;
      else throw new H2Error('COMPRESSION_ERROR', `header block on stream ${streamId} does not decode: ${(err as Error).message}`, { cause: err });
    }
    const endStream = (flags & Flag.END_STREAM) !== 0;
    const stream = this.getStream(streamId);
    if (stream !== undefined) {
      // Trailers from the client: they must end the stream.
      if (stream.remoteEnded) stream.reset('STREAM_CLOSED');
      else if (!endStream) stream.reset('PROTOCOL_ERROR');
      else stream.receiveEnd();
      return;
    }
    if (streamId <= this.lastStreamId) {
      // A closed stream: trailers in flight after we reset it are ignored; anything else reuses an old id.
      if (endStream) return;
      throw new H2Error('PROTOCOL_ERROR', `HEADERS on stream ${streamId} after stream ${this.lastStreamId} (stream ids must increase)`);
    }
    this.lastStreamId = streamId;
    if ((this.flags & (C_GOAWAY_SENT | C_GOAWAY_RECEIVED)) !== 0 || this.streamCount >= this.host.config.maxConcurrentStreams) {
      this.countAbuse('refused');
      if (this.readState !== R_DONE) this.writeControl(encodeRstStream(streamId, h2ErrorCodeValue('REFUSED_STREAM')));
      return;
    }
    this.host.onRequest(this, streamId, headers, endStream, tooLarge);
  }

  private onRstStream(streamId: number, payload: Buffer): void {
    if (streamId === 0) throw new H2Error('PROTOCOL_ERROR', 'RST_STREAM on stream 0');
    if (payload.length !== 4) throw new H2Error('FRAME_SIZE_ERROR', `RST_STREAM with length ${payload.length}`);
    if (streamId > this.lastStreamId || (streamId & 1) === 0) throw new H2Error('PROTOCOL_ERROR', `RST_STREAM on idle stream ${streamId}`);
    this.countAbuse('resets');
    if (this.readState === R_DONE) return;
    const stream = this.getStream(streamId);
    if (stream !== undefined) stream.terminate('reset', h2ErrorCodeName(payload.readUInt32BE(0)));
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new H2Error('PROTOCOL_ERROR', `SETTINGS on stream ${streamId}`);
    if ((flags & Flag.ACK) !== 0) {
      if (payload.length !== 0) throw new H2Error('FRAME_SIZE_ERROR', `SETTINGS ACK with a ${payload.length}-byte payload`);
      if ((this.flags & C_SETTINGS_ACKED) === 0) {
        this.flags |= C_SETTINGS_ACKED;
        this.decoder ??= createHpackDecoder({ maxTableSize: 4096, maxHeaderListSize: this.host.config.maxHeaderListSize });
        this.decoder.setMaxTableSize(this.host.config.headerTableSize);
      }
      return;
    }
    if (payload.length % 6 !== 0) throw new H2Error('FRAME_SIZE_ERROR', `SETTINGS length ${payload.length} is not a multiple of 6`);
    this.countAbuse('settings');
    if (this.readState === R_DONE) return;
    let windowDelta = 0;
    for (let offset = 0; offset < payload.length; offset += 6) {
      const id = payload.readUInt16BE(offset);
      const value = payload.readUInt32BE(offset + 2);
      switch (id) {
        case Setting.ENABLE_PUSH:
          if (value > 1) throw new H2Error('PROTOCOL_ERROR', `SETTINGS_ENABLE_PUSH must be 0 or 1, got ${value}`);
          break;
        case Setting.INITIAL_WINDOW_SIZE:
          if (value > MAX_WINDOW_SIZE) throw new H2Error('FLOW_CONTROL_ERROR', `SETTINGS_INITIAL_WINDOW_SIZE ${value} > 2^31-1`);
          windowDelta += value - this.peerInitialWindowSize;
          this.peerInitialWindowSize = value;
          break;
        case Setting.MAX_FRAME_SIZE:
          if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE) throw new H2Error('PROTOCOL_ERROR', `SETTINGS_MAX_FRAME_SIZE ${value} outside [16384, 2^24-1]`);
          this.peerMaxFrameSize = value;
          break;
        default:
          // HEADER_TABLE_SIZE: our encoder never indexes, so the peer's table size does not matter.
          // MAX_CONCURRENT_STREAMS, MAX_HEADER_LIST_SIZE: we open no streams and send small header lists. Unknown ids are ignored.
          break;
      }
    }
    if (windowDelta !== 0) {
      for (const stream of this.openStreams()) {
        stream.sendWindow += windowDelta;
        if (stream.sendWindow > MAX_WINDOW_SIZE) throw new H2Error('FLOW_CONTROL_ERROR', `SETTINGS_INITIAL_WINDOW_SIZE change overflows the window of stream ${stream.id}`);
        if (windowDelta > 0 && stream.sendWindow > 0 && stream.hasOutbound) this.schedule(stream);
      }
    }
    this.writeControl(encodeSettings([], true));
    if (windowDelta > 0) this.flush();
  }

  private onPing(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new H2Error('PROTOCOL_ERROR', `PING on stream ${streamId}`);
    if (payload.length !== 8) throw new H2Error('FRAME_SIZE_ERROR', `PING with length ${payload.length}`);
    if ((flags & Flag.ACK) !== 0) {
      if ((this.flags & C_PING_OUTSTANDING) !== 0 && payload.equals(KEEPALIVE_PING)) {
        this.flags &= ~C_PING_OUTSTANDING;
        this.pingSentAt = 0;
      }
      return;
    }
    this.countAbuse('pings');
    if (this.readState !== R_DONE) this.writeControl(encodePing(payload, true));
  }

  private onGoaway(streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw new H2Error('PROTOCOL_ERROR', `GOAWAY on stream ${streamId}`);
    if (payload.length < 8) throw new H2Error('FRAME_SIZE_ERROR', `GOAWAY with length ${payload.length}`);
    this.flags |= C_GOAWAY_RECEIVED;
    const code = payload.readUInt32BE(4);
    if (code !== 0) {
      // The client gives up on the connection with an error: its streams are over.
      this.closeStreams();
    }
    if (this.streamCount === 0) this.endSocket();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new H2Error('FRAME_SIZE_ERROR', `WINDOW_UPDATE with length ${payload.length}`);
    const increment = payload.readUInt32BE(0) & 0x7fffffff;
    if (streamId === 0) {
      if (increment === 0) throw new H2Error('PROTOCOL_ERROR', 'WINDOW_UPDATE with increment 0 on the connection');
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW_SIZE) throw new H2Error('FLOW_CONTROL_ERROR', 'WINDOW_UPDATE overflows the connection window');
      this.flush();
      return;
    }
    const stream = this.getStream(streamId);
    if (stream === undefined) {
      if (streamId > this.lastStreamId || (streamId & 1) === 0) throw new H2Error('PROTOCOL_ERROR', `WINDOW_UPDATE on idle stream ${streamId}`);
      return;
    }
    if (increment === 0) {
      stream.reset('PROTOCOL_ERROR');
      return;
    }
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW_SIZE) {
      stream.reset('FLOW_CONTROL_ERROR');
      return;
    }
    if (stream.sendWindow > 0 && stream.hasOutbound) {
      this.schedule(stream);
      this.flush();
    }
  }

  /**
   * A malformed PRIORITY: stream error (RST_STREAM `code`) on an open or closed stream. On an idle stream
   * RST_STREAM must not be sent (RFC 9113 §6.4; a client such as oghttp2 ends the connection when it
   * receives one), so there it is a connection error (§5.4.1 allows it; nghttp2 does the same).
   */
  private resetUnknownOrOpen(streamId: number, code: H2ErrorCode): void {
    const stream = this.getStream(streamId);
    if (stream !== undefined) stream.reset(code);
    else if (streamId > this.lastStreamId || (streamId & 1) === 0) throw new H2Error(code, `malformed PRIORITY on idle stream ${streamId}`);
    else this.writeControl(encodeRstStream(streamId, h2ErrorCodeValue(code)));
  }

  private creditConnection(bytes: number): void {
    this.recvUnacked += bytes;
    if (this.recvUnacked * 2 >= this.host.config.connectionWindowSize) {
      this.writeRaw(encodeWindowUpdate(0, this.recvUnacked));
      this.recvWindow += this.recvUnacked;
      this.recvUnacked = 0;
    }
  }

  private countAbuse(kind: 'pings' | 'settings' | 'resets' | 'emptyData' | 'refused'): void {
    const now = this.host.now;
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.pings = this.settingsFrames = this.resets = this.emptyData = this.refused = 0;
    }
    let over = false;
    switch (kind) {
      case 'pings':
        over = ++this.pings > LIMITS.pings;
        break;
      case 'settings':
        over = ++this.settingsFrames > LIMITS.settings;
        break;
      case 'resets':
        over = ++this.resets > LIMITS.resets;
        break;
      case 'emptyData':
        over = ++this.emptyData > LIMITS.emptyData;
        break;
      case 'refused':
        over = ++this.refused > LIMITS.refusedStreams;
        break;
    }
    if (over) this.connectionError(new H2Error('ENHANCE_YOUR_CALM', `too many ${kind === 'refused' ? 'refused streams' : kind === 'emptyData' ? 'empty DATA frames' : kind === 'resets' ? 'RST_STREAM frames' : kind === 'settings' ? 'SETTINGS frames' : 'PING frames'} per second`));
  }

  // ---- streams ----

  /** Registers a stream the host created for a request (from onRequest). */
  addStream(stream: H2Stream): void {
    if (this.stream1 === undefined) this.stream1 = stream;
    else (this.moreStreams ??= new Map()).set(stream.id, stream);
  }

  /** @internal */
  removeStream(stream: H2Stream): void {
    if (this.stream1 === stream) this.stream1 = undefined;
    else if (this.moreStreams !== undefined && this.moreStreams.get(stream.id) === stream) {
      this.moreStreams.delete(stream.id);
      if (this.moreStreams.size === 0) this.moreStreams = undefined;
    } else return;
    if (this.ready !== undefined) {
      const i = this.ready.indexOf(stream);
      if (i >= 0) this.ready.splice(i, 1);
      if (this.ready.length === 0) this.ready = undefined;
    }
    stream.inReadyList = false;
    if (this.streamCount === 0 && (this.flags & (C_GOAWAY_SENT | C_GOAWAY_RECEIVED)) !== 0) this.endSocket();
  }

  /** Answers a request without creating a stream: HEADERS with END_STREAM (+ RST_STREAM NO_ERROR if the client has not half-closed). */
  respondAndClose(streamId: number, block: Uint8Array, clientEnded: boolean): void {
    this.writeRaw(encodeHeaderFrames(streamId, block, true, this.peerMaxFrameSize));
    if (!clientEnded) this.writeRaw(encodeRstStream(streamId, 0));
  }

  /** Resets a stream that was never registered (malformed request). */
  resetStream(streamId: number, code: H2ErrorCode): void {
    const stream = this.getStream(streamId);
    if (stream !== undefined) stream.reset(code);
    else this.writeRaw(encodeRstStream(streamId, h2ErrorCodeValue(code)));
  }

  /** @internal a stream's callback threw */
  reportCallbackError(stream: H2Stream, err: unknown): void {
    this.host.onCallbackError(stream, err);
  }

  // ---- frames out ----

  /** @internal a stream has DATA to send. */
  schedule(stream: H2Stream): void {
    if (stream.inReadyList || stream.isClosed) return;
    stream.inReadyList = true;
    if (this.ready === undefined) this.ready = [stream];
    else this.ready.push(stream);
    if ((this.flags & C_FLUSHING) === 0) this.flush();
  }

  /** Writes DATA frames round-robin across ready streams while the windows and the socket allow. */
  flush(): void {
    if ((this.flags & (C_FLUSHING | C_BLOCKED | C_SOCKET_GONE)) !== 0) return;
    const socket = this.socket;
    this.flags |= C_FLUSHING;
    socket.cork();
    try {
      while (this.ready !== undefined && this.sendWindow > 0) {
        const stream = this.ready.shift()!;
        if (this.ready.length === 0) this.ready = undefined;
        stream.inReadyList = false;
        const more = stream.writeFrame(this.sendWindow);
        // (A write callback may already have re-scheduled the stream.)
        if (!stream.inReadyList && (more || (stream.hasOutbound && !stream.isClosed && stream.sendWindow > 0))) {
          stream.inReadyList = true;
          if (this.ready === undefined) this.ready = [stream];
          else this.ready.push(stream);
        }
        if (socket.writableNeedDrain) {
          this.flags |= C_BLOCKED;
          socket.once('drain', onSocketDrain);
          break;
        }
      }
    } finally {
      this.flags &= ~C_FLUSHING;
      socket.uncork();
    }
  }

  /** @internal one piece of a DATA frame */
  writeData(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Writes frames now (HEADERS, RST_STREAM, WINDOW_UPDATE): not subject to socket backpressure. */
  writeRaw(frames: Uint8Array): void {
    if ((this.flags & C_SOCKET_GONE) !== 0 || this.socket.destroyed || this.socket.writableEnded) return;
    this.socket.write(frames);
  }

  /** Writes a frame that answers the peer (ACKs, refusals), refusing to queue without bound for a peer that does not read. */
  private writeControl(frame: Uint8Array): void {
    if (this.socket.writableLength > LIMITS.outboundBytes) {
      this.connectionError(new H2Error('ENHANCE_YOUR_CALM', `peer does not read (${this.socket.writableLength} bytes unsent)`));
      return;
    }
    this.writeRaw(frame);
  }

  // ---- lifecycle ----

  /** Connection error: GOAWAY(last stream id, code, reason), every stream terminated, socket ended. */
  connectionError(err: H2Error): void {
    if (this.readState === R_DONE) return;
    this.readState = R_DONE;
    this.reader.reset();
    this.blockParts = undefined;
    // After a graceful GOAWAY, streams above its last stream id were refused: never announce a higher one (clients such as oghttp2 treat that as PROTOCOL_ERROR).
    const lastStreamId = (this.flags & C_GOAWAY_SENT) !== 0 ? this.goawayLastStreamId : this.lastStreamId;
    this.writeRaw(encodeGoaway(lastStreamId, h2ErrorCodeValue(err.code), err.message.slice(0, 200)));
    this.flags |= C_GOAWAY_SENT;
    this.closingAt = this.host.now;
    this.closeStreams();
    this.host.onProtocolError(this, err);
    this.endSocket();
  }

  /**
   * Graceful shutdown: GOAWAY NO_ERROR (no new streams), then the socket ends once the open streams are
   * done (the host fails them). Idempotent.
   */
  goaway(): void {
    if ((this.flags & (C_GOAWAY_SENT | C_SOCKET_GONE)) !== 0) return;
    this.flags |= C_GOAWAY_SENT;
    this.goawayLastStreamId = this.lastStreamId;
    this.writeRaw(encodeGoaway(this.lastStreamId, 0, 'server shutting down'));
    if (this.streamCount === 0) this.endSocket();
  }


  /** Destroys the socket now; streams terminate with 'connection'. */
  destroy(): void {
    this.readState = R_DONE;
    this.closeStreams();
    this.socket.destroy();
  }

  private closeStreams(): void {
    if (this.streamCount === 0) return;
    for (const stream of this.openStreams()) stream.terminate('connection', 'CANCEL');
  }

  private endSocket(): void {
    if (this.closingAt === 0) this.closingAt = this.host.now || 1;
    if (!this.socket.writableEnded) this.socket.end();
  }

  /**
   * Called by the host's timer with its coarse clock: keepalive PING after keepaliveTimeMs of silence,
   * destroy when that PING is not ACKed within keepaliveTimeoutMs, destroy a connection that lingers
   * after we ended it.
   */
  tick(now: number): void {
    if ((this.flags & C_SOCKET_GONE) !== 0) return;
    if (this.closingAt !== 0) {
      if (now - this.closingAt >= CLOSING_LINGER_MS) this.destroy();
      return;
    }
    const config = this.host.config;
    if ((this.flags & C_PING_OUTSTANDING) !== 0) {
      if (now - this.pingSentAt >= config.keepaliveTimeoutMs) this.destroy();
      return;
    }
    if (now - this.lastSeen >= config.keepaliveTimeMs && this.readState !== R_PREFACE) {
      this.flags |= C_PING_OUTSTANDING;
      this.pingSentAt = now;
      this.writeRaw(encodePing(KEEPALIVE_PING, false));
    } else if (now - this.lastSeen >= config.keepaliveTimeMs + config.keepaliveTimeoutMs) {
      // Still no complete preface after a keepalive period and a timeout: drop.
      this.destroy();
    }
  }
}

/** Our SETTINGS frame + connection WINDOW_UPDATE for a config (the host computes it once). */
export function encodeServerPreface(config: ConnectionConfig): Buffer {
  const settings = encodeSettings([
    [Setting.HEADER_TABLE_SIZE, config.headerTableSize],
    [Setting.ENABLE_PUSH, 0],
    [Setting.MAX_CONCURRENT_STREAMS, config.maxConcurrentStreams],
    [Setting.INITIAL_WINDOW_SIZE, config.initialWindowSize],
    [Setting.MAX_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE],
    [Setting.MAX_HEADER_LIST_SIZE, config.maxHeaderListSize],
  ]);
  const increment = config.connectionWindowSize - DEFAULT_WINDOW_SIZE;
  return increment > 0 ? Buffer.concat([settings, encodeWindowUpdate(0, increment)]) : settings;
}
