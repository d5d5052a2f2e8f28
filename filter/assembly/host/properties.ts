// Envoy properties (attributes) through proxy_get_property / proxy_set_property.
//
// A path is a list of segments (e.g. ["connection", "uri_san_peer_certificate"]), sent joined by
// NUL bytes. A missing property returns null: it never traps or exits the VM. Envoy's value
// encodings: strings and bytes raw; int64/uint64/duration/timestamp as 8 bytes little-endian
// (timestamp and duration in nanoseconds); bool as 1 byte; maps in the header-map encoding.
// request.* attributes come from the request headers, so they are only readable while those are.
// set_property stores filter state that get_property on the same path reads back (NotFound in
// the root context).
import * as calls from "../abi/calls";
import { HeaderPair, deserializePairs } from "../abi/pairs";
import { WasmResult } from "../abi/types";

function encodePath(path: Array<string>): ArrayBuffer {
  let joined = "";
  for (let i = 0; i < path.length; i++) {
    if (i > 0) joined += "\0";
    joined += unchecked(path[i]);
  }
  return String.UTF8.encode(joined);
}

/** Raw property bytes, or null when absent (NotFound) or unserializable. */
export function getProperty(path: Array<string>): ArrayBuffer | null {
  return calls.getProperty(encodePath(path));
}

/** Property decoded as UTF-8, or null. */
export function getPropertyString(path: Array<string>): string | null {
  const bytes = calls.getProperty(encodePath(path));
  return bytes === null ? null : String.UTF8.decode(bytes);
}

/** True when the property is present and is an 8-byte integer; read it with lastPropertyI64(). */
let i64Value: i64 = 0;
export function getPropertyI64(path: Array<string>): bool {
  const bytes = calls.getProperty(encodePath(path));
  if (bytes === null || bytes.byteLength != 8) return false;
  i64Value = load<i64>(changetype<usize>(bytes));
  return true;
}
/** Value read by the last successful getPropertyI64(). */
export function lastPropertyI64(): i64 {
  return i64Value;
}

/** A boolean property (1 byte), or `fallback` when absent or of another shape. */
export function getPropertyBool(path: Array<string>, fallback: bool = false): bool {
  const bytes = calls.getProperty(encodePath(path));
  if (bytes === null || bytes.byteLength != 1) return fallback;
  return load<u8>(changetype<usize>(bytes)) != 0;
}

/** A map-valued property (e.g. ["request", "headers"]), or null. */
export function getPropertyMap(path: Array<string>): Array<HeaderPair> | null {
  const bytes = calls.getProperty(encodePath(path));
  return bytes === null ? null : deserializePairs(bytes);
}

/** Stores `value` under `path` (filter state). */
export function setProperty(path: Array<string>, value: Uint8Array): WasmResult {
  return calls.setProperty(encodePath(path), value);
}

/** Stores a UTF-8 string under `path`. */
export function setPropertyString(path: Array<string>, value: string): WasmResult {
  return calls.setProperty(encodePath(path), Uint8Array.wrap(String.UTF8.encode(value)));
}

/** The root id of this plugin (Envoy's root_id; "" when unset). */
export function getPluginRootId(): string {
  const v = getPropertyString(["plugin_root_id"]);
  return v === null ? "" : v;
}
