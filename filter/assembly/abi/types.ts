// Proxy-Wasm ABI v0.2.1 enumerations, with the values of the spec (abi-versions/v0.2.1, "Types")
// and of proxy-wasm-cpp-host's filter status enums, which Envoy uses to interpret callback returns.

/** proxy_status_t: every host call returns one of these. */
export enum WasmResult {
  Ok = 0,
  NotFound = 1,
  BadArgument = 2,
  SerializationFailure = 3,
  ParseFailure = 4,
  BadExpression = 5,
  InvalidMemoryAccess = 6,
  Empty = 7,
  CasMismatch = 8,
  ResultMismatch = 9,
  InternalFailure = 10,
  BrokenConnection = 11,
  Unimplemented = 12,
}

/** proxy_log_level_t. Envoy rejects anything above Critical with BadArgument. */
export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
  Critical = 5,
}

/** proxy_buffer_type_t. */
export enum BufferType {
  HttpRequestBody = 0,
  HttpResponseBody = 1,
  DownstreamData = 2,
  UpstreamData = 3,
  HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5,
  VmConfiguration = 6,
  PluginConfiguration = 7,
  CallData = 8,
}

/** proxy_map_type_t. */
export enum MapType {
  HttpRequestHeaders = 0,
  HttpRequestTrailers = 1,
  HttpResponseHeaders = 2,
  HttpResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4,
  GrpcReceiveTrailingMetadata = 5,
  HttpCallResponseHeaders = 6,
  HttpCallResponseTrailers = 7,
}

/** proxy_stream_type_t. */
export enum StreamType {
  HttpRequest = 0,
  HttpResponse = 1,
  Downstream = 2,
  Upstream = 3,
}

/**
 * proxy_metric_type_t. Envoy encodes the type in the low two bits of every metric id it hands out.
 */
export enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}

/**
 * Return value of proxy_on_request_headers / proxy_on_response_headers.
 * Envoy (ABI 0.2.x) turns StopIteration into StopAllIterationAndWatermark unless the plugin sets
 * allow_on_headers_stop_iteration: the body callbacks then do not run until proxy_continue_stream.
 */
export enum FilterHeadersStatus {
  Continue = 0,
  StopIteration = 1,
  ContinueAndEndStream = 2,
  StopAllIterationAndBuffer = 3,
  StopAllIterationAndWatermark = 4,
}

/** Return value of proxy_on_request_body / proxy_on_response_body (values above 3 mean NoBuffer). */
export enum FilterDataStatus {
  /** Forward what is held plus this chunk. */
  Continue = 0,
  /** Envoy keeps accumulating; the next callback's body_size is the total and get/set work on it all. */
  StopIterationAndBuffer = 1,
  /** Held, but the next callback sees only the new chunk. */
  StopIterationAndWatermark = 2,
  /** The chunk is not kept for this filter. */
  StopIterationNoBuffer = 3,
}

/** Return value of proxy_on_request_trailers / proxy_on_response_trailers. */
export enum FilterTrailersStatus {
  Continue = 0,
  StopIteration = 1,
}

/** proxy_peer_type_t. */
export enum PeerType {
  Unknown = 0,
  Local = 1,
  Remote = 2,
}
