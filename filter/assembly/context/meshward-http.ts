/**
 * The meshward HTTP context: per-stream state and the Envoy-facing flow.
 *
 * Request: the headers callback captures what later callbacks cannot read (path, request id,
 * route, the caller's SPIFFE ID, content-type/length), resolves the caller's policy, counts the
 * request rate, and removes `content-length` when the body may be redacted (Envoy does not fix it).
 * It always returns Continue (Stop there would hide the body from this filter). The body is
 * buffered (StopIterationAndBuffer) up to max_body_bytes, inspected at end of stream (or at the
 * trailers), then allowed, rewritten, or answered locally (403 block, 413 too large when
 * failure_mode is closed, 429 rate).
 *
 * Response: the same for whole bodies; `text/event-stream` is inspected chunk by chunk through a
 * {@link StreamInspector} that forwards all but the minimal held tail. After the response headers
 * went out a block cannot change the status: a whole body is replaced by the error JSON, a stream
 * is ended with an error event and `data: [DONE]`.
 *
 * Every inspected message yields: metrics, one audit log line (per `audit.log`), and the
 * `meshward.summary` filter state. Nothing here traps: host refusals follow failure_mode.
 *
 * Budgets and model access lists (`budgets`, `model_access`; docs/budgets.md) run through a
 * {@link BudgetGate}: the request body is read (buffered) whenever they apply, access and admission
 * are decided before DLP (a refused call is never scanned), a clamp is written after DLP into the
 * final body, streams are metered after DLP on exactly the bytes the client gets, and a call
 * waiting for a budget lease stays buffered until the root context resumes it.
 */
import { LogLevel, WasmResult } from "../abi/types";
import { HeaderPair } from "../abi/pairs";
import { Action, AuditLog, Direction, FailureMode, Mode, Shape, shapeName } from "../config/enums";
import {
  CONTENT_DETECTOR_COUNT, DETECTOR_COUNT, ID_OVERSIZED_REQUEST, ID_OVERSIZED_RESPONSE, ID_REQUEST_RATE,
} from "../config/detector-ids";
import { PluginConfig } from "../config/plugin-config";
import { getBuffer, getBufferSize, getBufferView, getResponseBodyView, replaceBuffer, replaceResponseBody, setBuffer, BufferType } from "../host/body";
import { ByteBuffer } from "../inspect/byte-buffer";
import { getRequestHeader, getResponseHeader, removeRequestHeader, removeHeader, MapType } from "../host/headers";
import { logEnabled, logInfo, logWarn } from "../host/log";
import { getPropertyString, setProperty } from "../host/properties";
import { getSharedData, setSharedData } from "../host/shared-data";
import { continueRequest, sendLocalResponse } from "../host/stream";
import { BudgetGate, GATE_PAUSED, GATE_REPLIED, LeaseWaiter } from "../budget/budget-gate";
import { CREATE_CAS } from "../budget/budget-ledger";
import { getCurrentTimeNanoseconds } from "../host/time";
import { detectShape, isEventStream } from "../inspect/shape";
import { MessageContext, auditLine, blockBody, blockMessage, summaryJson } from "../policy/audit";
import { BODY_MALFORMED_REJECT, BodyInspector } from "../policy/body-inspector";
import { Findings } from "../policy/findings";
import { EffectivePolicy } from "../policy/principal-policy";
import { RateStep, rateStep } from "../policy/rate-window";
import { STREAM_BLOCKED, StreamInspector } from "../policy/stream-inspector";
import { Verdict } from "../policy/verdict";
import { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus, HttpContext } from "./base";
import { MeshwardRoot, Snapshot } from "./meshward-root";

const MAX_MODEL_BYTES: i32 = 256;
const RATE_CAS_ATTEMPTS: i32 = 16;

/** State of one direction of the stream. */
class DirectionState {
  shape: Shape = Shape.None;
  /** Content detectors run on this direction's body. */
  inspect: bool = false;
  /** Body is being buffered (whole-body mode). */
  buffering: bool = false;
  /** The audit/metrics for this direction were emitted. */
  finished: bool = false;
  /** Later body chunks are dropped (after a block or a closed-mode failure mid-response). */
  dropping: bool = false;
  bytes: i32 = 0;
  contentLength: i64 = -1;
  verdict: Verdict = new Verdict();
  anomalies: Findings = new Findings();
  errors: Array<string> = [];
  stream: StreamInspector | null = null;
}

export class MeshwardHttpContext extends HttpContext {
  readonly meta: MessageContext = new MessageContext();
  readonly cfg: PluginConfig;
  policy: EffectivePolicy;
  readonly req: DirectionState = new DirectionState();
  readonly resp: DirectionState = new DirectionState();
  /** The request path with its query (for shape detection); meta.path has it stripped. */
  fullPath: string = "";
  /** This filter sent a local reply; its own response callbacks must let it through. */
  replied: bool = false;
  private rate: RateStep | null = null;
  /** Budgets / model access for this stream; null when the config has neither. */
  gate: BudgetGate | null = null;
  /** The request waits for a budget lease (body buffered at end of stream). */
  paused: bool = false;
  private gateRan: bool = false;

  constructor(contextId: u32, public owner: MeshwardRoot, public snap: Snapshot) {
    super(contextId, owner);
    this.cfg = snap.config;
    this.policy = snap.policies.global;
    const c = snap.config;
    if (c.budgets.enabled || c.access.enabled) {
      this.gate = new BudgetGate(c.budgets, c.access, c.failureMode == FailureMode.Open, c.maxBodyBytes);
    }
    this.req.verdict.reset(this.cfg.detectorCount);
    this.resp.verdict.reset(this.cfg.detectorCount);
  }

  // ---- request ---------------------------------------------------------------------------------

  override onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    const cfg = this.cfg;
    const meta = this.meta;
    const p = getRequestHeader(":path");
    this.fullPath = p == null ? "" : p;
    const q = this.fullPath.indexOf("?");
    meta.path = q >= 0 ? this.fullPath.substring(0, q) : this.fullPath;
    const rid = getRequestHeader("x-request-id");
    meta.requestId = rid == null ? "" : rid;
    const route = getPropertyString(["xds", "route_name"]);
    meta.route = route == null ? "" : route;
    const principal = getPropertyString(["connection", "uri_san_peer_certificate"]);
    meta.principal = principal == null ? "" : principal;
    this.policy = this.snap.policies.resolve(meta.principal);
    const policy = this.policy;
    const st = this.req;
    st.verdict.reset(cfg.detectorCount);
    st.contentLength = parseLength(getRequestHeader("content-length"));
    const ct = getRequestHeader("content-type");
    const gate = this.gate;
    if (gate != null) {
      const m = getRequestHeader(":method");
      gate.requestHeaders(meta.principal, meta.route, m == null ? "" : m, meta.path);
      if (gate.mayRewrite) removeRequestHeader("content-length");
    }

    // Anomalies known from the headers.
    if (policy.actionFor(cfg, ID_REQUEST_RATE, Direction.Request) != Action.Off) {
      const r = this.countRate(meta.principal);
      if (r > 0) st.anomalies.add(ID_REQUEST_RATE, -1, -1);
      else if (r < 0) {
        st.errors.push("rate_unavailable");
        this.owner.metrics.error(Direction.Request, "rate_unavailable");
        if (cfg.failureMode == FailureMode.Closed) st.anomalies.add(ID_REQUEST_RATE, -1, -1);
      }
    }
    if (policy.actionFor(cfg, ID_OVERSIZED_REQUEST, Direction.Request) != Action.Off &&
        st.contentLength > <i64>cfg.oversizedRequestBytes) {
      st.anomalies.add(ID_OVERSIZED_REQUEST, -1, -1);
    }
    if (st.anomalies.count > 0) {
      st.verdict.add(st.anomalies, 0, st.anomalies.count, cfg, policy, Direction.Request);
      st.anomalies.reset();
      if (st.verdict.outcome == Action.Block) {
        this.replyBlock(Direction.Request, st.verdict.blockDetector);
        this.finish(Direction.Request);
        return FilterHeadersStatus.StopIteration;
      }
    }

    st.shape = cfg.requestShape == Shape.Auto ? detectShape(this.fullPath, ct == null ? "" : ct) : cfg.requestShape;
    st.inspect = st.shape != Shape.None && this.contentDetectorsOn(Direction.Request);
    // Responses must arrive uncompressed to be inspected: ask the upstream for identity encoding
    // (put Envoy's compressor after this filter, i.e. earlier in the chain, to compress for clients).
    if (this.contentDetectorsOn(Direction.Response)) removeRequestHeader("accept-encoding");
    if (st.inspect && isEncoded(getRequestHeader("content-encoding"))) {
      // A compressed body cannot be read: failure_mode decides.
      st.inspect = false;
      st.errors.push("encoded_body");
      this.owner.metrics.error(Direction.Request, "encoded_body");
      if (cfg.failureMode == FailureMode.Closed) {
        this.replyError(415, "encoded_body", "meshward cannot inspect a content-encoded request body; failure_mode is closed.");
        this.finish(Direction.Request);
        return FilterHeadersStatus.StopIteration;
      }
    }
    if (endOfStream) {
      this.finish(Direction.Request);
      return FilterHeadersStatus.Continue;
    }
    if (st.inspect) {
      if (st.contentLength > <i64>cfg.maxBodyBytes) {
        if (this.tooLarge(Direction.Request)) return FilterHeadersStatus.StopIteration;
      } else {
        st.buffering = true;
        if (policy.mayRedact(cfg, Direction.Request)) removeRequestHeader("content-length");
      }
    }
    if (gate != null && gate.wantsBody && !st.buffering && !this.replied) {
      // Budgets and access lists read the body even when no detector does.
      if (st.contentLength > <i64>cfg.maxBodyBytes) {
        if (this.tooLarge(Direction.Request)) return FilterHeadersStatus.StopIteration;
      } else {
        st.buffering = true;
      }
    }
    return FilterHeadersStatus.Continue;
  }

  override onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    const st = this.req;
    if (this.replied || st.finished) return FilterDataStatus.Continue;
    const cfg = this.cfg;
    if (!st.buffering) {
      // Not inspecting content: only sizes matter (each callback sees its own chunk).
      st.bytes += <i32>bodySize;
      if (this.checkOversized(Direction.Request, st.bytes)) return FilterDataStatus.StopIterationNoBuffer;
      if (endOfStream) this.finish(Direction.Request);
      return FilterDataStatus.Continue;
    }
    st.bytes = <i32>bodySize; // buffered: the total so far
    if (<i32>bodySize > cfg.maxBodyBytes) {
      st.buffering = false;
      if (this.tooLarge(Direction.Request)) return FilterDataStatus.StopIterationNoBuffer;
      if (this.checkOversized(Direction.Request, st.bytes)) return FilterDataStatus.StopIterationNoBuffer;
      if (endOfStream) this.finish(Direction.Request);
      return FilterDataStatus.Continue;
    }
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;
    return this.endRequestBody(<i32>bodySize);
  }

  /**
   * The whole request body is buffered: model access and budget admission first, then DLP, then
   * the clamp on the final body. Returns StopIterationAndBuffer while waiting for a lease.
   */
  private endRequestBody(size: i32): FilterDataStatus {
    const gate = this.gate;
    if (gate != null && gate.wantsBody && !this.gateRan) {
      this.gateRan = true;
      const view = readBody(BufferType.HttpRequestBody, size, this.owner.rawBody);
      if (view != null) {
        const r = gate.requestBody(view, this.contextId, new ContextLeaseWaiter(this));
        if (r == GATE_REPLIED) {
          this.replied = true;
          this.req.buffering = false;
          this.finish(Direction.Request);
          return FilterDataStatus.StopIterationNoBuffer;
        }
        if (r == GATE_PAUSED) {
          this.paused = true;
          return FilterDataStatus.StopIterationAndBuffer;
        }
      } else {
        this.hostFailure(Direction.Request, "body_unavailable");
        return this.replied ? FilterDataStatus.StopIterationNoBuffer : FilterDataStatus.Continue;
      }
    }
    this.afterAdmission(size);
    return this.replied ? FilterDataStatus.StopIterationNoBuffer : FilterDataStatus.Continue;
  }

  /** DLP on the admitted body, then the clamp. */
  private afterAdmission(size: i32): void {
    const st = this.req;
    if (st.inspect) this.inspectRequestBody(size);
    else {
      st.buffering = false;
      this.finish(Direction.Request);
    }
    const gate = this.gate;
    if (gate == null) return;
    if (this.replied) {
      if (gate.plan != null) gate.plan!.refundUnused();
      return;
    }
    if (!gate.applyClamp()) {
      // The maximum could not be lowered: the call could overrun its budget.
      st.errors.push("clamp_failed");
      this.owner.metrics.error(Direction.Request, "clamp_failed");
      if (this.cfg.failureMode == FailureMode.Closed) {
        if (gate.plan != null) gate.plan!.refundUnused();
        this.replyError(503, "clamp_failed", "meshward could not lower the request's max tokens to the budget; failure_mode is closed.");
      }
    }
  }

  /** The root context resumed this stream after a budget lease call (effective context = this stream). */
  leaseResolved(): void {
    const gate = this.gate;
    if (gate == null || !this.paused) return;
    const r = gate.readmit();
    if (r == GATE_PAUSED) return;
    this.paused = false;
    if (r == GATE_REPLIED) {
      this.replied = true;
      this.req.buffering = false;
      this.finish(Direction.Request);
      return;
    }
    const size = getBufferSize(BufferType.HttpRequestBody);
    this.afterAdmission(size < 0 ? 0 : <i32>size);
    if (!this.replied) continueRequest();
  }

  override onRequestTrailers(numTrailers: u32): FilterTrailersStatus {
    // HTTP/2 and gRPC may end a request with trailers instead of end_of_stream on a data frame.
    const st = this.req;
    if (this.replied || st.finished) return FilterTrailersStatus.Continue;
    if (st.buffering) {
      const size = getBufferSize(BufferType.HttpRequestBody);
      if (size >= 0) {
        if (this.endRequestBody(<i32>size) == FilterDataStatus.StopIterationAndBuffer) return FilterTrailersStatus.StopIteration;
      } else this.hostFailure(Direction.Request, "body_unavailable");
    } else {
      this.finish(Direction.Request);
    }
    return FilterTrailersStatus.Continue;
  }

  private inspectRequestBody(size: i32): void {
    const st = this.req;
    st.buffering = false;
    if (this.checkOversized(Direction.Request, size)) return;
    this.owner.bodies.prepare(size);
    const view = readBody(BufferType.HttpRequestBody, size, this.owner.rawBody);
    if (view == null) {
      this.hostFailure(Direction.Request, "body_unavailable");
      return;
    }
    const snap = this.snap;
    const cfg = this.cfg;
    const bodies = this.owner.bodies;
    const rc = bodies.inspect(view.dataStart, view.length, st.shape, Direction.Request, cfg, this.policy,
      snap.scanner, snap.redactor, st.verdict);
    if (bodies.modelStart >= 0) {
      const n = min(bodies.modelEnd - bodies.modelStart, MAX_MODEL_BYTES);
      this.meta.model = String.UTF8.decodeUnsafe(view.dataStart + <usize>bodies.modelStart, <usize>n);
    }
    if (bodies.malformed) {
      st.errors.push("malformed_json");
      this.owner.metrics.error(Direction.Request, "malformed_json");
    }
    if (rc == BODY_MALFORMED_REJECT) {
      this.replyError(400, "malformed_json", "The request body is not valid JSON; meshward failure_mode is closed.");
      this.finish(Direction.Request);
      return;
    }
    this.owner.metrics.inspectedBytes(Direction.Request, size);
    if (st.verdict.outcome == Action.Block) {
      this.replyBlock(Direction.Request, st.verdict.blockDetector);
    } else if (bodies.rewritten) {
      if (!writeEdited(BufferType.HttpRequestBody, view, bodies)) this.hostFailure(Direction.Request, "body_rewrite_failed");
    }
    this.finish(Direction.Request);
  }

  // ---- response --------------------------------------------------------------------------------

  override onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    if (this.replied) return FilterHeadersStatus.Continue;
    const cfg = this.cfg;
    const policy = this.policy;
    const st = this.resp;
    st.verdict.reset(cfg.detectorCount);
    st.contentLength = parseLength(getResponseHeader("content-length"));
    const ctv = getResponseHeader("content-type");
    const ct = ctv == null ? "" : ctv;
    const gate = this.gate;
    if (gate != null) {
      const sv = getResponseHeader(":status");
      const status = sv == null ? 0 : parseLength(sv);
      if (gate.responseHeaders(<u32>(status < 0 ? 0 : status), isEventStream(ct), true)) {
        removeHeader(MapType.HttpResponseHeaders, "content-length");
      }
    }
    if (policy.actionFor(cfg, ID_OVERSIZED_RESPONSE, Direction.Response) != Action.Off &&
        st.contentLength > <i64>cfg.oversizedResponseBytes) {
      st.anomalies.add(ID_OVERSIZED_RESPONSE, -1, -1);
      st.verdict.add(st.anomalies, 0, st.anomalies.count, cfg, policy, Direction.Response);
      st.anomalies.reset();
      if (st.verdict.outcome == Action.Block) {
        // Headers have not gone out yet: a real local reply is possible.
        this.replyBlock(Direction.Response, ID_OVERSIZED_RESPONSE);
        this.finish(Direction.Response);
        return FilterHeadersStatus.StopIteration;
      }
    }
    const stream = isEventStream(ct);
    st.shape = cfg.responseShape == Shape.Auto ? detectShape(this.fullPath, ct) : cfg.responseShape;
    st.inspect = st.shape != Shape.None && this.contentDetectorsOn(Direction.Response);
    if (st.inspect && isEncoded(getResponseHeader("content-encoding"))) {
      st.inspect = false;
      st.errors.push("encoded_body");
      this.owner.metrics.error(Direction.Response, "encoded_body");
      if (cfg.failureMode == FailureMode.Closed) {
        // Headers have not gone out yet: a real local reply is possible.
        this.replyError(502, "encoded_body", "meshward cannot inspect a content-encoded response body; failure_mode is closed.");
        this.finish(Direction.Response);
        return FilterHeadersStatus.StopIteration;
      }
    }
    if (endOfStream) {
      this.finish(Direction.Response);
      return FilterHeadersStatus.Continue;
    }
    if (!st.inspect) return FilterHeadersStatus.Continue;
    if (!stream && st.contentLength > <i64>cfg.maxBodyBytes) {
      if (cfg.failureMode == FailureMode.Closed) {
        st.errors.push("body_too_large");
        this.owner.metrics.error(Direction.Response, "body_too_large");
        this.replyError(413, "body_too_large", "The response body exceeds meshward max_body_bytes; failure_mode is closed.");
        this.finish(Direction.Response);
        return FilterHeadersStatus.StopIteration;
      }
      this.tooLarge(Direction.Response);
      return FilterHeadersStatus.Continue;
    }
    const mayEdit = (policy.mode == Mode.Enforce &&
      (policy.mayRedact(cfg, Direction.Response) || policy.mayBlock(cfg, Direction.Response))) ||
      cfg.failureMode == FailureMode.Closed;
    if (mayEdit) removeHeader(MapType.HttpResponseHeaders, "content-length");
    if (stream) {
      st.stream = new StreamInspector(cfg, policy, this.snap.scanner, this.snap.redactor, st.shape == Shape.Text ? Shape.Json : st.shape);
    } else {
      st.buffering = true;
    }
    return FilterHeadersStatus.Continue;
  }

  override onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    if (this.replied) return FilterDataStatus.Continue;
    const st = this.resp;
    const cfg = this.cfg;
    if (st.dropping) {
      if (bodySize > 0) replaceResponseBody(new Uint8Array(0));
      return FilterDataStatus.Continue;
    }
    const gate = this.gate;
    if (gate != null && gate.readsResponse && !st.buffering && st.stream == null) {
      return this.gateResponseBody(gate, bodySize, endOfStream);
    }
    if (st.finished) return FilterDataStatus.Continue;
    const inspector = st.stream;
    if (inspector != null) {
      st.bytes += <i32>bodySize;
      const chunk = bodySize > 0 ? getResponseBodyView(0, bodySize) : new Uint8Array(0);
      if (chunk == null) {
        this.hostFailure(Direction.Response, "body_unavailable");
        return FilterDataStatus.Continue;
      }
      const rc = inspector.push(chunk.dataStart, chunk.length, endOfStream);
      let out = inspector.out;
      if (gate != null && gate.stream != null) {
        // Meter exactly what the client gets (after redaction).
        gate.responseBody(out.ptr, out.length, endOfStream);
        out = gate.stream!.out;
      }
      if (out.length != chunk.length || memory.compare(out.ptr, chunk.dataStart, <usize>out.length) != 0) {
        const r = replaceResponseBody(Uint8Array.wrap(out.data.buffer, 0, out.length));
        if (r != WasmResult.Ok) this.hostFailure(Direction.Response, "body_rewrite_failed");
      }
      if (rc == STREAM_BLOCKED) {
        st.dropping = true;
        this.finishStream();
      } else if (endOfStream) {
        this.finishStream();
      }
      return FilterDataStatus.Continue;
    }
    if (!st.buffering) {
      st.bytes += <i32>bodySize;
      if (this.checkOversized(Direction.Response, st.bytes)) return FilterDataStatus.Continue;
      if (endOfStream) this.finish(Direction.Response);
      return FilterDataStatus.Continue;
    }
    st.bytes = <i32>bodySize;
    if (<i32>bodySize > cfg.maxBodyBytes) {
      st.buffering = false;
      if (cfg.failureMode == FailureMode.Closed) {
        st.errors.push("body_too_large");
        this.owner.metrics.error(Direction.Response, "body_too_large");
        this.replaceWithError(Direction.Response, "body_too_large",
          "The response body exceeds meshward max_body_bytes; failure_mode is closed.");
        st.dropping = true;
        this.finish(Direction.Response);
        return FilterDataStatus.Continue;
      }
      this.tooLarge(Direction.Response);
      if (endOfStream) this.finish(Direction.Response);
      return FilterDataStatus.Continue;
    }
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;
    this.inspectResponseBody(<i32>bodySize);
    if (gate != null && gate.readsResponse) this.gateWholeResponse(gate);
    return FilterDataStatus.Continue;
  }

  /** A response body the detectors do not read: the budget meter / models-list filter alone. */
  private gateResponseBody(gate: BudgetGate, bodySize: u32, endOfStream: bool): FilterDataStatus {
    const st = this.resp;
    if (gate.stream != null) {
      const chunk = bodySize > 0 ? getResponseBodyView(0, bodySize) : new Uint8Array(0);
      if (chunk == null) return FilterDataStatus.Continue;
      gate.responseBody(chunk.dataStart, chunk.length, endOfStream);
      const out = gate.stream!.out;
      if (out.length != chunk.length || memory.compare(out.ptr, chunk.dataStart, <usize>out.length) != 0) {
        if (replaceResponseBody(Uint8Array.wrap(out.data.buffer, 0, out.length)) != WasmResult.Ok) {
          st.errors.push("body_rewrite_failed");
          this.owner.metrics.error(Direction.Response, "body_rewrite_failed");
        }
      }
      return FilterDataStatus.Continue;
    }
    if (gate.modelsList) {
      // The list is rewritten whole: hold it to the end (bodySize is then the total).
      if (!endOfStream) {
        if (<i32>bodySize <= this.cfg.maxBodyBytes) return FilterDataStatus.StopIterationAndBuffer;
        return FilterDataStatus.Continue;
      }
      this.gateWholeResponse(gate);
      return FilterDataStatus.Continue;
    }
    // Usage of a non-streamed response: read each chunk as it passes.
    const chunk = bodySize > 0 ? getResponseBodyView(0, bodySize) : new Uint8Array(0);
    if (chunk != null) gate.responseBody(chunk.dataStart, chunk.length, endOfStream);
    return FilterDataStatus.Continue;
  }

  /** The whole (final) response body is buffered: usage, or the models list rewrite. */
  private gateWholeResponse(gate: BudgetGate): void {
    const size = getBufferSize(BufferType.HttpResponseBody);
    if (size < 0) return;
    const view = readBody(BufferType.HttpResponseBody, <i32>size, this.owner.rawBody);
    if (view == null) return;
    if (gate.responseBody(view.dataStart, view.length, true) && gate.modelsList) {
      const out = gate.rewritten;
      replaceResponseBody(Uint8Array.wrap(out.data.buffer, 0, out.length));
    }
  }

  override onResponseTrailers(numTrailers: u32): FilterTrailersStatus {
    const st = this.resp;
    if (this.replied || st.finished) return FilterTrailersStatus.Continue;
    if (st.buffering) {
      const size = getBufferSize(BufferType.HttpResponseBody);
      if (size >= 0) this.inspectResponseBody(<i32>size);
      else this.hostFailure(Direction.Response, "body_unavailable");
    } else if (st.stream != null) {
      // Held stream bytes cannot be emitted after the last data frame; report what was seen.
      st.errors.push("stream_ended_with_trailers");
      this.owner.metrics.error(Direction.Response, "stream_ended_with_trailers");
      this.finishStream();
    } else {
      this.finish(Direction.Response);
    }
    return FilterTrailersStatus.Continue;
  }

  private inspectResponseBody(size: i32): void {
    const st = this.resp;
    st.buffering = false;
    if (this.checkOversized(Direction.Response, size)) return;
    this.owner.bodies.prepare(size);
    const view = readBody(BufferType.HttpResponseBody, size, this.owner.rawBody);
    if (view == null) {
      this.hostFailure(Direction.Response, "body_unavailable");
      return;
    }
    const cfg = this.cfg;
    const bodies = this.owner.bodies;
    const rc = bodies.inspect(view.dataStart, view.length, st.shape, Direction.Response, cfg, this.policy,
      this.snap.scanner, this.snap.redactor, st.verdict);
    if (bodies.malformed) {
      st.errors.push("malformed_json");
      this.owner.metrics.error(Direction.Response, "malformed_json");
    }
    if (rc == BODY_MALFORMED_REJECT) {
      this.replaceWithError(Direction.Response, "malformed_json",
        "The response body is not valid JSON; meshward failure_mode is closed.");
      this.finish(Direction.Response);
      return;
    }
    this.owner.metrics.inspectedBytes(Direction.Response, size);
    if (st.verdict.outcome == Action.Block) {
      const id = cfg.idOf(st.verdict.blockDetector);
      this.replaceWithError(Direction.Response, id, blockMessage(id, "response"));
    } else if (bodies.rewritten) {
      if (!writeEdited(BufferType.HttpResponseBody, view, bodies)) this.hostFailure(Direction.Response, "body_rewrite_failed");
    }
    this.finish(Direction.Response);
  }

  private finishStream(): void {
    const st = this.resp;
    const inspector = st.stream;
    if (inspector == null || st.finished) return;
    st.verdict.merge(inspector.verdict);
    st.verdict.mode = this.policy.mode;
    if (inspector.sse.malformedEvents > 0) {
      st.errors.push("malformed_json");
      this.owner.metrics.error(Direction.Response, "malformed_json");
    }
    if (inspector.holdOverflows > 0) {
      st.errors.push("hold_limit");
      this.owner.metrics.error(Direction.Response, "hold_limit");
    }
    this.owner.metrics.inspectedBytes(Direction.Response, inspector.received);
    this.finish(Direction.Response);
  }

  /**
   * Access-log phase: a direction that never reached its end (client gone, upstream reset) is
   * still reported, with what was seen so far and the error `incomplete`.
   */
  override onLog(): void {
    const gate = this.gate;
    if (gate != null) gate.finish();
    if (!this.req.finished && (this.req.buffering || this.req.bytes > 0)) {
      this.req.errors.push("incomplete");
      this.finish(Direction.Request);
    }
    const st = this.resp;
    if (!st.finished && (st.buffering || st.stream != null || st.bytes > 0)) {
      st.errors.push("incomplete");
      if (st.stream != null) this.finishStream();
      else this.finish(Direction.Response);
    }
  }

  // ---- shared helpers ----------------------------------------------------------------------------

  /** True when some content detector (built-in or custom) is on for `direction`. */
  private contentDetectorsOn(direction: i32): bool {
    const cfg = this.cfg;
    const n = cfg.detectorCount;
    for (let i = 0; i < n; i++) {
      if (i >= CONTENT_DETECTOR_COUNT && i < DETECTOR_COUNT) continue; // anomaly signals
      if (this.policy.actionFor(cfg, i, direction) != Action.Off) return true;
    }
    return false;
  }

  /**
   * A body over max_body_bytes: failure_mode open passes it uninspected (recorded); closed answers
   * 413 (request). Returns true when a local reply was sent.
   */
  private tooLarge(direction: Direction): bool {
    const st = direction == Direction.Request ? this.req : this.resp;
    st.inspect = false;
    st.buffering = false;
    st.errors.push("body_too_large");
    this.owner.metrics.error(direction, "body_too_large");
    if (this.cfg.failureMode == FailureMode.Closed && direction == Direction.Request) {
      this.replyError(413, "body_too_large", "The request body exceeds meshward max_body_bytes; failure_mode is closed.");
      this.finish(direction);
      return true;
    }
    return false;
  }

  /** Records oversized_* when `total` exceeds its limit; returns true when that blocked the stream. */
  private checkOversized(direction: Direction, total: i32): bool {
    const cfg = this.cfg;
    const id = direction == Direction.Request ? ID_OVERSIZED_REQUEST : ID_OVERSIZED_RESPONSE;
    const limit = direction == Direction.Request ? cfg.oversizedRequestBytes : cfg.oversizedResponseBytes;
    const st = direction == Direction.Request ? this.req : this.resp;
    if (this.policy.actionFor(cfg, id, direction) == Action.Off || total <= limit) return false;
    if (st.verdict.counts[id] > 0) return false; // already recorded (from content-length)
    st.anomalies.add(id, -1, -1);
    st.verdict.add(st.anomalies, 0, st.anomalies.count, cfg, this.policy, direction);
    st.anomalies.reset();
    if (st.verdict.outcome != Action.Block) return false;
    if (direction == Direction.Request) {
      this.replyBlock(direction, id);
    } else {
      this.replaceWithError(direction, "oversized_response", blockMessage("oversized_response", "response"));
      st.dropping = true;
    }
    this.finish(direction);
    return true;
  }

  /** A host call failed mid-message: record it; closed mode rejects, open mode lets it pass. */
  private hostFailure(direction: Direction, reason: string): void {
    const st = direction == Direction.Request ? this.req : this.resp;
    st.errors.push(reason);
    this.owner.metrics.error(direction, reason);
    if (logEnabled(LogLevel.Warn)) logWarn("meshward: " + reason + " (" + (direction == Direction.Request ? "request" : "response") + ")");
    if (this.cfg.failureMode == FailureMode.Closed) {
      if (direction == Direction.Request) this.replyError(503, reason, "meshward could not inspect the request; failure_mode is closed.");
      else {
        this.replaceWithError(direction, reason, "meshward could not inspect the response; failure_mode is closed.");
        st.dropping = true;
      }
    }
    this.finish(direction);
  }

  /** Local reply for a block: 403 (content), 413 (oversized), 429 (rate) with the OpenAI error body. */
  private replyBlock(direction: Direction, detector: i32): void {
    const id = this.cfg.idOf(detector);
    const dir = direction == Direction.Request ? "request" : "response";
    let status: u32 = 403;
    const headers: Array<HeaderPair> = [new HeaderPair("content-type", "application/json")];
    let body: string;
    if (detector == ID_REQUEST_RATE) {
      status = 429;
      const rate = this.rate;
      headers.push(new HeaderPair("retry-after", (rate != null ? rate.retryAfterSeconds : 1).toString()));
      body = "{\"error\":{\"message\":\"Request rate limit exceeded for this caller (meshward request_rate).\"," +
        "\"type\":\"rate_limit_error\",\"param\":null,\"code\":\"request_rate\"}}";
    } else {
      if (detector == ID_OVERSIZED_REQUEST || detector == ID_OVERSIZED_RESPONSE) status = 413;
      body = blockBody(id, dir, blockMessage(id, dir));
    }
    this.replied = true;
    sendLocalResponse(status, "meshward_" + id, Uint8Array.wrap(String.UTF8.encode(body)), headers);
  }

  private replyError(status: u32, code: string, message: string): void {
    this.replied = true;
    const headers: Array<HeaderPair> = [new HeaderPair("content-type", "application/json")];
    sendLocalResponse(status, "meshward_" + code, Uint8Array.wrap(String.UTF8.encode(blockBody(code, "", message))), headers);
  }

  /** After response headers went out: the body becomes the error JSON. */
  private replaceWithError(direction: Direction, code: string, message: string): void {
    replaceResponseBody(Uint8Array.wrap(String.UTF8.encode(blockBody(code, "response", message))));
  }

  /** Emits metrics, the audit line and the filter-state summary for a finished direction. */
  private finish(direction: Direction): void {
    const st = direction == Direction.Request ? this.req : this.resp;
    if (st.finished) return;
    st.finished = true;
    const cfg = this.cfg;
    const v = st.verdict;
    v.mode = this.policy.mode;
    this.owner.metrics.recordVerdict(cfg, v, direction);
    const audit = cfg.auditLog;
    if (audit == AuditLog.All || (audit == AuditLog.Findings && (v.total > 0 || st.errors.length > 0))) {
      if (logEnabled(LogLevel.Info)) {
        const buf = this.owner.logBuffer;
        auditLine(buf, direction == Direction.Request ? "request" : "response", v, cfg, this.meta,
          shapeName(st.shape), st.bytes, st.stream != null, st.errors);
        logInfo(buf.toString());
      }
    }
    const buf = this.owner.logBuffer;
    summaryJson(buf, this.req.finished ? this.req.verdict : null, this.resp.finished ? this.resp.verdict : null, cfg);
    setProperty(["meshward.summary"], Uint8Array.wrap(buf.data.buffer, 0, buf.length));
  }

  /**
   * Counts this request in the caller's shared rate window (CAS loop, so all worker VMs see one
   * count). Returns 1 when over the limit, 0 when within, -1 when shared data kept failing.
   */
  private countRate(principal: string): i32 {
    const cfg = this.cfg;
    const key = "meshward.rate." + (principal.length > 0 ? principal : anonymousIdentity());
    let step = this.rate;
    if (step == null) {
      step = new RateStep();
      this.rate = step;
    }
    for (let attempt = 0; attempt < RATE_CAS_ATTEMPTS; attempt++) {
      const cur = getSharedData(key);
      const now = getCurrentTimeNanoseconds();
      rateStep(cur == null ? null : Uint8Array.wrap(cur.value), now, cfg.rateWindowSeconds, cfg.rateMaxRequests, step);
      // Create with a CAS no existing key has (see CREATE_CAS): a CAS of 0 would overwrite a key
      // another worker created since our read, losing its count.
      const r = setSharedData(key, step.next, cur == null ? CREATE_CAS : cur.cas);
      if (r == WasmResult.Ok) return step.exceeded ? 1 : 0;
      if (r != WasmResult.CasMismatch) return -1;
    }
    return -1;
  }
}

/** Bodies above this size are read in pieces of this size (see readBody). */
const BODY_READ_PIECE: i32 = 16 * 1024;
/**
 * A full collection runs after every this many pieces read (64 KiB): the copied pieces are
 * garbage at once, and returning them to the allocator this often keeps them from ever needing
 * more than 64 KiB of free heap. With a coarser step (256 KiB) the pieces outgrew the slack a
 * warm VM has left (per-VM scratch lists grown by the first large scan take part of it), and the
 * allocator doubled linear memory on the second large body (2.63x -> 5.25x the body). Costs
 * about 16 collections of a small heap per MiB; bodies of one piece never collect here.
 */
const BODY_COLLECT_PIECES: i32 = 4;

/**
 * Reads a whole buffered body. A small body is the host's own copy (zero copy). A large one is
 * read in 16 KiB pieces (small enough to fit the allocator's free gaps) into `into`, a buffer the root context keeps and reuses: one large
 * allocation per VM instead of one per message, which the allocator (it searches free blocks one
 * size class up and grows memory by doubling) could not reuse for the next large body. Peak
 * memory for a large body is then `into` + the decoded text + a few pieces.
 * Null when the host refused.
 */
function readBody(type: BufferType, size: i32, into: ByteBuffer): Uint8Array | null {
  if (size <= 0) return new Uint8Array(0);
  if (size <= BODY_READ_PIECE) return getBufferView(type, 0, <u32>size);
  into.reset();
  if (into.data.length < size) into.ensure(size);
  let pieces = 0;
  for (let off = 0; off < size; off += BODY_READ_PIECE) {
    const n = min(BODY_READ_PIECE, size - off);
    const piece = getBuffer(type, <u32>off, <u32>n);
    if (piece == null || piece.byteLength != n) return null;
    memory.copy(into.ptr + <usize>off, changetype<usize>(piece), <usize>n);
    // Return the copied pieces to the allocator as we go (every 64 KiB, see BODY_COLLECT_PIECES),
    // so they never add up to more than the free slack of a warm heap.
    if (++pieces % BODY_COLLECT_PIECES == 0) __collect();
  }
  into.length = size;
  return Uint8Array.wrap(into.data.buffer, 0, size);
}

/** Above this many edits the body is assembled in one buffer instead of written piecewise. */
const PIECEWISE_MAX_EDITS: i32 = 64;

/**
 * Writes the redacted body into the host buffer. With few edits it streams the pieces (replace
 * with the first raw run, then append tokens and runs), so no second copy of the body exists in
 * linear memory; with many edits it builds the body once and replaces the buffer.
 */
function writeEdited(type: BufferType, raw: Uint8Array, bodies: BodyInspector): bool {
  const edits = bodies.edits;
  const len = raw.length;
  const base = raw.byteOffset;
  const buf = raw.buffer;
  if (edits.count > PIECEWISE_MAX_EDITS) {
    // Many edits: compact in place when every token fits in what it replaces so far (no copy),
    // else assemble the body once.
    const n = bodies.edits.compactInPlace(raw.dataStart, len);
    if (n >= 0) return replaceBuffer(type, Uint8Array.wrap(buf, base, n)) == WasmResult.Ok;
    bodies.buildOut(raw.dataStart, len);
    const out = bodies.out;
    return replaceBuffer(type, Uint8Array.wrap(out.data.buffer, 0, out.length)) == WasmResult.Ok;
  }
  const tokens = edits.tokens.data.buffer;
  let written: u32 = 0;
  let first = true;
  let cursor = 0;
  for (let i = 0; i <= edits.count; i++) {
    const s = i < edits.count ? unchecked(edits.start[i]) : len;
    // Raw run [cursor, s), then the token.
    const run = Uint8Array.wrap(buf, base + cursor, s - cursor);
    const r = first ? replaceBuffer(type, run) : setBuffer(type, written, 0, run);
    if (r != WasmResult.Ok) return false;
    written += <u32>(s - cursor);
    first = false;
    if (i == edits.count) break;
    const ts = unchecked(edits.tokStart[i]);
    const tn = unchecked(edits.tokEnd[i]) - ts;
    if (tn > 0) {
      if (setBuffer(type, written, 0, Uint8Array.wrap(tokens, ts, tn)) != WasmResult.Ok) return false;
      written += <u32>tn;
    }
    cursor = unchecked(edits.end[i]);
  }
  return true;
}

/**
 * Rate identity of a caller without a peer certificate: its source IP (`ip:<address>`, port
 * dropped), so one anonymous client cannot exhaust the others' allowance; "-" when unknown.
 */
function anonymousIdentity(): string {
  const a = getPropertyString(["source", "address"]);
  if (a == null || a.length == 0) return "-";
  let host = a;
  if (host.startsWith("[")) {
    const close = host.indexOf("]");
    if (close > 0) host = host.substring(1, close);
  } else {
    const colon = host.lastIndexOf(":");
    if (colon > 0 && host.indexOf(":") == colon) host = host.substring(0, colon);
  }
  return "ip:" + host;
}

/** True for a content-encoding other than identity. */
function isEncoded(v: string | null): bool {
  if (v == null) return false;
  const t = v.trim().toLowerCase();
  return t.length > 0 && t != "identity";
}

/** Parses a content-length header; -1 when absent or not a plain decimal. */
function parseLength(v: string | null): i64 {
  if (v == null || v.length == 0 || v.length > 18) return -1;
  let n: i64 = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/** Adapts the HTTP context to the gate's lease waiter (AS closures cannot capture). */
class ContextLeaseWaiter extends LeaseWaiter {
  constructor(public ctx: MeshwardHttpContext) {
    super();
  }

  leaseResolved(): void {
    this.ctx.leaseResolved();
  }
}
