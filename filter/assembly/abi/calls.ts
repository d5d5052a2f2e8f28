// Thin, typed host calls. This file (with imports.ts and memory.ts) is the only code that touches
// raw pointers: callers pass and receive ArrayBuffer / Uint8Array, never addresses.
//
// Conventions:
// - Calls returning a value return null when the host refused; `lastStatus()` then tells why.
//   An Ok call with an empty value returns an empty ArrayBuffer (Envoy returns pointer 0, size 0).
// - Returned ArrayBuffers are owned by the caller (adopted from proxy_on_memory_allocate, no copy).
// - Secondary results (CAS of shared data, status code of proxy_get_status) are read with
//   `lastU32()` right after the call.
import * as host from "./imports";
import { OUT_PTR, OUT_SIZE, OUT_U32, OUT_U64, clearOut, takeOut } from "./memory";
import { WasmResult } from "./types";

let status: WasmResult = WasmResult.Ok;
let u32Result: u32 = 0;

/** Status of the most recent call made through this file. */
export function lastStatus(): WasmResult {
  return status;
}

/** Secondary u32 result of the most recent call (CAS, status code). */
export function lastU32(): u32 {
  return u32Result;
}

// @ts-ignore: decorator
@inline function ptr(buffer: ArrayBuffer): usize {
  return changetype<usize>(buffer);
}

// @ts-ignore: decorator
@inline function len(buffer: ArrayBuffer): usize {
  return <usize>buffer.byteLength;
}

function finish(result: u32): WasmResult {
  status = <WasmResult>result;
  return status;
}

function bytesOrNull(result: u32): ArrayBuffer | null {
  status = <WasmResult>result;
  if (result != WasmResult.Ok) return null;
  return takeOut();
}

// Logging ----------------------------------------------------------------------------------------

export function log(level: u32, message: ArrayBuffer): WasmResult {
  return finish(host.proxy_log(level, ptr(message), len(message)));
}

/** Current host log level, or -1 when the host refused. */
export function getLogLevel(): i32 {
  clearOut();
  if (finish(host.proxy_get_log_level(OUT_U32)) != WasmResult.Ok) return -1;
  return <i32>load<u32>(OUT_U32);
}

// Clock and timers -------------------------------------------------------------------------------

/** Wall-clock time in nanoseconds since the Unix epoch (0 when the host refused). */
export function getCurrentTimeNanoseconds(): u64 {
  clearOut();
  if (finish(host.proxy_get_current_time_nanoseconds(OUT_U64)) != WasmResult.Ok) return 0;
  return load<u64>(OUT_U64);
}

export function setTickPeriodMilliseconds(periodMs: u32): WasmResult {
  return finish(host.proxy_set_tick_period_milliseconds(periodMs));
}

// Properties -------------------------------------------------------------------------------------

/** `path` is the property path with segments joined by NUL bytes. */
export function getProperty(path: ArrayBuffer): ArrayBuffer | null {
  clearOut();
  return bytesOrNull(host.proxy_get_property(ptr(path), len(path), OUT_PTR, OUT_SIZE));
}

export function setProperty(path: ArrayBuffer, value: Uint8Array): WasmResult {
  return finish(host.proxy_set_property(ptr(path), len(path), value.dataStart, <usize>value.byteLength));
}

// Buffers ----------------------------------------------------------------------------------------

export function getBufferBytes(bufferType: u32, start: u32, maxSize: u32): ArrayBuffer | null {
  clearOut();
  return bytesOrNull(host.proxy_get_buffer_bytes(bufferType, start, maxSize, OUT_PTR, OUT_SIZE));
}

/** Size of the buffer, or -1 when the host refused (see lastStatus()). */
export function getBufferStatus(bufferType: u32): i64 {
  clearOut();
  if (finish(host.proxy_get_buffer_status(bufferType, OUT_SIZE, OUT_U32)) != WasmResult.Ok) return -1;
  return <i64>load<u32>(OUT_SIZE);
}

export function setBufferBytes(bufferType: u32, start: u32, length: u32, data: Uint8Array): WasmResult {
  return finish(host.proxy_set_buffer_bytes(bufferType, start, length, data.dataStart, <usize>data.byteLength));
}

// Header maps ------------------------------------------------------------------------------------

/** Serialized pairs of the map (see pairs.ts), or null when the host refused. */
export function getHeaderMapPairs(mapType: u32): ArrayBuffer | null {
  clearOut();
  return bytesOrNull(host.proxy_get_header_map_pairs(mapType, OUT_PTR, OUT_SIZE));
}

export function setHeaderMapPairs(mapType: u32, serialized: ArrayBuffer): WasmResult {
  return finish(host.proxy_set_header_map_pairs(mapType, ptr(serialized), len(serialized)));
}

export function getHeaderMapValue(mapType: u32, key: ArrayBuffer): ArrayBuffer | null {
  clearOut();
  return bytesOrNull(host.proxy_get_header_map_value(mapType, ptr(key), len(key), OUT_PTR, OUT_SIZE));
}

export function addHeaderMapValue(mapType: u32, key: ArrayBuffer, value: ArrayBuffer): WasmResult {
  return finish(host.proxy_add_header_map_value(mapType, ptr(key), len(key), ptr(value), len(value)));
}

export function replaceHeaderMapValue(mapType: u32, key: ArrayBuffer, value: ArrayBuffer): WasmResult {
  return finish(host.proxy_replace_header_map_value(mapType, ptr(key), len(key), ptr(value), len(value)));
}

export function removeHeaderMapValue(mapType: u32, key: ArrayBuffer): WasmResult {
  return finish(host.proxy_remove_header_map_value(mapType, ptr(key), len(key)));
}

/** Sum of key and value lengths of the map, or -1 when the host refused. */
export function getHeaderMapSize(mapType: u32): i64 {
  clearOut();
  if (finish(host.proxy_get_header_map_size(mapType, OUT_U32)) != WasmResult.Ok) return -1;
  return <i64>load<u32>(OUT_U32);
}

// Stream control ---------------------------------------------------------------------------------

export function sendLocalResponse(
  statusCode: u32,
  details: ArrayBuffer,
  body: Uint8Array,
  serializedHeaders: ArrayBuffer,
  grpcStatus: i32,
): WasmResult {
  return finish(
    host.proxy_send_local_response(
      statusCode,
      ptr(details),
      len(details),
      body.dataStart,
      <usize>body.byteLength,
      ptr(serializedHeaders),
      len(serializedHeaders),
      grpcStatus,
    ),
  );
}

export function continueStream(streamType: u32): WasmResult {
  return finish(host.proxy_continue_stream(streamType));
}

export function closeStream(streamType: u32): WasmResult {
  return finish(host.proxy_close_stream(streamType));
}

/** Message of the last callout status; its code is lastU32(). */
export function getStatus(): ArrayBuffer | null {
  clearOut();
  const result = host.proxy_get_status(OUT_U32, OUT_PTR, OUT_SIZE);
  u32Result = load<u32>(OUT_U32);
  return bytesOrNull(result);
}

// Shared data and queues -------------------------------------------------------------------------

/** Value of a shared-data key; its CAS is lastU32(). Null with NotFound when absent. */
export function getSharedData(key: ArrayBuffer): ArrayBuffer | null {
  clearOut();
  const result = host.proxy_get_shared_data(ptr(key), len(key), OUT_PTR, OUT_SIZE, OUT_U32);
  u32Result = result == WasmResult.Ok ? load<u32>(OUT_U32) : 0;
  return bytesOrNull(result);
}

export function setSharedData(key: ArrayBuffer, value: Uint8Array, cas: u32): WasmResult {
  return finish(host.proxy_set_shared_data(ptr(key), len(key), value.dataStart, <usize>value.byteLength, cas));
}

/** Queue id, or 0 when the host refused. */
export function registerSharedQueue(name: ArrayBuffer): u32 {
  clearOut();
  if (finish(host.proxy_register_shared_queue(ptr(name), len(name), OUT_U32)) != WasmResult.Ok) return 0;
  return load<u32>(OUT_U32);
}

/** Queue id, or 0 when the host refused (NotFound for an unknown queue). */
export function resolveSharedQueue(vmId: ArrayBuffer, name: ArrayBuffer): u32 {
  clearOut();
  if (finish(host.proxy_resolve_shared_queue(ptr(vmId), len(vmId), ptr(name), len(name), OUT_U32)) != WasmResult.Ok) return 0;
  return load<u32>(OUT_U32);
}

export function enqueueSharedQueue(queueId: u32, value: Uint8Array): WasmResult {
  return finish(host.proxy_enqueue_shared_queue(queueId, value.dataStart, <usize>value.byteLength));
}

/** Next item, or null (lastStatus() Empty when the queue is empty, NotFound for a bad id). */
export function dequeueSharedQueue(queueId: u32): ArrayBuffer | null {
  clearOut();
  return bytesOrNull(host.proxy_dequeue_shared_queue(queueId, OUT_PTR, OUT_SIZE));
}

// Metrics ----------------------------------------------------------------------------------------

/** Metric id (never 0 in Envoy), or 0 when the host refused. */
export function defineMetric(metricType: u32, name: ArrayBuffer): u32 {
  clearOut();
  if (finish(host.proxy_define_metric(metricType, ptr(name), len(name), OUT_U32)) != WasmResult.Ok) return 0;
  return load<u32>(OUT_U32);
}

export function incrementMetric(metricId: u32, delta: i64): WasmResult {
  return finish(host.proxy_increment_metric(metricId, delta));
}

export function recordMetric(metricId: u32, value: u64): WasmResult {
  return finish(host.proxy_record_metric(metricId, value));
}

/** Metric value; check lastStatus() (a histogram is BadArgument in Envoy). */
export function getMetric(metricId: u32): u64 {
  clearOut();
  if (finish(host.proxy_get_metric(metricId, OUT_U64)) != WasmResult.Ok) return 0;
  return load<u64>(OUT_U64);
}

// Callouts, contexts, foreign functions ----------------------------------------------------------

/** Call token, or 0 when the host refused (see lastStatus()). */
export function httpCall(
  upstream: ArrayBuffer,
  serializedHeaders: ArrayBuffer,
  body: Uint8Array,
  serializedTrailers: ArrayBuffer,
  timeoutMs: u32,
): u32 {
  clearOut();
  const result = host.proxy_http_call(
    ptr(upstream),
    len(upstream),
    ptr(serializedHeaders),
    len(serializedHeaders),
    body.dataStart,
    <usize>body.byteLength,
    ptr(serializedTrailers),
    len(serializedTrailers),
    timeoutMs,
    OUT_U32,
  );
  if (finish(result) != WasmResult.Ok) return 0;
  return load<u32>(OUT_U32);
}

export function setEffectiveContext(contextId: u32): WasmResult {
  return finish(host.proxy_set_effective_context(contextId));
}

export function done(): WasmResult {
  return finish(host.proxy_done());
}

export function callForeignFunction(name: ArrayBuffer, args: Uint8Array): ArrayBuffer | null {
  clearOut();
  return bytesOrNull(
    host.proxy_call_foreign_function(ptr(name), len(name), args.dataStart, <usize>args.byteLength, OUT_PTR, OUT_SIZE),
  );
}
