// One HTTP stream through Envoy's filter manager with the plugin as its only HTTP filter, the
// router behind it (upstream) and the client in front (downstream).
//
// Semantics (Envoy source/common/http/filter_manager.cc, source/extensions/common/wasm/context.cc,
// proxy-wasm-cpp-host src/context.cc):
// - Headers: Continue forwards them. StopIteration becomes StopAllIterationAndWatermark unless
//   allowOnHeadersStopIteration: body and trailers are then held WITHOUT calling the plugin until
//   proxy_continue_stream, which forwards the headers and calls the body callback with everything
//   held. With allowOnHeadersStopIteration, StopIteration holds the headers but body callbacks run.
//   StopAllIterationAndBuffer (3) is the same hold with the buffer limit enforced (413/500).
// - Body: 0 Continue forwards what is held plus this chunk; 1 StopIterationAndBuffer accumulates
//   (next callback's body_size is the total, get/set buffer work on all of it; over the buffer
//   limit Envoy answers 413 for a request, 500 / reset for a response); 2 StopIterationAndWatermark
//   holds the chunk but the next callback sees only its own chunk (over the limit: flow control,
//   recorded as `watermarkPaused`); 3+ StopIterationNoBuffer drops the chunk.
// - A map is readable/writable only during its own callback (until continue if it stopped):
//   afterwards get/add/replace/remove/size are BadArgument; in on_log maps are readable (missing
//   ones NotFound), not writable; get_header_map_pairs never fails (empty when unavailable).
// - send_local_response runs after the callback returns; from a request callback (or from a root
//   context acting through set_effective_context) the reply goes through this plugin's own
//   response callbacks; from a response callback it replaces the response directly if nothing was
//   sent downstream yet, else the stream is reset. Later request data is discarded.
// - A VM trap fails the stream: fail closed (default) sends 503 with details wasm_fail_stream and
//   skips the plugin's remaining callbacks; failOpen lets traffic through untouched.
// - Teardown: on_log, on_done, on_delete (skipped on a failed VM).
import {
  BufferType,
  FilterDataStatus,
  FilterHeadersStatus,
  FilterTrailersStatus,
  MapType,
  StreamType,
  WasmResult,
  type WasmResultCode,
} from './abi-types.js';
import { ABSENT_BUFFER, ByteBuffer } from './buffers.js';
import { EMPTY_BYTES, concatBytes, encodeUtf8, toBytes, utf8, type BytesInput } from './bytes.js';
import type { HostBuffer, HostContext, LocalReplyRequest } from './context.js';
import { EmulatorError } from './errors.js';
import { HeaderMap } from './header-map.js';
import type { HeaderPair } from './pairs.js';
import { mergeValues, type PropertyValue } from './properties.js';
import { callResponseMap, commonBuffer, pluginProperty, resolvePath, type PluginIdentity } from './root-context.js';
import type { WasmVm } from './vm.js';

/** What one side (upstream server or downstream client) has received. */
export interface ReceivedMessage {
  /** Headers as forwarded, or null when none arrived. */
  readonly headers: readonly HeaderPair[] | null;
  /** All body bytes forwarded so far, in order. */
  readonly body: Uint8Array;
  /** Body as UTF-8 text. */
  readonly bodyText: string;
  /** Each forwarded data frame (to check streaming granularity). */
  readonly chunks: readonly Uint8Array[];
  readonly trailers: readonly HeaderPair[] | null;
  /** The message ended (end_stream seen by the receiver). */
  readonly endStream: boolean;
  /** The stream towards this side was reset. */
  readonly reset: boolean;
  /** First value of a header (lower-case name) or undefined. */
  header(name: string): string | undefined;
  /**
   * Whether a content-length header (if any) matches the body actually forwarded: Envoy does not
   * fix content-length when a filter changes the body. Undefined when there is no content-length
   * or the message has not ended.
   */
  readonly contentLengthMatches: boolean | undefined;
}

export interface LocalReply {
  readonly status: number;
  readonly body: Uint8Array;
  readonly bodyText: string;
  /** The reply's headers as Envoy built them (before the plugin's response callbacks ran). */
  readonly headers: readonly HeaderPair[];
  /** Response code details (whitespace replaced by '_', like Envoy). */
  readonly details: string;
  readonly grpcStatus: number | undefined;
  /** `filter-chain`: through this plugin's response callbacks; `direct`: straight to the client. */
  readonly path: 'filter-chain' | 'direct' | 'reset';
  /** Who asked: the plugin (send_local_response) or Envoy (buffer limit, VM failure). */
  readonly origin: 'plugin' | 'envoy';
}

export type StreamState = 'open' | 'completed' | 'stalled' | 'reset';

export interface StreamOptions {
  /**
   * Properties for this stream (merged over the host-wide ones): dotted keys such as
   * 'connection.uri_san_peer_certificate' or nested objects; see PropertyInput.
   */
  readonly properties?: Readonly<Record<string, import('./properties.js').PropertyInput>>;
  /** request.protocol; default 'HTTP/1.1'. */
  readonly protocol?: string;
}

class Sink {
  headers: HeaderPair[] | null = null;
  chunks: Uint8Array[] = [];
  trailers: HeaderPair[] | null = null;
  endStream = false;
  reset = false;

  /** A read-only view; body and bodyText are computed when first read. */
  snapshot(): ReceivedMessage {
    const headers = this.headers;
    const chunks = [...this.chunks];
    const endStream = this.endStream;
    let body: Uint8Array | undefined;
    let text: string | undefined;
    return {
      headers,
      get body() {
        body ??= concatBytes(chunks);
        return body;
      },
      get bodyText() {
        text ??= utf8(this.body);
        return text;
      },
      chunks,
      trailers: this.trailers,
      endStream: this.endStream,
      reset: this.reset,
      header: (name: string) => headers?.find(([k]) => k === name.toLowerCase())?.[1],
      get contentLengthMatches() {
        const declared = headers?.find(([k]) => k === 'content-length')?.[1];
        if (declared === undefined || !endStream) return undefined;
        return Number(declared) === this.body.length;
      },
    };
  }
}

type Dir = 'request' | 'response';

class Direction {
  /** The header map object (what the plugin sees and modifies). */
  headers: HeaderMap | null = null;
  headersAvailable = false;
  trailers: HeaderMap | null = null;
  trailersAvailable = false;
  /** Envoy's request_body_buffer_ while a body callback runs. */
  bodyBuffer: HostBuffer | null = null;
  /** Data the filter manager holds for this filter, not yet forwarded. */
  readonly held = new ByteBuffer();
  buffering = false;
  stoppedAll: 'watermark' | 'buffer' | null = null;
  stoppedHeaders = false;
  stoppedBody = false;
  stoppedTrailers = false;
  headersReceived = false;
  endStreamReceived = false;
  headersForwarded = false;
  endStreamForwarded = false;
  /** Trailers received but not forwarded (held by a stop). */
  pendingTrailers: HeaderMap | null = null;
  /** The filter chain for this direction was aborted by a local reply or reset. */
  aborted = false;
  /** Bytes received from the peer (request.size / response.size). */
  bytesReceived = 0;
  /** A watermark buffer went over the limit (Envoy would pause the sender). */
  watermarkPaused = false;
  /** Which callback of this direction is running. */
  inCallback: 'headers' | 'body' | 'trailers' | null = null;
  /** Trailers created in the last body callback (Envoy addDecodedTrailers / addEncodedTrailers). */
  addedTrailers: HeaderMap | null = null;

  constructor(readonly dir: Dir) {}
}

/** Behaviour switches of the plugin (Envoy's PluginConfig / VmConfig fields). */
export interface StreamPolicy {
  readonly allowOnHeadersStopIteration: boolean;
  readonly failOpen: boolean;
  readonly bufferLimitBytes: number;
  /** HttpConnectionManager generate_request_id (default true): add x-request-id when absent. */
  readonly generateRequestId: boolean;
}

let nextConnectionId = 1;

export class HttpStream implements HostContext {
  readonly kind = 'http' as const;
  readonly request = new Direction('request');
  readonly response = new Direction('response');
  private readonly upstreamSink = new Sink();
  private readonly downstreamSink = new Sink();
  private readonly filterStateMap = new Map<string, Uint8Array>();
  private localReplyValue: LocalReply | undefined;
  private failureLocalReplySent = false;
  private streamFailed = false;
  private streamReset = false;
  private resetDetails: string | undefined;
  private completedFlag = false;
  accessLogPhase = false;
  private readonly startNanos: bigint;
  private endNanos: bigint | undefined;
  private readonly connectionId = nextConnectionId++;
  private responseDetails: string | undefined;

  constructor(
    readonly vm: WasmVm,
    readonly id: number,
    readonly rootContextId: number,
    private readonly plugin: PluginIdentity,
    private readonly policy: StreamPolicy,
    private readonly properties: ReadonlyMap<string, PropertyValue>,
    private readonly protocol: string,
    private readonly onComplete: () => void = () => {},
  ) {
    this.startNanos = vm.env.nowNanos();
  }

  // ----------------------------------------------------------------------------------------------
  // Public view

  get upstream(): ReceivedMessage {
    return this.upstreamSink.snapshot();
  }

  get downstream(): ReceivedMessage {
    return this.downstreamSink.snapshot();
  }

  get localReply(): LocalReply | undefined {
    return this.localReplyValue;
  }

  /** Values stored with set_property, by path (Envoy keeps them as filter state "wasm.<path>"). */
  get filterState(): ReadonlyMap<string, Uint8Array> {
    return this.filterStateMap;
  }

  get watermarkPaused(): { request: boolean; response: boolean } {
    return { request: this.request.watermarkPaused, response: this.response.watermarkPaused };
  }

  /** The request reached the client completely but not upstream (or the response likewise). */
  get stalled(): boolean {
    if (this.streamReset) return false;
    const req = this.request;
    const requestStalled = req.endStreamReceived && !req.aborted && !req.endStreamForwarded;
    const res = this.response;
    const responseStalled = res.endStreamReceived && !res.aborted && !res.endStreamForwarded;
    return requestStalled || responseStalled;
  }

  get state(): StreamState {
    if (this.streamReset) return 'reset';
    if (this.downstreamSink.endStream && (this.upstreamSink.endStream || this.request.aborted)) return 'completed';
    if (this.stalled) return 'stalled';
    return 'open';
  }

  get resetReason(): string | undefined {
    return this.resetDetails;
  }

  // ----------------------------------------------------------------------------------------------
  // Driving the stream (what the client and the upstream server do)

  /** Request headers from the client. Returns the status Envoy's filter manager acted on. */
  requestHeaders(pairs: readonly HeaderPair[], endOfStream: boolean): number {
    this.expect(!this.request.headersReceived, 'request headers were already sent');
    this.expect(!this.completedFlag, 'the stream is complete');
    // The connection manager runs before any HTTP filter: it adds x-request-id when missing.
    const hasId = pairs.some(([k]) => k.toLowerCase() === 'x-request-id');
    const headers = this.policy.generateRequestId && !hasId ? [...pairs, ['x-request-id', crypto.randomUUID()] as const] : pairs;
    return this.onHeaders(this.request, headers, endOfStream);
  }

  requestBody(chunk: BytesInput, endOfStream: boolean): number | undefined {
    this.checkDataOrder(this.request, 'request');
    return this.onData(this.request, toBytes(chunk), endOfStream);
  }

  requestTrailers(pairs: readonly HeaderPair[]): number | undefined {
    this.checkDataOrder(this.request, 'request');
    return this.onTrailers(this.request, pairs);
  }

  /** Response headers from the upstream server (needs the request headers to have reached it). */
  responseHeaders(pairs: readonly HeaderPair[], endOfStream: boolean): number | undefined {
    this.expect(!this.completedFlag, 'the stream is complete');
    this.expect(!this.streamReset, 'the stream was reset');
    this.expect(this.upstreamSink.headers !== null, 'upstream never received the request headers, so it cannot respond');
    this.expect(!this.upstreamSink.reset, 'the upstream request was reset (local reply or close); it cannot respond');
    this.expect(!this.response.headersReceived, 'response headers were already sent');
    return this.onHeaders(this.response, pairs, endOfStream);
  }

  responseBody(chunk: BytesInput, endOfStream: boolean): number | undefined {
    this.checkDataOrder(this.response, 'response');
    return this.onData(this.response, toBytes(chunk), endOfStream);
  }

  responseTrailers(pairs: readonly HeaderPair[]): number | undefined {
    this.checkDataOrder(this.response, 'response');
    return this.onTrailers(this.response, pairs);
  }

  /**
   * Ends the stream: on_log (access-log phase), then on_done and on_delete, as Envoy does when
   * the stream is destroyed. A stream that is still open is destroyed as it is (a client that gave
   * up); check `state`/`stalled` before calling this to assert on hangs.
   */
  complete(): void {
    if (this.completedFlag) return;
    this.completedFlag = true;
    this.endNanos = this.vm.env.nowNanos();
    this.accessLogPhase = true;
    this.request.headersAvailable = false;
    this.request.trailersAvailable = false;
    this.response.headersAvailable = false;
    this.response.trailersAvailable = false;
    if (!this.vm.failed) this.vm.invoke('proxy_on_log', this, [this.id]);
    this.accessLogPhase = false;
    if (!this.vm.failed) this.vm.invoke('proxy_on_done', this, [this.id]);
    if (!this.vm.failed) this.vm.invoke('proxy_on_delete', this, [this.id]);
    this.vm.unregisterContext(this.id);
    this.onComplete();
  }

  /** The client resets the stream (e.g. it gave up); then complete() runs teardown. */
  resetByClient(): void {
    this.markReset('downstream_remote_reset');
  }

  get isComplete(): boolean {
    return this.completedFlag;
  }

  // ----------------------------------------------------------------------------------------------
  // Filter manager

  private expect(condition: boolean, message: string): void {
    if (!condition) throw new EmulatorError('INVALID_USAGE', `stream ${this.id}: ${message}`);
  }

  private checkDataOrder(d: Direction, name: string): void {
    this.expect(!this.completedFlag, 'the stream is complete');
    this.expect(d.headersReceived, `${name} body/trailers before ${name} headers`);
    this.expect(!d.endStreamReceived, `${name} already ended (end_of_stream was sent)`);
  }

  private sink(d: Direction): Sink {
    return d.dir === 'request' ? this.upstreamSink : this.downstreamSink;
  }

  private callbackName(d: Direction, kind: 'headers' | 'body' | 'trailers'): string {
    return `proxy_on_${d.dir}_${kind}`;
  }

  /** CHECK_FAIL_HTTP: the VM is failed -> fail open or fail the stream. Returns true when failed. */
  private checkFail(): boolean {
    if (!this.vm.failed) return false;
    if (this.policy.failOpen) return true;
    if (!this.streamFailed) {
      this.streamFailed = true;
      this.failStream();
    }
    return true;
  }

  private failStream(): void {
    if (this.failureLocalReplySent) return;
    this.failureLocalReplySent = true;
    this.envoyLocalReply(503, '', 'wasm_fail_stream', 14);
  }

  private onHeaders(d: Direction, pairs: readonly HeaderPair[], endOfStream: boolean): number {
    d.headersReceived = true;
    d.endStreamReceived = endOfStream;
    d.headers = new HeaderMap(pairs);
    if (d.aborted) return FilterHeadersStatus.StopAllIterationAndWatermark;
    let status: number;
    if (d.dir === 'response' && this.failureLocalReplySent) {
      status = FilterHeadersStatus.Continue;
    } else if (this.checkFail()) {
      status = this.policy.failOpen ? FilterHeadersStatus.Continue : FilterHeadersStatus.StopAllIterationAndWatermark;
    } else {
      d.headersAvailable = true;
      d.inCallback = 'headers';
      const r = this.vm.invoke(this.callbackName(d, 'headers'), this, [this.id, d.headers.size, endOfStream ? 1 : 0]);
      d.inCallback = null;
      if (r.failed) {
        status = this.checkFail() && this.policy.failOpen ? FilterHeadersStatus.Continue : FilterHeadersStatus.StopAllIterationAndWatermark;
      } else {
        status = this.convertHeaders(r.value, r.stopIteration);
      }
      if (status === FilterHeadersStatus.Continue) d.headersAvailable = false;
    }
    if (d.aborted) return status;
    switch (status) {
      case FilterHeadersStatus.Continue:
        this.forwardHeaders(d);
        break;
      case FilterHeadersStatus.StopIteration:
        d.stoppedHeaders = true;
        break;
      case FilterHeadersStatus.StopAllIterationAndBuffer:
        d.stoppedAll = 'buffer';
        break;
      default:
        d.stoppedAll = 'watermark';
    }
    return status;
  }

  private convertHeaders(value: number | undefined, stopIteration: boolean): number {
    if (value === undefined) return FilterHeadersStatus.Continue;
    if (stopIteration || value > FilterHeadersStatus.StopAllIterationAndWatermark) return FilterHeadersStatus.StopAllIterationAndWatermark;
    if (value === FilterHeadersStatus.StopIteration && !this.policy.allowOnHeadersStopIteration) {
      return FilterHeadersStatus.StopAllIterationAndWatermark;
    }
    // Envoy's convertFilterHeadersStatus maps ContinueAndEndStream (2) to Continue.
    if (value === FilterHeadersStatus.ContinueAndEndStream) return FilterHeadersStatus.Continue;
    return value;
  }

  private convertData(value: number | undefined, stopIteration: boolean): number {
    if (value === undefined) return FilterDataStatus.Continue;
    if (stopIteration || value > FilterDataStatus.StopIterationNoBuffer) return FilterDataStatus.StopIterationNoBuffer;
    return value;
  }

  private convertTrailers(value: number | undefined, stopIteration: boolean): number {
    if (value === undefined) return FilterTrailersStatus.Continue;
    if (stopIteration || value > FilterTrailersStatus.StopIteration) return FilterTrailersStatus.StopIteration;
    return value;
  }

  private onData(d: Direction, chunk: Uint8Array, endOfStream: boolean): number | undefined {
    d.endStreamReceived = endOfStream;
    d.bytesReceived += chunk.length;
    if (d.aborted) return undefined;
    if (d.stoppedAll) {
      d.held.append(chunk);
      this.checkLimit(d, d.stoppedAll === 'buffer');
      return undefined;
    }
    if (d.stoppedHeaders && d.dir === 'response' && this.failureLocalReplySent) return undefined;
    return this.runBodyCallback(d, chunk, endOfStream);
  }

  /** decodeData/encodeData for this filter with `chunk` (also used on continue after StopAll). */
  private runBodyCallback(d: Direction, chunk: Uint8Array, endOfStream: boolean): number | undefined {
    if (d.dir === 'response' && this.failureLocalReplySent) {
      d.held.append(chunk);
      this.forwardAll(d);
      return FilterDataStatus.Continue;
    }
    if (this.checkFail()) {
      if (this.policy.failOpen) {
        d.held.append(chunk);
        this.forwardAll(d);
        return FilterDataStatus.Continue;
      }
      return FilterDataStatus.StopIterationNoBuffer;
    }
    const wasBuffering = d.buffering;
    let current: ByteBuffer;
    if (wasBuffering) {
      d.held.append(chunk);
      if (this.checkLimit(d, true)) return undefined;
      current = d.held;
    } else {
      current = new ByteBuffer(chunk);
    }
    d.bodyBuffer = current;
    d.inCallback = 'body';
    const r = this.vm.invoke(this.callbackName(d, 'body'), this, [this.id, current.size(), endOfStream ? 1 : 0]);
    d.inCallback = null;
    d.bodyBuffer = null;
    d.buffering = false;
    if (r.failed) {
      if (this.checkFail() && this.policy.failOpen) {
        if (!wasBuffering) d.held.append(current.contents());
        this.forwardAll(d);
        return FilterDataStatus.Continue;
      }
      return FilterDataStatus.StopIterationNoBuffer;
    }
    const status = this.convertData(r.value, r.stopIteration);
    if (d.aborted) return status;
    switch (status) {
      case FilterDataStatus.Continue:
        if (!wasBuffering) d.held.append(current.contents());
        d.stoppedBody = false;
        this.forwardAll(d);
        break;
      case FilterDataStatus.StopIterationAndBuffer:
        if (!wasBuffering) {
          d.held.append(current.contents());
          if (this.checkLimit(d, true)) return status;
        }
        d.buffering = true;
        d.stoppedBody = true;
        break;
      case FilterDataStatus.StopIterationAndWatermark:
        if (!wasBuffering) d.held.append(current.contents());
        this.checkLimit(d, false);
        d.stoppedBody = true;
        break;
      default:
        // StopIterationNoBuffer: the chunk is not kept (already-buffered data stays held).
        d.stoppedBody = true;
    }
    // Trailers added by the plugin in the last body callback go out after the data.
    if (d.addedTrailers && d.pendingTrailers === null) {
      d.pendingTrailers = d.addedTrailers;
      d.addedTrailers = null;
      if (status === FilterDataStatus.Continue) this.forwardAll(d);
    }
    return status;
  }

  private onTrailers(d: Direction, pairs: readonly HeaderPair[]): number | undefined {
    d.endStreamReceived = true;
    const trailers = new HeaderMap(pairs);
    d.trailers = trailers;
    if (d.aborted) return undefined;
    if (d.stoppedAll) {
      d.pendingTrailers = trailers;
      return undefined;
    }
    return this.runTrailersCallback(d, trailers);
  }

  private runTrailersCallback(d: Direction, trailers: HeaderMap): number | undefined {
    d.pendingTrailers = trailers;
    if (d.dir === 'response' && this.failureLocalReplySent) {
      this.forwardAll(d);
      return FilterTrailersStatus.Continue;
    }
    if (this.checkFail()) {
      if (this.policy.failOpen) this.forwardAll(d);
      return this.policy.failOpen ? FilterTrailersStatus.Continue : FilterTrailersStatus.StopIteration;
    }
    d.trailersAvailable = true;
    d.inCallback = 'trailers';
    const r = this.vm.invoke(this.callbackName(d, 'trailers'), this, [this.id, trailers.size]);
    d.inCallback = null;
    if (r.failed) {
      if (this.checkFail() && this.policy.failOpen) {
        this.forwardAll(d);
        return FilterTrailersStatus.Continue;
      }
      return FilterTrailersStatus.StopIteration;
    }
    const status = this.convertTrailers(r.value, r.stopIteration);
    if (status === FilterTrailersStatus.Continue) d.trailersAvailable = false;
    if (d.aborted) return status;
    if (status === FilterTrailersStatus.Continue) {
      d.stoppedTrailers = false;
      this.forwardAll(d);
    } else {
      d.stoppedTrailers = true;
    }
    return status;
  }

  /** Forwards headers (if not yet), held data and pending trailers, unless something still stops. */
  private forwardAll(d: Direction): void {
    if (d.aborted) return;
    if (!d.headersForwarded) {
      if (d.stoppedAll) return;
      this.forwardHeaders(d);
      if (d.endStreamForwarded) return;
    }
    const sink = this.sink(d);
    const data = d.held.take();
    const trailers = d.pendingTrailers;
    const endWithData = d.endStreamReceived && trailers === null;
    if (data.length > 0 || (endWithData && !d.endStreamForwarded)) {
      sink.chunks.push(data);
      if (endWithData) {
        sink.endStream = true;
        d.endStreamForwarded = true;
      }
    }
    if (trailers !== null && d.endStreamReceived && !d.stoppedTrailers) {
      sink.trailers = trailers.pairs();
      sink.endStream = true;
      d.endStreamForwarded = true;
      d.pendingTrailers = null;
    }
  }

  private forwardHeaders(d: Direction): void {
    if (d.headersForwarded || d.aborted) return;
    d.headersForwarded = true;
    d.stoppedHeaders = false;
    const sink = this.sink(d);
    sink.headers = d.headers ? d.headers.pairs() : [];
    const headersOnly = d.endStreamReceived && d.held.size() === 0 && d.pendingTrailers === null && d.bytesReceived === 0;
    if (headersOnly) {
      sink.endStream = true;
      d.endStreamForwarded = true;
    }
  }

  /** The held buffer went over the limit. Returns true when Envoy answered with an error. */
  private checkLimit(d: Direction, buffering: boolean): boolean {
    if (d.held.size() <= this.policy.bufferLimitBytes) return false;
    if (!buffering) {
      d.watermarkPaused = true;
      return false;
    }
    if (d.dir === 'request') {
      this.envoyLocalReply(413, 'Payload Too Large', 'request_payload_too_large', undefined, 'request');
    } else {
      this.envoyLocalReply(500, 'Internal Server Error', 'response_payload_too_large', undefined, 'response');
    }
    return true;
  }

  // ----------------------------------------------------------------------------------------------
  // Local replies, continue, close

  private phase(): Dir | null {
    if (this.request.inCallback) return 'request';
    if (this.response.inCallback) return 'response';
    return null;
  }

  private envoyLocalReply(status: number, body: string, details: string, grpcStatus: number | undefined, phase: Dir | null = this.phase()): void {
    this.sendLocalReplyNow({ status, details, body: encodeUtf8(body), headers: [], grpcStatus: grpcStatus ?? -1 }, phase, 'envoy');
  }

  private isGrpcRequest(): boolean {
    return (this.request.headers?.get('content-type') ?? '').startsWith('application/grpc');
  }

  /** FilterManager::sendLocalReply. */
  private sendLocalReplyNow(reply: LocalReplyRequest, phase: Dir | null, origin: 'plugin' | 'envoy'): void {
    if (this.streamReset || this.completedFlag) return;
    if (phase === 'request') this.abortRequest();
    else if (phase === 'response') this.response.aborted = true;
    const details = reply.details.replace(/\s/g, '_');
    this.responseDetails = details;
    const headers = this.buildLocalReplyHeaders(reply);
    const body = this.isGrpcRequest() ? EMPTY_BYTES : reply.body;
    const base = {
      status: reply.status,
      body,
      bodyText: utf8(body),
      headers: headers.pairs(),
      details,
      grpcStatus: reply.grpcStatus >= 0 && reply.grpcStatus <= 16 ? reply.grpcStatus : undefined,
      origin,
    } as const;
    if (!this.response.headersReceived) {
      this.localReplyValue ??= { ...base, path: 'filter-chain' };
      // Through the encoder chain, this plugin's response callbacks included.
      this.abortRequest();
      const pairs = headers.pairs();
      this.onHeaders(this.response, pairs, body.length === 0);
      if (body.length > 0 && !this.response.aborted) this.onData(this.response, body, true);
      else if (body.length > 0) this.response.endStreamReceived = true;
      return;
    }
    if (this.downstreamSink.headers === null) {
      this.localReplyValue ??= { ...base, path: 'direct' };
      this.response.aborted = true;
      this.abortRequest();
      this.downstreamSink.headers = headers.pairs();
      this.downstreamSink.chunks = body.length > 0 ? [body] : [];
      this.downstreamSink.trailers = null;
      this.downstreamSink.endStream = true;
      this.response.endStreamForwarded = true;
      return;
    }
    this.localReplyValue ??= { ...base, path: 'reset' };
    this.markReset(details);
  }

  private buildLocalReplyHeaders(reply: LocalReplyRequest): HeaderMap {
    const headers = new HeaderMap([[':status', String(reply.status)]]);
    for (const [k, v] of reply.headers) headers.add(k, v);
    if (this.isGrpcRequest()) {
      headers.set(':status', '200');
      headers.set('content-type', 'application/grpc');
      const grpc = reply.grpcStatus >= 0 && reply.grpcStatus <= 16 ? reply.grpcStatus : httpToGrpcStatus(reply.status);
      headers.set('grpc-status', String(grpc));
      if (reply.body.length > 0) headers.set('grpc-message', encodeURIComponent(utf8(reply.body)));
      headers.remove('content-length');
      return headers;
    }
    if (reply.body.length > 0) {
      headers.set('content-length', String(reply.body.length));
      if (!headers.has('content-type')) headers.set('content-type', 'text/plain');
    } else {
      headers.remove('content-length');
      headers.remove('content-type');
    }
    return headers;
  }

  /** The decoder chain stops; an upstream request in flight is reset. */
  private abortRequest(): void {
    const req = this.request;
    if (req.aborted) return;
    req.aborted = true;
    req.headersAvailable = false;
    if (this.upstreamSink.headers !== null && !this.upstreamSink.endStream) this.upstreamSink.reset = true;
    if (this.upstreamSink.headers !== null && !this.response.headersReceived) this.upstreamSink.reset = true;
  }

  private markReset(details: string): void {
    if (this.streamReset) return;
    this.streamReset = true;
    this.resetDetails = details;
    this.request.aborted = true;
    this.response.aborted = true;
    if (this.upstreamSink.headers !== null && !(this.upstreamSink.endStream && this.response.endStreamReceived)) this.upstreamSink.reset = true;
    this.downstreamSink.reset = true;
  }

  sendLocalResponse(reply: LocalReplyRequest): WasmResultCode {
    const phase = this.phase();
    this.vm.deferAfterCall(() => this.sendLocalReplyNow(reply, phase, 'plugin'));
    return WasmResult.Ok;
  }

  continueStream(type: number): WasmResultCode {
    switch (type) {
      case StreamType.HttpRequest:
        this.vm.deferAfterCall(() => this.continueDirection(this.request));
        break;
      case StreamType.HttpResponse:
        this.vm.deferAfterCall(() => this.continueDirection(this.response));
        break;
      case StreamType.Downstream:
        return WasmResult.Ok;
      case StreamType.Upstream:
        return WasmResult.Unimplemented;
      default:
        return WasmResult.BadArgument;
    }
    // Context::continueStream clears the request-side pointers for both HTTP stream types.
    this.request.headersAvailable = false;
    this.request.bodyBuffer = null;
    this.request.trailersAvailable = false;
    return WasmResult.Ok;
  }

  /** continueDecoding / continueEncoding. */
  private continueDirection(d: Direction): void {
    if (d.aborted || this.streamReset || this.completedFlag) return;
    if (d.stoppedAll) {
      d.stoppedAll = null;
      d.headersAvailable = false;
      this.forwardHeaders(d);
      const held = d.held.take();
      const trailers = d.pendingTrailers;
      d.pendingTrailers = null;
      if (held.length > 0 || (d.endStreamReceived && trailers === null && !d.endStreamForwarded)) {
        // The filter's own body callback runs now with everything held.
        this.runBodyCallback(d, held, d.endStreamReceived && trailers === null);
      }
      if (trailers !== null && !d.aborted) this.runTrailersCallback(d, trailers);
      return;
    }
    if (d.stoppedHeaders || d.stoppedBody || d.stoppedTrailers) {
      d.stoppedHeaders = false;
      d.stoppedBody = false;
      d.stoppedTrailers = false;
      d.buffering = false;
      this.forwardHeaders(d);
      this.forwardAll(d);
    }
  }

  closeStream(type: number): WasmResultCode {
    if (type === StreamType.HttpRequest || type === StreamType.HttpResponse) {
      this.responseDetails ??= 'wasm_close_stream';
      this.vm.deferAfterCall(() => this.markReset('wasm_close_stream'));
      return WasmResult.Ok;
    }
    if (type === StreamType.Downstream || type === StreamType.Upstream) return WasmResult.Ok;
    return WasmResult.BadArgument;
  }

  // ----------------------------------------------------------------------------------------------
  // Maps, buffers, properties

  private directionOfMap(type: number): { d: Direction; trailers: boolean } | null {
    switch (type) {
      case MapType.HttpRequestHeaders:
        return { d: this.request, trailers: false };
      case MapType.HttpRequestTrailers:
        return { d: this.request, trailers: true };
      case MapType.HttpResponseHeaders:
        return { d: this.response, trailers: false };
      case MapType.HttpResponseTrailers:
        return { d: this.response, trailers: true };
      default:
        return null;
    }
  }

  mutableMap(type: number): HeaderMap | null {
    const where = this.directionOfMap(type);
    if (!where) return null;
    const { d, trailers } = where;
    if (!trailers) return d.headersAvailable ? d.headers : null;
    if (d.trailersAvailable) return d.trailers;
    // Envoy lets the last body callback add trailers (addDecodedTrailers / addEncodedTrailers).
    if (d.inCallback === 'body' && d.endStreamReceived && d.trailers === null) {
      d.addedTrailers ??= new HeaderMap();
      return d.addedTrailers;
    }
    return null;
  }

  constMap(type: number): HeaderMap | null {
    const call = callResponseMap(this.vm, type);
    if (call) return call;
    const where = this.directionOfMap(type);
    if (!where) return null;
    const { d, trailers } = where;
    if (this.accessLogPhase) {
      if (d.dir === 'request') return trailers ? null : d.headers;
      return trailers ? d.trailers : d.headers;
    }
    if (!trailers) return d.headersAvailable ? d.headers : null;
    return d.trailersAvailable ? d.trailers : d.inCallback === 'body' ? d.addedTrailers : null;
  }

  buffer(type: number): HostBuffer | null {
    const common = commonBuffer(this.vm, type, null);
    if (common !== undefined) return common;
    // Outside a body callback Envoy still exposes the buffered body while the filter is buffering
    // (StopIterationAndBuffer): e.g. from onTick / an HTTP call response via set_effective_context.
    if (type === BufferType.HttpRequestBody) return this.request.bodyBuffer ?? (this.request.buffering ? this.request.held : ABSENT_BUFFER);
    if (type === BufferType.HttpResponseBody) return this.response.bodyBuffer ?? (this.response.buffering ? this.response.held : ABSENT_BUFFER);
    return null;
  }

  setProperty(path: string, value: Uint8Array): WasmResultCode {
    if (this.completedFlag && !this.accessLogPhase) return WasmResult.NotFound;
    this.filterStateMap.set(path, value.slice());
    return WasmResult.Ok;
  }

  getProperty(segments: readonly string[]): { status: WasmResultCode; value?: Uint8Array } {
    const [name, ...rest] = segments;
    if (name === undefined) return { status: WasmResult.SerializationFailure };
    const derived = this.derivedProperty(name);
    const configured = this.properties.get(name);
    let top: PropertyValue | undefined = derived;
    if (configured !== undefined) top = mergeValues(derived, configured);
    if (top === undefined) top = pluginProperty(this.plugin, name);
    if (top !== undefined) return resolvePath(top, rest);
    const state = this.filterStateMap.get(name);
    if (state === undefined) return { status: WasmResult.NotFound };
    return resolvePath({ kind: 'bytes', value: state }, rest);
  }

  private headersReadable(d: Direction): HeaderMap | null {
    if (this.accessLogPhase) return d.headers;
    return d.headersAvailable ? d.headers : null;
  }

  private derivedProperty(name: string): PropertyValue | undefined {
    const str = (value: string | undefined): PropertyValue | undefined => (value === undefined ? undefined : { kind: 'string', value });
    const map = (entries: [string, PropertyValue | undefined][]): PropertyValue => ({
      kind: 'map',
      entries: entries.filter((e): e is [string, PropertyValue] => e[1] !== undefined),
    });
    const headerMap = (h: HeaderMap | null): PropertyValue => {
      if (!h) return { kind: 'map', entries: [] };
      const keys = [...new Set(h.pairs().map(([k]) => k))];
      return { kind: 'map', entries: keys.map((k) => [k, { kind: 'string', value: h.getAll(k).join(',') }] as const) };
    };
    switch (name) {
      case 'request': {
        const h = this.headersReadable(this.request);
        const path = h?.get(':path');
        const contentLength = h?.get('content-length');
        const size = contentLength !== undefined && /^\d+$/.test(contentLength) ? BigInt(contentLength) : BigInt(this.request.bytesReceived);
        return map([
          ['path', str(path)],
          ['url_path', str(path === undefined ? undefined : path.split('?')[0])],
          ['host', str(h?.get(':authority'))],
          ['scheme', str(h?.get(':scheme'))],
          ['method', str(h?.get(':method'))],
          ['referer', str(h?.get('referer'))],
          ['useragent', str(h?.get('user-agent'))],
          ['id', str(h?.get('x-request-id'))],
          ['query', str(path !== undefined && path.includes('?') ? path.slice(path.indexOf('?') + 1) : undefined)],
          ['headers', headerMap(h)],
          ['time', { kind: 'timestamp', nanos: this.startNanos }],
          ['protocol', { kind: 'string', value: this.protocol }],
          ['size', { kind: 'int64', value: size }],
          ['total_size', { kind: 'int64', value: BigInt(this.request.bytesReceived + (h ? h.byteSize() : 0)) }],
          ['duration', this.endNanos !== undefined ? { kind: 'duration', nanos: this.endNanos - this.startNanos } : undefined],
        ]);
      }
      case 'response': {
        const h = this.headersReadable(this.response);
        const sent = this.downstreamSink.headers;
        const status = sent?.find(([k]) => k === ':status')?.[1];
        return map([
          ['code', status !== undefined ? { kind: 'int64', value: BigInt(status) } : undefined],
          ['code_details', str(this.responseDetails ?? (sent ? 'via_upstream' : undefined))],
          ['headers', headerMap(h)],
          ['trailers', headerMap(this.accessLogPhase || this.response.trailersAvailable ? this.response.trailers : null)],
          ['size', { kind: 'int64', value: BigInt(this.response.bytesReceived) }],
          ['total_size', { kind: 'int64', value: BigInt(this.response.bytesReceived + (h ? h.byteSize() : 0)) }],
        ]);
      }
      case 'connection':
        return map([
          ['id', { kind: 'uint64', value: BigInt(this.connectionId) }],
          ['mtls', { kind: 'bool', value: false }],
        ]);
      case 'connection_id':
        return { kind: 'uint64', value: BigInt(this.connectionId) };
      case 'source':
        return map([
          ['address', { kind: 'string', value: '10.0.0.2:40000' }],
          ['port', { kind: 'int64', value: 40000n }],
        ]);
      case 'destination':
        return map([
          ['address', { kind: 'string', value: '10.0.0.1:8080' }],
          ['port', { kind: 'int64', value: 8080n }],
        ]);
      default:
        return undefined;
    }
  }
}

/** Envoy's Grpc::Utility::httpToGrpcStatus. */
export function httpToGrpcStatus(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return 13;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;
    default:
      return 2;
  }
}
