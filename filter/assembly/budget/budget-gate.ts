/**
 * The budget and model-access side of one HTTP stream, called by the meshward HTTP context at
 * fixed points (it owns no callbacks itself):
 *
 *   requestHeaders()  identity (SPIFFE ID, or the API key's identity), the routing header
 *                     `x-meshward-model`, the route; says whether the body must be read and
 *                     whether content-length must go (a clamp may rewrite the body).
 *   requestBody()     at the end of the request body: model access (403), header/body model
 *                     agreement (400), admission (429 + Retry-After, or clamp, or — lease mode —
 *                     PAUSED until the control plane answers; then the root calls leaseResolved()).
 *   applyClamp()      after DLP: rewrites the max-tokens field of the (final) request body.
 *   responseHeaders() / responseBody()  streaming charge + clean cut; whole bodies: usage, and the
 *                     `GET /v1/models` list filtered to the allowed models.
 *   finish()          settlement, metrics and the `meshward.budget` filter state for access logs.
 *
 * Error bodies are OpenAI-style: {"error":{"message","type","param","code"}}; a 429 carries
 * `retry-after` (seconds to the window's end) and `x-meshward-budget` (the limit's name).
 */
import { HeaderPair } from "../abi/pairs";
import { WasmResult } from "../abi/types";
import { BufferType, getBufferSize, getBufferView, getHttpCallResponseBody, replaceBuffer } from "../host/body";
import { getHeader, getRequestHeader, MapType } from "../host/headers";
import { httpCall } from "../host/http-call";
import { defineMetric, incrementMetric, recordMetric, MetricType } from "../host/metrics";
import { getPropertyString, setProperty } from "../host/properties";
import { getSharedData, setSharedData } from "../host/shared-data";
import { continueRequest, sendLocalResponse, setEffectiveContext } from "../host/stream";
import { getCurrentTimeNanoseconds, setTickPeriodMilliseconds } from "../host/time";
import { logDebug, logEnabled } from "../host/log";
import { LogLevel } from "../abi/types";
import { ByteBuffer } from "../inspect/byte-buffer";
import { JsonKind, parseJson } from "../config/json-value";
import { ACCESS_DENIED, accessRestricted, checkModelAccess } from "../access/model-access";
import { filterModelsList } from "../access/models-list-filter";
import { AccessConfig, BudgetConfig, BudgetLimit, LeaseConfig, principalMatch, windowSeconds } from "./budget-config";
import { BudgetLedger, CREATE_CAS, RELEASE_DONE, RELEASE_NONE, windowIndex } from "./budget-ledger";
import { ADMIT, ADMIT_CLAMPED, BudgetPlan, NEED_LEASE, REJECT, UNAVAILABLE, PlanEntry } from "./budget-plan";
import { BudgetStream } from "./budget-stream";
import { JsonWalker } from "./json-walk";
import { RequestFacts } from "./request-facts";
import { ResponseFacts } from "./response-facts";
import { sha256 } from "./sha256";

export const MODEL_HEADER = "x-meshward-model";

/** requestBody() results. */
export const GATE_PASS: i32 = 0;
/** A local reply was sent (403 / 400 / 429 / 503). */
export const GATE_REPLIED: i32 = 1;
/** Waiting for a lease; the body stays buffered; the root resumes the stream. */
export const GATE_PAUSED: i32 = 2;

/** Everything per VM (callbacks of one VM never interleave, so one of each is enough). */
class BudgetVm {
  walker: JsonWalker = new JsonWalker();
  ledger: BudgetLedger = new BudgetLedger();
  facts: RequestFacts = new RequestFacts();
  rfacts: ResponseFacts = new ResponseFacts();
  scratch: ByteBuffer = new ByteBuffer(256);
  metrics: Map<string, u32> = new Map<string, u32>();
  /** Lease calls in flight: token → the gates waiting on it. */
  calls: Map<u32, LeaseCall> = new Map<u32, LeaseCall>();
  nodeId: string = "";
  /** Counters this VM applied a grant to (shared-data key → which limit and caller): the idle release looks at these. */
  held: Map<string, HeldCounter> = new Map<string, HeldCounter>();
  /** Streams waiting for a release call (of any worker) to finish before they may ask for a lease. */
  parked: Array<BudgetGate> = [];
  /** Admitted streams of this VM not finished yet (kept alive against the idle release). */
  open: Set<BudgetGate> = new Set<BudgetGate>();
  /** The last sendLeaseCall() returned 0 because a release call is in flight. */
  blockedByRelease: bool = false;
  /** The tick period last set on the root context (ms; 0 = none). */
  tickMs: u32 = 0;

  metric(type: MetricType, name: string): u32 {
    if (this.metrics.has(name)) return this.metrics.get(name);
    const id = defineMetric(type, name);
    this.metrics.set(name, id);
    return id;
  }

  count(name: string, n: i64): void {
    if (n <= 0) return;
    const id = this.metric(MetricType.Counter, name);
    if (id != 0) incrementMetric(id, n);
  }

  gauge(name: string, v: i64): void {
    const id = this.metric(MetricType.Gauge, name);
    if (id != 0) recordMetric(id, <u64>(v < 0 ? 0 : v));
  }
}

class LeaseCall {
  entries: Array<PlanEntry> = [];
  waiters: Array<BudgetGate> = [];
  /** A release call (`release: true`) for the counter `key`. */
  release: bool = false;
  key: string = "";
}

/** A counter of this Envoy the VM holds (applied) a grant on. */
class HeldCounter {
  constructor(public limitName: string, public counterKey: string) {}
}

let vmState: BudgetVm | null = null;

function vm(): BudgetVm {
  let v = vmState;
  if (v == null) {
    v = new BudgetVm();
    vmState = v;
  }
  return v;
}

/** Stat-name-safe: '.' separates tags in Envoy stat names, so it becomes '_' inside a value. */
export function statValue(s: string): string {
  if (s.length == 0) return "-";
  let out = s.length > 200 ? s.substring(0, 200) : s;
  return out.replaceAll(".", "_");
}

/** The HTTP context's side of a stream paused for a lease (implemented by the context). */
export abstract class LeaseWaiter {
  /** Called with the stream as the effective context once the lease call finished. */
  abstract leaseResolved(): void;
}

export class BudgetGate {
  identity: string = "";
  route: string = "";
  headerModel: string = "";
  model: string = "";
  /** The body must be read (budgets or access lists apply to this call). */
  wantsBody: bool = false;
  /** A clamp may rewrite the request body: content-length must go at header time. */
  mayRewrite: bool = false;
  /** GET /v1/models for a caller restricted by access lists: the response is rewritten. */
  modelsList: bool = false;
  plan: BudgetPlan | null = null;
  stream: BudgetStream | null = null;
  /** Whole response body copy (usage / models list), up to the cap. */
  private body: ByteBuffer | null = null;
  private bodyOverflow: bool = false;
  decision: string = "none";
  clampField: i32 = -1;
  clampTo: i64 = -1;
  waiter: LeaseWaiter | null = null;
  contextId: u32 = 0;
  private leaseTries: i32 = 0;
  /** Admitted by failure_mode open without a budget check: streams are metered, not cut. */
  unenforced: bool = false;
  /** The last lease call failed (no answer, or not 200). */
  leaseFailed: bool = false;
  private finished: bool = false;
  /** The stream cut was counted in the stats. */
  countedCut: bool = false;

  constructor(public budgets: BudgetConfig, public access: AccessConfig, public failOpen: bool, public maxBodyBytes: i32) {}

  get active(): bool {
    return this.budgets.enabled || this.access.enabled;
  }

  // ---- request ---------------------------------------------------------------------------------

  /** In the request-headers callback (headers readable). `principal` is the SPIFFE ID or "". */
  requestHeaders(principal: string, route: string, method: string, path: string): void {
    this.route = route;
    this.identity = principal;
    const b = this.budgets;
    if (b.apiKeyHeader.length > 0) {
      const key = getRequestHeader(b.apiKeyHeader);
      if (key != null && key.length > 0) {
        const id = apiKeyIdentity(b, key);
        if (id.length > 0) this.identity = id;
      }
    }
    const hm = getRequestHeader(MODEL_HEADER);
    this.headerModel = hm == null ? "" : hm;
    if (method == "GET") {
      this.modelsList = this.access.enabled && (path == "/v1/models" || path == "/models") && accessRestricted(this.access, this.identity);
      return;
    }
    this.wantsBody = this.active;
    if (this.budgets.enabled) {
      for (let i = 0; i < b.limits.length; i++) {
        const l = b.limits[i];
        if (!l.clamp) continue;
        for (let j = 0; j < l.principals.length; j++) {
          if (principalMatch(l.principals[j], this.identity)) this.mayRewrite = true;
        }
      }
    }
  }

  /**
   * At the end of the request body (the whole body is buffered and readable). Sends the local
   * reply itself when it refuses.
   */
  requestBody(view: Uint8Array, contextId: u32, waiter: LeaseWaiter): i32 {
    this.contextId = contextId;
    this.waiter = waiter;
    const v = vm();
    const f = v.facts;
    if (!f.read(v.walker, view.dataStart, 0, view.length)) {
      // Not JSON: no model and no prompt to read (an OpenAI-style provider refuses such a body, so
      // it spends nothing); access lists cannot be checked without a model.
      this.decision = "not_json";
      if (this.access.enabled && accessRestricted(this.access, this.identity)) {
        return this.replyError(403, "model_not_allowed", "invalid_request_error", "meshward could not read the request's model; this caller may only use listed models.", "");
      }
      return GATE_PASS;
    }
    this.model = f.modelStart >= 0 ? String.UTF8.decodeUnsafe(view.dataStart + <usize>f.modelStart, <usize>(f.modelEnd - f.modelStart)) : "";
    if (this.access.enabled) {
      if (this.access.checkModelHeader && this.headerModel.length > 0 && this.model != this.headerModel) {
        v.count("meshward.access.model_mismatch.denials", 1);
        this.decision = "model_mismatch";
        return this.replyError(400, "model_mismatch", "invalid_request_error",
          "The request body's model '" + this.model + "' differs from the " + MODEL_HEADER + " header '" + this.headerModel + "'.", "model");
      }
      if (checkModelAccess(this.access, this.identity, this.model) == ACCESS_DENIED) {
        v.count("meshward.access.model." + statValue(this.model) + ".denials", 1);
        this.decision = "model_denied";
        return this.replyError(403, "model_not_allowed", "invalid_request_error",
          "The model '" + this.model + "' is not allowed for this caller.", "model");
      }
    }
    if (!this.budgets.enabled) return GATE_PASS;
    const plan = new BudgetPlan(this.budgets, v.ledger);
    if (plan.select(this.identity, this.model, this.route, getCurrentTimeNanoseconds()) == 0) return GATE_PASS;
    this.plan = plan;
    this.clampField = f.maxField;
    return this.admit();
  }

  /** Runs admission with the facts read from the body (again after a lease arrived). */
  private admit(): i32 {
    const v = vm();
    const f = v.facts;
    const plan = this.plan!;
    const now = getCurrentTimeNanoseconds();
    if (this.leaseFailed) {
      // The lease service did not answer: failure_mode decides (the local grant may still cover it).
      const local = plan.admit(f.promptTokens, f.maxTokens, f.stream, f.maxField >= 0, now, false);
      if (local == ADMIT || local == ADMIT_CLAMPED) {
        if (plan.leased) v.open.add(this);
        this.decision = local == ADMIT ? "admitted" : "clamped";
        if (local == ADMIT_CLAMPED) this.clampTo = plan.clampedTo;
        return GATE_PASS;
      }
      if (this.failOpen) {
        this.decision = "lease_unavailable_open";
        this.unenforced = true;
        return GATE_PASS;
      }
      return this.replyError(503, "budget_unavailable", "server_error", "meshward could not obtain a budget lease; failure_mode is closed.", "");
    }
    const r = plan.admit(f.promptTokens, f.maxTokens, f.stream, f.maxField >= 0, now, this.leaseTries < 2);
    this.recordRemaining();
    if ((r == ADMIT || r == ADMIT_CLAMPED) && plan.leased) v.open.add(this);
    if (r == ADMIT) {
      this.decision = "admitted";
      return GATE_PASS;
    }
    if (r == ADMIT_CLAMPED) {
      this.decision = "clamped";
      this.clampTo = plan.clampedTo;
      v.count("meshward.budget." + statValue(plan.entries[plan.decisive].limit.name) + ".clamps", 1);
      return GATE_PASS;
    }
    if (r == NEED_LEASE) {
      this.leaseTries++;
      if (this.requestLease(plan, plan.entries[plan.decisive])) return GATE_PAUSED;
      if (v.blockedByRelease) {
        // A release call of this Envoy is in flight: ask once it is answered (see park()).
        this.leaseTries--;
        park(this);
        return GATE_PAUSED;
      }
      // The call could not even be dispatched (e.g. unknown cluster): as if it had failed.
      this.leaseFailed = true;
      return this.admit();
    }
    if (r == UNAVAILABLE) {
      if (this.failOpen) {
        this.decision = "unavailable_open";
        this.unenforced = true;
        return GATE_PASS;
      }
      return this.replyError(503, "budget_unavailable", "server_error", "meshward could not read the budget counter; failure_mode is closed.", "");
    }
    // REJECT (or a lease that still does not cover it).
    const name = plan.decisive >= 0 ? plan.entries[plan.decisive].limit.name : "";
    v.count("meshward.budget." + statValue(name) + ".rejections", 1);
    this.decision = "rejected";
    const headers: Array<HeaderPair> = [
      new HeaderPair("content-type", "application/json"),
      new HeaderPair("retry-after", (plan.retryAfterSeconds > 0 ? plan.retryAfterSeconds : 1).toString()),
      new HeaderPair("x-meshward-budget", name),
    ];
    const body = errorJson("Token budget '" + name + "' cannot cover this request (estimated prompt " + f.promptTokens.toString() +
      " tokens + requested output); it resets in " + plan.retryAfterSeconds.toString() + " s.", "rate_limit_error", "", "budget_exceeded");
    sendLocalResponse(429, "meshward_budget_exceeded", Uint8Array.wrap(String.UTF8.encode(body)), headers);
    return GATE_REPLIED;
  }

  /** After DLP: writes the clamped maximum into the final request body. False when it could not. */
  applyClamp(): bool {
    if (this.clampTo < 0) return true;
    const size = getBufferSize(BufferType.HttpRequestBody);
    if (size <= 0) return false;
    const view = getBufferView(BufferType.HttpRequestBody, 0, <u32>size);
    if (view == null) return false;
    const v = vm();
    const f = v.facts;
    if (!f.read(v.walker, view.dataStart, 0, view.length) || f.maxField < 0) return false;
    const out = v.scratch;
    out.reset();
    out.pushBytes(view.dataStart, f.maxStart);
    out.pushInt(this.clampTo);
    out.pushBytes(view.dataStart + <usize>f.maxEnd, view.length - f.maxEnd);
    return replaceBuffer(BufferType.HttpRequestBody, Uint8Array.wrap(out.data.buffer, 0, out.length)) == WasmResult.Ok;
  }

  private replyError(status: u32, code: string, type: string, message: string, param: string): i32 {
    if (this.plan != null) this.plan!.refundUnused();
    const headers: Array<HeaderPair> = [new HeaderPair("content-type", "application/json")];
    sendLocalResponse(status, "meshward_" + code, Uint8Array.wrap(String.UTF8.encode(errorJson(message, type, param, code))), headers);
    return GATE_REPLIED;
  }

  // ---- leases (fleet bound) ----------------------------------------------------------------------

  private requestLease(plan: BudgetPlan, e: PlanEntry): bool {
    const v = vm();
    v.blockedByRelease = false;
    const lease = this.budgets.lease;
    if (lease == null) return false;
    const now = getCurrentTimeNanoseconds();
    const f = v.facts;
    // Ask for what this request lacks, and at least a lease's worth.
    const needUnits = e.cost.input * f.promptTokens / 1000 + e.cost.output * (f.maxTokens >= 0 ? f.maxTokens : (f.stream ? 1 : this.budgets.defaultOutputTokens)) / 1000 + 1;
    const leaseSize = lease.tokens > 0 ? lease.tokens : (e.limit.tokens + 3) / 4;
    const remaining = plan.remainingOf(e);
    let want = needUnits - remaining;
    if (want < leaseSize) want = leaseSize;
    const token = sendLeaseCall(e.limit.name, e.counterKey, e.key, e.window, want, false, now);
    if (token == 0) return false;
    let call: LeaseCall;
    if (v.calls.has(token)) call = v.calls.get(token);
    else {
      call = new LeaseCall();
      call.entries.push(e);
      v.calls.set(token, call);
    }
    call.waiters.push(this);
    return true;
  }

  /** The root context calls this when a lease call's answer (or failure) arrived. */
  resume(): void {
    const plan = this.plan;
    const w = this.waiter;
    if (plan == null || w == null) return;
    w.leaseResolved();
  }

  /** The HTTP context's continuation after a lease: re-admits; returns GATE_* like requestBody(). */
  readmit(): i32 {
    return this.admit();
  }

  // ---- response ----------------------------------------------------------------------------------

  /** In the response-headers callback. Returns true when content-length must be removed. */
  responseHeaders(status: u32, eventStream: bool, enforceStreams: bool): bool {
    const plan = this.plan;
    if (this.modelsList && status == 200) {
      this.body = new ByteBuffer(4096);
      return true;
    }
    if (plan == null) return false;
    if (status >= 300) {
      // The model did not answer: only the prompt estimate stays charged when it was an error
      // after processing; 4xx/5xx from the provider are not billed → refund.
      plan.refundUnused();
      return false;
    }
    if (eventStream) {
      const f = vm().facts;
      this.stream = new BudgetStream(plan, vm().walker, enforceStreams && !this.unenforced, f.includeUsage);
      return true; // a cut rewrites the body
    }
    this.body = new ByteBuffer(1024);
    return false;
  }

  /** True when the response body must be read (streaming meter, usage or models list). */
  get readsResponse(): bool {
    return this.stream != null || this.body != null;
  }

  /**
   * A response body chunk (`src`, `n`): returns what to forward in `out` for a stream (check
   * `streamChanged`), or collects a whole body. At `end` of a models list, `out` holds the new
   * body and the return value is true.
   */
  responseBody(src: usize, n: i32, end: bool): bool {
    const s = this.stream;
    if (s != null) {
      s.push(src, n, end);
      if (s.cut && !this.countedCut) {
        this.countedCut = true;
        const plan = this.plan!;
        const name = plan.decisive >= 0 ? plan.entries[plan.decisive].limit.name : "";
        vm().count("meshward.budget." + statValue(name) + ".stream_cuts", 1);
        this.decision = "stream_cut";
      }
      if (end) this.settleStream();
      else this.maybeTopUp();
      return true;
    }
    const body = this.body;
    if (body == null) return false;
    if (!this.bodyOverflow) {
      if (body.length + n > this.maxBodyBytes) this.bodyOverflow = true;
      else body.pushBytes(src, n);
    }
    if (!end) return false;
    if (this.modelsList) {
      if (this.bodyOverflow) return false;
      const v = vm();
      const out = v.scratch;
      const removed = filterModelsList(this.access, this.identity, v.walker, body.ptr, body.length, out);
      if (removed < 0) return false;
      v.count("meshward.access.models_list.filtered", <i64>removed);
      return true;
    }
    this.settleWhole();
    return false;
  }

  private toppingUp: bool = false;

  /**
   * Lease mode, while a stream flows: when an entry's local grant falls below half a lease, ask
   * for more in the background (no waiting), so a long stream is not cut while the fleet still
   * has budget. At most one top-up per stream.
   */
  private maybeTopUp(): void {
    const lease = this.budgets.lease;
    const plan = this.plan;
    if (lease == null || plan == null || this.toppingUp) return;
    for (let i = 0; i < plan.entries.length; i++) {
      const e = plan.entries[i];
      const size = lease.tokens > 0 ? lease.tokens : (e.limit.tokens + 3) / 4;
      if (e.remaining * 2 >= size) continue;
      const token = sendLeaseCall(e.limit.name, e.counterKey, e.key, e.window, size, false, getCurrentTimeNanoseconds());
      if (token != 0) {
        const call = new LeaseCall();
        call.entries.push(e);
        vm().calls.set(token, call);
        this.toppingUp = true;
      }
      return;
    }
  }

  /** The rewritten whole body (models list), valid after responseBody returned true at end. */
  get rewritten(): ByteBuffer {
    return vm().scratch;
  }

  private settleStream(): void {
    const s = this.stream!;
    const plan = this.plan!;
    if (!plan.settled) plan.settle(-1, -1, s.estimatedOutput);
  }

  private settleWhole(): void {
    const plan = this.plan!;
    const body = this.body!;
    const v = vm();
    const r = v.rfacts;
    if (!this.bodyOverflow && r.read(v.walker, body.ptr, 0, body.length) && r.hasUsage) {
      plan.settle(r.promptTokens, r.cachedTokens, r.completionTokens);
    } else if (!this.bodyOverflow && r.ok) {
      plan.settleEstimate(r.textTokens);
    }
    // Otherwise the reservation stays charged (conservative).
  }

  // ---- end -----------------------------------------------------------------------------------------

  /** Once per stream (access-log phase): metrics and the `meshward.budget` filter state. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const plan = this.plan;
    const v = vm();
    v.open.delete(this);
    if (plan != null && this.stream != null && !plan.settled) this.settleStream();
    const out = v.scratch;
    out.reset();
    out.pushString("{\"identity\":\"");
    out.pushJsonEscaped(this.identity);
    out.pushString("\",\"model\":\"");
    out.pushJsonEscaped(this.model);
    out.pushString("\",\"decision\":\"");
    out.pushString(this.decision);
    out.pushString("\"");
    if (plan != null) {
      out.pushString(",\"tokens_in\":");
      out.pushInt(plan.promptTokens);
      out.pushString(",\"tokens_cached\":");
      out.pushInt(plan.cachedTokens);
      out.pushString(",\"tokens_out\":");
      out.pushInt(plan.outputTokens);
      out.pushString(",\"usage_reported\":");
      out.pushString(plan.settled && (this.stream == null || this.stream!.usageSeen) ? "true" : "false");
      out.pushString(",\"budgets\":[");
      for (let i = 0; i < plan.entries.length; i++) {
        const e = plan.entries[i];
        if (i > 0) out.pushByte(0x2c);
        out.pushString("{\"name\":\"");
        out.pushJsonEscaped(e.limit.name);
        out.pushString("\",\"charged\":");
        out.pushInt(e.charged);
        out.pushString(",\"remaining\":");
        out.pushInt(e.remaining < 0 ? 0 : e.remaining);
        out.pushString("}");
      }
      out.pushString("]");
      // Tokens by identity, model and kind (input = uncached prompt).
      const prefix = "meshward.tokens.identity." + statValue(this.identity) + ".model." + statValue(this.model) + ".kind.";
      v.count(prefix + "input.charged", plan.promptTokens - plan.cachedTokens);
      v.count(prefix + "cached_input.charged", plan.cachedTokens);
      v.count(prefix + "output.charged", plan.outputTokens);
      this.recordRemaining();
    }
    out.pushString("}");
    setProperty(["meshward.budget"], Uint8Array.wrap(out.data.buffer, 0, out.length));
  }

  private recordRemaining(): void {
    const plan = this.plan;
    if (plan == null) return;
    const v = vm();
    for (let i = 0; i < plan.entries.length; i++) {
      const e = plan.entries[i];
      v.gauge("meshward.budget." + statValue(e.limit.name) + ".key." + statValue(e.counterKey) + ".remaining", e.remaining);
    }
  }
}

// ---- lease calls (module level: the root context receives the answers) -------------------------

/**
 * How long a lease call counts as in flight after it was sent: its timeout plus a margin (Envoy
 * answers or fails the call by its timeout; the margin covers timer slack).
 */
function inFlightNs(cfgLease: LeaseConfig): u64 {
  return (<u64>cfgLease.timeoutMs + 1000) * 1_000_000;
}

/**
 * Sends one lease call for counter `key` of limit `limitName`. Asking (`release` false) first
 * marks the call in shared data and refuses (0, `blockedByRelease`) while a release call of this
 * Envoy is in flight; a release reports `spent` (what its CAS lowered the grant to). Returns the
 * token or 0.
 */
function sendLeaseCall(limitName: string, counterKey: string, key: string, window: u64, want: i64, release: bool, nowNs: u64, releaseSpent: i64 = 0, releaseFrom: i64 = 0): u32 {
  const v = vm();
  v.blockedByRelease = false;
  const cfgLease = currentLease;
  if (cfgLease == null) return 0;
  let spent = releaseSpent;
  if (!release) {
    if (!v.ledger.claimLeaseCall(key, window, nowNs, nowNs + inFlightNs(cfgLease))) {
      v.blockedByRelease = true;
      return 0;
    }
    spent = v.ledger.state.spent;
  }
  const body = new ByteBuffer(256);
  body.pushString("{\"nodeId\":\"");
  body.pushJsonEscaped(nodeId());
  body.pushString("\",\"leases\":[{\"budget\":\"");
  body.pushJsonEscaped(limitName);
  body.pushString("\",\"key\":\"");
  body.pushJsonEscaped(counterKey);
  body.pushString("\",\"spent\":");
  body.pushInt(spent);
  body.pushString(",\"want\":");
  body.pushInt(want);
  if (release) {
    // The grant released from: the service ignores the release if it has granted more since (a
    // delayed call must not take back units this Envoy holds again).
    body.pushString(",\"release\":true,\"granted\":");
    body.pushInt(releaseFrom);
  }
  body.pushString("}]}");
  const headers: Array<HeaderPair> = [
    new HeaderPair(":method", "POST"),
    new HeaderPair(":path", cfgLease.path),
    new HeaderPair(":authority", cfgLease.authority),
    new HeaderPair("content-type", "application/json"),
  ];
  if (cfgLease.authorization.length > 0) headers.push(new HeaderPair("authorization", cfgLease.authorization));
  return httpCall(cfgLease.cluster, headers, Uint8Array.wrap(body.data.buffer, 0, body.length), new Array<HeaderPair>(0), cfgLease.timeoutMs);
}

let currentLease: LeaseConfig | null = null;

/** The root context sets the lease target of its current configuration. */
export function setLeaseConfig(l: LeaseConfig | null): void {
  currentLease = l;
}

/** This Envoy's id for the lease service: `xds.node.id`, else a random id shared by the workers. */
function nodeId(): string {
  const v = vm();
  if (v.nodeId.length > 0) return v.nodeId;
  const id = getPropertyString(["xds", "node", "id"]);
  if (id != null && id.length > 0) {
    v.nodeId = id;
    return id;
  }
  const key = "meshward.budget.node";
  for (let i = 0; i < 8; i++) {
    const cur = getSharedData(key);
    if (cur != null && cur.value.byteLength > 0) {
      v.nodeId = String.UTF8.decode(cur.value);
      return v.nodeId;
    }
    const fresh = "envoy-" + getCurrentTimeNanoseconds().toString(16);
    if (setSharedData(key, Uint8Array.wrap(String.UTF8.encode(fresh)), CREATE_CAS) == WasmResult.Ok) {
      v.nodeId = fresh;
      return fresh;
    }
  }
  v.nodeId = "envoy-unknown";
  return v.nodeId;
}

/**
 * The root context's onHttpCallResponse: applies the grants to shared data and resumes the
 * streams waiting on this call (each with itself as the effective context). Returns false when
 * the token is not a lease call.
 */
export function onLeaseResponse(token: u32, bodySize: u32): bool {
  const v = vm();
  if (!v.calls.has(token)) return false;
  const call = v.calls.get(token);
  v.calls.delete(token);
  const status = getHeader(MapType.HttpCallResponseHeaders, ":status");
  let ok = false;
  if (status != null && status == "200" && bodySize > 0) {
    const buf = getHttpCallResponseBody(0, bodySize);
    if (buf != null) ok = applyGrants(Uint8Array.wrap(buf), call.release ? call.key : "");
  }
  v.count(ok ? "meshward.budget.lease.grants" : "meshward.budget.lease.failures", 1);
  for (let i = 0; i < call.waiters.length; i++) {
    const g = call.waiters[i];
    g.leaseFailed = !ok;
    // A stream that is gone (client reset while waiting) cannot be resumed.
    if (setEffectiveContext(g.contextId) != WasmResult.Ok) continue;
    g.resume();
  }
  return true;
}

/** Applies a lease answer; false when it is not one. `releasedKey`: the counter of a release call. */
function applyGrants(bytes: Uint8Array, releasedKey: string): bool {
  const r = parseJson(bytes);
  if (r.value == null) return false;
  const leases = r.value!.get("leases");
  if (leases == null || leases.kind != JsonKind.Array) return false;
  const v = vm();
  const cfg = currentBudgets;
  if (cfg == null) return false;
  for (let i = 0; i < leases.items.length; i++) {
    const l = leases.items[i];
    const name = l.get("budget");
    const key = l.get("key");
    const granted = l.get("granted");
    const ws = l.get("windowStartMs");
    if (name == null || key == null || granted == null || ws == null) continue;
    if (name.kind != JsonKind.String || key.kind != JsonKind.String || granted.kind != JsonKind.Number || ws.kind != JsonKind.Number) continue;
    for (let j = 0; j < cfg.limits.length; j++) {
      const lim = cfg.limits[j];
      if (lim.name != name.str) continue;
      const window = windowIndex(<u64>ws.num * 1_000_000, windowSeconds(lim.window));
      const k = "meshward.budget." + lim.name + "|" + key.str;
      v.ledger.grant(k, window, <i64>granted.num, k == releasedKey);
      if (!v.held.has(k)) v.held.set(k, new HeldCounter(lim.name, key.str));
    }
  }
  return true;
}

let currentBudgets: BudgetConfig | null = null;

// ---- idle release (the root context's tick) -------------------------------------------------------

/** Tick period while streams wait for a release call to finish. */
const PARKED_TICK_MS: u32 = 20;
/** The longest tick period of the idle release. */
const MAX_RELEASE_TICK_MS: u32 = 5000;

/**
 * The root context's tick period for the budgets (ms; 0 = no tick): with leases and
 * `release_after_ms` > 0, min(release_after_ms / 4, 5 s), and 20 ms while streams are parked.
 */
export function budgetTickPeriodMs(): u32 {
  const l = currentLease;
  if (l == null) return 0;
  if (vm().parked.length > 0) return PARKED_TICK_MS;
  if (l.releaseAfterMs == 0) return 0;
  const p = l.releaseAfterMs / 4;
  return p < MAX_RELEASE_TICK_MS ? p : MAX_RELEASE_TICK_MS;
}

/**
 * Sets the tick of the current callback's root context to budgetTickPeriodMs() when it changed
 * (`force`: always, e.g. from a new root context's onConfigure).
 */
export function syncBudgetTick(force: bool = false): void {
  const v = vm();
  const p = budgetTickPeriodMs();
  if (p == v.tickMs && !force) return;
  v.tickMs = p;
  setTickPeriodMilliseconds(p);
}

/** Parks `g` until the release call in flight is over; the tick re-admits it. */
function park(g: BudgetGate): void {
  vm().parked.push(g);
  syncBudgetTick();
}

/**
 * The root context's onTick: (1) re-admits parked streams (each asks for its lease again, or parks
 * again while the release is still in flight); (2) keeps counters with open streams of this VM
 * active; (3) for each counter this VM holds a grant on, gives back grant − spent when it has been
 * idle for `release_after_ms` (the local grant is lowered first, with CAS, so no worker can spend
 * the part given back; only the worker whose CAS succeeds sends the call; a failed call loses
 * nothing: the control plane still counts the old grant).
 */
export function onBudgetTick(): void {
  const v = vm();
  const lease = currentLease;
  const cfg = currentBudgets;
  const now = getCurrentTimeNanoseconds();
  if (v.parked.length > 0) {
    const waiting = v.parked;
    v.parked = [];
    for (let i = 0; i < waiting.length; i++) {
      const g = waiting[i];
      if (setEffectiveContext(g.contextId) != WasmResult.Ok) continue; // the stream is gone
      g.resume();
    }
  }
  if (lease != null && cfg != null && lease.releaseAfterMs > 0) {
    const open = v.open.values();
    for (let i = 0; i < open.length; i++) {
      const plan = open[i].plan;
      if (plan == null) continue;
      for (let j = 0; j < plan.entries.length; j++) v.ledger.touch(plan.entries[j].key, plan.entries[j].window, now);
    }
    const idleNs: u64 = <u64>lease.releaseAfterMs * 1_000_000;
    const keys = v.held.keys();
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const h = v.held.get(k);
      let lim: BudgetLimit | null = null;
      for (let j = 0; j < cfg.limits.length; j++) {
        if (cfg.limits[j].name == h.limitName) lim = cfg.limits[j];
      }
      if (lim == null) {
        v.held.delete(k);
        continue;
      }
      const window = windowIndex(now, windowSeconds(lim.window));
      const r = v.ledger.release(k, window, now, idleNs, now + inFlightNs(lease));
      if (r == RELEASE_NONE) {
        v.held.delete(k);
        continue;
      }
      if (r != RELEASE_DONE) continue;
      const back = v.ledger.releasedUnits;
      const spent = v.ledger.state.spent;
      const token = sendLeaseCall(lim.name, h.counterKey, k, window, 0, true, now, spent, spent + back);
      v.count("meshward.budget." + statValue(lim.name) + ".released", back);
      if (token != 0) {
        const call = new LeaseCall();
        call.release = true;
        call.key = k;
        v.calls.set(token, call);
      }
      v.held.delete(k);
      if (logEnabled(LogLevel.Debug)) {
        logDebug("meshward: budget '" + lim.name + "' key '" + h.counterKey + "': idle, gave back " + back.toString() + " units (grant now " + spent.toString() + ")" + (token == 0 ? "; the release call could not be sent" : ""));
      }
    }
  }
  syncBudgetTick();
}

/** The root context sets the budgets of its current configuration (for applying grants). */
export function setBudgetConfig(b: BudgetConfig | null): void {
  currentBudgets = b;
  setLeaseConfig(b == null ? null : b.lease);
}

// ---- helpers -----------------------------------------------------------------------------------------

/** The identity configured for `key`'s SHA-256, or "". Compares all digests (no early exit). */
function apiKeyIdentity(b: BudgetConfig, key: string): string {
  let k = key;
  if (k.startsWith("Bearer ") || k.startsWith("bearer ")) k = k.substring(7);
  const bytes = Uint8Array.wrap(String.UTF8.encode(k));
  const digest = new Uint8Array(32);
  sha256(bytes.dataStart, bytes.length, digest);
  let found = "";
  for (let i = 0; i < b.apiKeys.length; i++) {
    const d = b.apiKeys[i].sha256;
    let diff = 0;
    for (let j = 0; j < 32; j++) diff |= <i32>(d[j] ^ digest[j]);
    if (diff == 0 && found.length == 0) found = b.apiKeys[i].identity;
  }
  return found;
}

/** OpenAI-style error body. `param` "" → null. */
export function errorJson(message: string, type: string, param: string, code: string): string {
  const b = new ByteBuffer(128);
  b.pushString("{\"error\":{\"message\":\"");
  b.pushJsonEscaped(message);
  b.pushString("\",\"type\":\"");
  b.pushString(type);
  b.pushString("\",\"param\":");
  if (param.length == 0) b.pushString("null");
  else {
    b.pushString("\"");
    b.pushJsonEscaped(param);
    b.pushString("\"");
  }
  b.pushString(",\"code\":\"");
  b.pushString(code);
  b.pushString("\"}}");
  return b.toString();
}
