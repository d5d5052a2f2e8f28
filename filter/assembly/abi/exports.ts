// Callbacks the module exports to the host (Proxy-Wasm ABI v0.2.1). Each one forwards to the
// installed Dispatcher (context/base.ts installs the context registry). Every callback is safe to
// receive before a dispatcher exists: it does nothing and returns the "let traffic pass" value.
//
// The entry file re-exports these names; the host finds them by name.
// The abort replacement must be part of every program (asconfig: --use abort=...).
import "./abort";
export { proxy_on_memory_allocate } from "./memory";

/** The receiving side of all proxy_on_* callbacks; context/base.ts implements it. */
export abstract class Dispatcher {
  abstract onContextCreate(contextId: u32, parentContextId: u32): void;
  abstract onVmStart(contextId: u32, vmConfigurationSize: u32): bool;
  abstract onConfigure(contextId: u32, pluginConfigurationSize: u32): bool;
  abstract onTick(contextId: u32): void;
  abstract onQueueReady(contextId: u32, queueId: u32): void;
  abstract onHttpCallResponse(contextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void;
  abstract onForeignFunction(contextId: u32, functionId: u32, argumentsSize: u32): void;
  abstract onRequestHeaders(contextId: u32, numHeaders: u32, endOfStream: bool): u32;
  abstract onRequestBody(contextId: u32, bodySize: u32, endOfStream: bool): u32;
  abstract onRequestTrailers(contextId: u32, numTrailers: u32): u32;
  abstract onResponseHeaders(contextId: u32, numHeaders: u32, endOfStream: bool): u32;
  abstract onResponseBody(contextId: u32, bodySize: u32, endOfStream: bool): u32;
  abstract onResponseTrailers(contextId: u32, numTrailers: u32): u32;
  abstract onDone(contextId: u32): bool;
  abstract onLog(contextId: u32): void;
  abstract onDelete(contextId: u32): void;
}

let dispatcher: Dispatcher | null = null;

/** Installs the receiver of all callbacks (one per module). */
export function setDispatcher(receiver: Dispatcher): void {
  dispatcher = receiver;
}

/** Marker export: tells the host this module speaks ABI v0.2.1. */
export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_context_create(contextId: u32, parentContextId: u32): void {
  const d = dispatcher;
  if (d) d.onContextCreate(contextId, parentContextId);
}

export function proxy_on_vm_start(contextId: u32, vmConfigurationSize: u32): u32 {
  const d = dispatcher;
  return d ? <u32>d.onVmStart(contextId, vmConfigurationSize) : 1;
}

export function proxy_on_configure(contextId: u32, pluginConfigurationSize: u32): u32 {
  const d = dispatcher;
  return d ? <u32>d.onConfigure(contextId, pluginConfigurationSize) : 1;
}

export function proxy_on_tick(contextId: u32): void {
  const d = dispatcher;
  if (d) d.onTick(contextId);
}

export function proxy_on_queue_ready(contextId: u32, queueId: u32): void {
  const d = dispatcher;
  if (d) d.onQueueReady(contextId, queueId);
}

export function proxy_on_http_call_response(contextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
  const d = dispatcher;
  if (d) d.onHttpCallResponse(contextId, token, numHeaders, bodySize, numTrailers);
}

export function proxy_on_foreign_function(contextId: u32, functionId: u32, argumentsSize: u32): void {
  const d = dispatcher;
  if (d) d.onForeignFunction(contextId, functionId, argumentsSize);
}

export function proxy_on_request_headers(contextId: u32, numHeaders: u32, endOfStream: u32): u32 {
  const d = dispatcher;
  return d ? d.onRequestHeaders(contextId, numHeaders, endOfStream != 0) : 0;
}

export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: u32): u32 {
  const d = dispatcher;
  return d ? d.onRequestBody(contextId, bodySize, endOfStream != 0) : 0;
}

export function proxy_on_request_trailers(contextId: u32, numTrailers: u32): u32 {
  const d = dispatcher;
  return d ? d.onRequestTrailers(contextId, numTrailers) : 0;
}

export function proxy_on_response_headers(contextId: u32, numHeaders: u32, endOfStream: u32): u32 {
  const d = dispatcher;
  return d ? d.onResponseHeaders(contextId, numHeaders, endOfStream != 0) : 0;
}

export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: u32): u32 {
  const d = dispatcher;
  return d ? d.onResponseBody(contextId, bodySize, endOfStream != 0) : 0;
}

export function proxy_on_response_trailers(contextId: u32, numTrailers: u32): u32 {
  const d = dispatcher;
  return d ? d.onResponseTrailers(contextId, numTrailers) : 0;
}

export function proxy_on_done(contextId: u32): u32 {
  const d = dispatcher;
  return d ? <u32>d.onDone(contextId) : 1;
}

export function proxy_on_log(contextId: u32): void {
  const d = dispatcher;
  if (d) d.onLog(contextId);
}

export function proxy_on_delete(contextId: u32): void {
  const d = dispatcher;
  if (d) d.onDelete(contextId);
}
