// HTTP bodies and other byte buffers.
//
// Zero copy: the bytes Envoy copies into the module are the ArrayBuffer you get back (no second
// copy); wrap it with Uint8Array.wrap() or use getRequestBodyView() for a view.
//
// What a body callback sees depends on what the previous body callback returned (Envoy):
// after StopIterationAndBuffer the buffer is everything accumulated so far; otherwise only the
// current chunk. Writes follow Envoy's set_buffer_bytes rules: start 0 drains `length` bytes and
// prepends the data (so replaceBody passes the current size), start at or past the end appends,
// anything else is BadArgument.
import * as calls from "../abi/calls";
import { BufferType, WasmResult } from "../abi/types";

export { BufferType };

/** Bytes [start, start+maxSize) of the buffer (clamped; empty past the end), or null. */
export function getBuffer(type: BufferType, start: u32 = 0, maxSize: u32 = u32.MAX_VALUE): ArrayBuffer | null {
  return calls.getBufferBytes(<u32>type, start, maxSize);
}

/** Like getBuffer, as a Uint8Array view over the same bytes. */
export function getBufferView(type: BufferType, start: u32 = 0, maxSize: u32 = u32.MAX_VALUE): Uint8Array | null {
  const bytes = calls.getBufferBytes(<u32>type, start, maxSize);
  return bytes === null ? null : Uint8Array.wrap(bytes);
}

/** Current size of the buffer, or -1 when it is not available (see lastStatus()). */
export function getBufferSize(type: BufferType): i64 {
  return calls.getBufferStatus(<u32>type);
}

/** Raw proxy_set_buffer_bytes (see the rules above). */
export function setBuffer(type: BufferType, start: u32, length: u32, data: Uint8Array): WasmResult {
  return calls.setBufferBytes(<u32>type, start, length, data);
}

/** Replaces the whole buffer with `data`. */
export function replaceBuffer(type: BufferType, data: Uint8Array): WasmResult {
  const size = calls.getBufferStatus(<u32>type);
  if (size < 0) return calls.lastStatus();
  return calls.setBufferBytes(<u32>type, 0, <u32>size, data);
}

/** Appends `data` at the end of the buffer. */
export function appendBuffer(type: BufferType, data: Uint8Array): WasmResult {
  const size = calls.getBufferStatus(<u32>type);
  if (size < 0) return calls.lastStatus();
  return calls.setBufferBytes(<u32>type, <u32>size, 0, data);
}

/** Inserts `data` before the buffer's content. */
export function prependBuffer(type: BufferType, data: Uint8Array): WasmResult {
  return calls.setBufferBytes(<u32>type, 0, 0, data);
}

export function getRequestBody(start: u32 = 0, maxSize: u32 = u32.MAX_VALUE): ArrayBuffer | null {
  return getBuffer(BufferType.HttpRequestBody, start, maxSize);
}
export function getResponseBody(start: u32 = 0, maxSize: u32 = u32.MAX_VALUE): ArrayBuffer | null {
  return getBuffer(BufferType.HttpResponseBody, start, maxSize);
}
export function getRequestBodyView(start: u32 = 0, maxSize: u32 = u32.MAX_VALUE): Uint8Array | null {
  return getBufferView(BufferType.HttpRequestBody, start, maxSize);
}
export function getResponseBodyView(start: u32 = 0, maxSize: u32 = u32.MAX_VALUE): Uint8Array | null {
  return getBufferView(BufferType.HttpResponseBody, start, maxSize);
}
export function replaceRequestBody(data: Uint8Array): WasmResult {
  return replaceBuffer(BufferType.HttpRequestBody, data);
}
export function replaceResponseBody(data: Uint8Array): WasmResult {
  return replaceBuffer(BufferType.HttpResponseBody, data);
}

/** The plugin configuration; readable in onConfigure only. Null when unavailable. */
export function getPluginConfiguration(): ArrayBuffer | null {
  return getBuffer(BufferType.PluginConfiguration);
}

/** The VM configuration; readable in onVmStart only. Null when unavailable. */
export function getVmConfiguration(): ArrayBuffer | null {
  return getBuffer(BufferType.VmConfiguration);
}

/** The body of an HTTP call response; readable in onHttpCallResponse only. */
export function getHttpCallResponseBody(start: u32 = 0, maxSize: u32 = u32.MAX_VALUE): ArrayBuffer | null {
  return getBuffer(BufferType.HttpCallResponseBody, start, maxSize);
}
