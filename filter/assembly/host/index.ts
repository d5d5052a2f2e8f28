/**
 * meshward's typed host API over Proxy-Wasm ABI v0.2.1 (AssemblyScript 0.28). Filter code imports
 * from here (and from ../context/base for RootContext/HttpContext); raw pointers and @external
 * host functions stay in ../abi.
 *
 * ## Contexts (../context/base.ts)
 * ```ts
 * class MyRoot extends RootContext {
 *   onConfigure(size: u32): bool { const cfg = getPluginConfiguration(); ...; return ok; }   // false = reject config
 *   createHttpContext(id: u32): HttpContext | null { return new MyHttp(id, this); }
 * }
 * class MyHttp extends HttpContext {
 *   onRequestHeaders(n: u32, endOfStream: bool): FilterHeadersStatus { ... return FilterHeadersStatus.Continue; }
 *   onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus { ... }
 * }
 * registerRootContext((id: u32): RootContext => new MyRoot(id), "");   // entry file, top level
 * ```
 * Never call host functions from module top-level code or constructors run at top level: Envoy
 * traps any host call other than proxy_log during _initialize. Define metrics in onConfigure.
 * Log level is cached and refreshed before onVmStart/onConfigure; nothing logs per callback.
 *
 * ## Envoy rules the API does not hide
 * - Headers callback: return Continue and stop in the body instead. StopIteration from a headers
 *   callback becomes StopAllIterationAndWatermark: body callbacks do not run until continueRequest().
 * - Header maps exist only during their own callback: capture what you need there (getRequestHeader
 *   returns null afterwards). Remove or fix content-length in the headers callback if the body may
 *   change (Envoy does not fix it).
 * - Body: StopIterationAndBuffer -> next bodySize is the total and getRequestBody() returns all of
 *   it; StopIterationAndWatermark -> the next callback sees only its chunk; a stop at end of stream
 *   needs continueRequest()/continueResponse() later or the stream hangs.
 *   replaceRequestBody(data) replaces the whole current buffer (it asks for the size first).
 * - sendLocalResponse from a request callback: the reply passes through this plugin's own
 *   onResponseHeaders/onResponseBody (do not re-inspect it blindly); the callback's return value
 *   is then ignored.
 * - Properties: getPropertyString(["connection", "uri_san_peer_certificate"]) is the peer's SPIFFE
 *   ID under mTLS; request.* properties only while the request headers are readable. Missing ->
 *   null, never a trap.
 * - Shared data: getSharedData(key) -> { value, cas }; setSharedData(key, bytes, cas) returns
 *   CasMismatch when someone else wrote first: re-read and retry. Shared by all worker VMs.
 *
 * ## Ownership
 * Every ArrayBuffer returned (bodies, header values, properties, shared data, configuration) is
 * owned by the caller and is exactly the memory the host wrote into (zero copy): the allocator
 * export pins each block until the binding adopts it, so the incremental GC cannot reclaim it
 * while the host writes. Use Uint8Array.wrap(buf) / getRequestBodyView() for byte scanning.
 * `null` means "refused / absent"; the reason is in lastStatus() of ../abi/calls (re-exported here
 * as hostStatus()). An empty but present value is an empty ArrayBuffer.
 */
export {
  HeaderPair,
  MapType,
  addHeader,
  findHeader,
  getHeader,
  getHeaderBytes,
  getHeaderMapSize,
  getHeaders,
  getRequestHeader,
  getRequestHeaders,
  getResponseHeader,
  getResponseHeaders,
  removeHeader,
  removeRequestHeader,
  removeResponseHeader,
  replaceHeader,
  replaceRequestHeader,
  replaceResponseHeader,
  setHeaders,
} from "./headers";
export {
  BufferType,
  appendBuffer,
  getBuffer,
  getBufferSize,
  getBufferView,
  getHttpCallResponseBody,
  getPluginConfiguration,
  getRequestBody,
  getRequestBodyView,
  getResponseBody,
  getResponseBodyView,
  getVmConfiguration,
  prependBuffer,
  replaceBuffer,
  replaceRequestBody,
  replaceResponseBody,
  setBuffer,
} from "./body";
export {
  getPluginRootId,
  getProperty,
  getPropertyBool,
  getPropertyI64,
  getPropertyMap,
  getPropertyString,
  lastPropertyI64,
  setProperty,
  setPropertyString,
} from "./properties";
export { Counter, Gauge, Histogram, MetricType, defineMetric, getMetric, incrementMetric, metricStatus, recordMetric } from "./metrics";
export {
  SharedData,
  dequeueSharedQueue,
  enqueueSharedQueue,
  getSharedData,
  registerSharedQueue,
  resolveSharedQueue,
  setSharedData,
  sharedStatus,
} from "./shared-data";
export {
  StreamType,
  closeRequest,
  closeResponse,
  continueRequest,
  continueResponse,
  done,
  sendLocalResponse,
  sendLocalResponseString,
  setEffectiveContext,
} from "./stream";
export { getCurrentTimeNanoseconds, setTickPeriodMilliseconds } from "./time";
export { CalloutStatus, getCalloutStatus, httpCall, httpCallStatus } from "./http-call";
export { callForeignFunction, foreignStatus } from "./foreign";
export { log, logCritical, logDebug, logEnabled, logError, logInfo, logLevel, logTrace, logWarn, refreshLogLevel } from "./log";
export { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus, LogLevel, WasmResult } from "../abi/types";
export { lastStatus as hostStatus } from "../abi/calls";
