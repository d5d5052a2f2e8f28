// Proxy-Wasm ABI v0.2.1 constants as the host sees them (spec "Types"; filter statuses as
// proxy-wasm-cpp-host and Envoy interpret them).

/** proxy_status_t */
export const WasmResult = {
  Ok: 0,
  NotFound: 1,
  BadArgument: 2,
  SerializationFailure: 3,
  ParseFailure: 4,
  BadExpression: 5,
  InvalidMemoryAccess: 6,
  Empty: 7,
  CasMismatch: 8,
  ResultMismatch: 9,
  InternalFailure: 10,
  BrokenConnection: 11,
  Unimplemented: 12,
} as const;
export type WasmResultCode = (typeof WasmResult)[keyof typeof WasmResult];

/** proxy_log_level_t; Envoy's default level is Info. */
export const LogLevel = { Trace: 0, Debug: 1, Info: 2, Warn: 3, Error: 4, Critical: 5 } as const;
export type LogLevelValue = (typeof LogLevel)[keyof typeof LogLevel];
export const LOG_LEVEL_NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'critical'] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];

/** proxy_buffer_type_t (max 8). */
export const BufferType = {
  HttpRequestBody: 0,
  HttpResponseBody: 1,
  DownstreamData: 2,
  UpstreamData: 3,
  HttpCallResponseBody: 4,
  GrpcReceiveBuffer: 5,
  VmConfiguration: 6,
  PluginConfiguration: 7,
  CallData: 8,
} as const;
export const BUFFER_TYPE_MAX = 8;

/** proxy_map_type_t (max 7). */
export const MapType = {
  HttpRequestHeaders: 0,
  HttpRequestTrailers: 1,
  HttpResponseHeaders: 2,
  HttpResponseTrailers: 3,
  GrpcReceiveInitialMetadata: 4,
  GrpcReceiveTrailingMetadata: 5,
  HttpCallResponseHeaders: 6,
  HttpCallResponseTrailers: 7,
} as const;
export const MAP_TYPE_MAX = 7;

/** proxy_stream_type_t (max 3). */
export const StreamType = { HttpRequest: 0, HttpResponse: 1, Downstream: 2, Upstream: 3 } as const;
export const STREAM_TYPE_MAX = 3;

/** proxy_metric_type_t; Envoy keeps the type in the low two bits of each metric id. */
export const MetricType = { Counter: 0, Gauge: 1, Histogram: 2 } as const;
export const METRIC_TYPE_MAX = 2;
export const METRIC_TYPE_MASK = 0x3;
export const METRIC_ID_INCREMENT = 0x4;

/** Envoy/proxy-wasm FilterHeadersStatus. */
export const FilterHeadersStatus = {
  Continue: 0,
  StopIteration: 1,
  ContinueAndEndStream: 2,
  StopAllIterationAndBuffer: 3,
  StopAllIterationAndWatermark: 4,
} as const;

/** Envoy/proxy-wasm FilterDataStatus (values above 3 become StopIterationNoBuffer). */
export const FilterDataStatus = {
  Continue: 0,
  StopIterationAndBuffer: 1,
  StopIterationAndWatermark: 2,
  StopIterationNoBuffer: 3,
} as const;

/** Envoy/proxy-wasm FilterTrailersStatus (values above 1 become StopIteration). */
export const FilterTrailersStatus = { Continue: 0, StopIteration: 1 } as const;

/** WASI errno values Envoy returns. */
export const WasiErrno = {
  Success: 0,
  Badf: 8,
  Notdir: 20,
  Fault: 21,
  Inval: 28,
  Noent: 44,
  Nosys: 52,
  Notsup: 58,
} as const;
