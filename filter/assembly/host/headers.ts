// Header maps (request/response headers and trailers, HTTP call response headers/trailers).
//
// Envoy contract (source/extensions/common/wasm/context.cc): a map is readable and writable only
// during its own callback (and until proxy_continue_stream if the callback stopped); afterwards
// get/add/replace/remove/size return BadArgument. In proxy_on_log maps are readable, not
// writable. Keys are lower-cased by Envoy; a get returns the first value of a repeated header.
// Capture what you need in the headers callback.
import * as calls from "../abi/calls";
import { HeaderPair, deserializePairs, serializePairs } from "../abi/pairs";
import { MapType, WasmResult } from "../abi/types";

export { HeaderPair, MapType };

/** Value of the first `name` header, or null when absent or the map is not available. */
export function getHeader(map: MapType, name: string): string | null {
  const value = calls.getHeaderMapValue(<u32>map, String.UTF8.encode(name));
  if (value === null) return null;
  return String.UTF8.decode(value);
}

/** Raw bytes of the first `name` header (no UTF-8 decoding), or null. */
export function getHeaderBytes(map: MapType, name: string): ArrayBuffer | null {
  return calls.getHeaderMapValue(<u32>map, String.UTF8.encode(name));
}

/** All pairs in order, or null when the host refused. An unavailable map reads as empty in Envoy. */
export function getHeaders(map: MapType): Array<HeaderPair> | null {
  const serialized = calls.getHeaderMapPairs(<u32>map);
  if (serialized === null) return null;
  return deserializePairs(serialized);
}

/** Replaces the whole map with `pairs`. */
export function setHeaders(map: MapType, pairs: Array<HeaderPair>): WasmResult {
  return calls.setHeaderMapPairs(<u32>map, serializePairs(pairs));
}

/** Appends a value (a second `name` header if one exists). */
export function addHeader(map: MapType, name: string, value: string): WasmResult {
  return calls.addHeaderMapValue(<u32>map, String.UTF8.encode(name), String.UTF8.encode(value));
}

/** Sets `name` to `value`, replacing existing values (adds it when absent). */
export function replaceHeader(map: MapType, name: string, value: string): WasmResult {
  return calls.replaceHeaderMapValue(<u32>map, String.UTF8.encode(name), String.UTF8.encode(value));
}

/** Removes every `name` header (Ok when there was none). */
export function removeHeader(map: MapType, name: string): WasmResult {
  return calls.removeHeaderMapValue(<u32>map, String.UTF8.encode(name));
}

/** Sum of key and value byte lengths, or -1 when the map is not available. */
export function getHeaderMapSize(map: MapType): i64 {
  return calls.getHeaderMapSize(<u32>map);
}

// Shorthands for the four HTTP maps ----------------------------------------------------------------

export function getRequestHeader(name: string): string | null {
  return getHeader(MapType.HttpRequestHeaders, name);
}
export function getResponseHeader(name: string): string | null {
  return getHeader(MapType.HttpResponseHeaders, name);
}
export function getRequestHeaders(): Array<HeaderPair> | null {
  return getHeaders(MapType.HttpRequestHeaders);
}
export function getResponseHeaders(): Array<HeaderPair> | null {
  return getHeaders(MapType.HttpResponseHeaders);
}
export function replaceRequestHeader(name: string, value: string): WasmResult {
  return replaceHeader(MapType.HttpRequestHeaders, name, value);
}
export function replaceResponseHeader(name: string, value: string): WasmResult {
  return replaceHeader(MapType.HttpResponseHeaders, name, value);
}
export function removeRequestHeader(name: string): WasmResult {
  return removeHeader(MapType.HttpRequestHeaders, name);
}
export function removeResponseHeader(name: string): WasmResult {
  return removeHeader(MapType.HttpResponseHeaders, name);
}

/** Finds the first value of `name` (lower-case) in already-fetched pairs. */
export function findHeader(pairs: Array<HeaderPair>, name: string): string | null {
  for (let i = 0; i < pairs.length; i++) {
    const p = unchecked(pairs[i]);
    if (p.key == name) return p.value;
  }
  return null;
}
