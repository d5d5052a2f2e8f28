// Envoy properties (CEL attributes) as get_property serves them.
//
// Serialization follows Envoy's serializeValue (source/extensions/common/wasm/context.cc):
// string and bytes raw; int64, uint64, timestamp and duration (nanoseconds) as 8 bytes
// little-endian; double as 8-byte IEEE 754; bool as 1 byte; maps in the header-map encoding of
// serialized keys and values (an empty map is 4 zero bytes); lists as the map encoding of
// (item, "") pairs. Paths are NUL-separated segments: the first names a top-level attribute, the
// next ones index maps (by key) and lists (by decimal index); anything else is NotFound.
import { EMPTY_BYTES, encodeUtf8 } from './bytes.js';
import { encodeBytePairs } from './pairs.js';

export type PropertyValue =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bytes'; readonly value: Uint8Array }
  | { readonly kind: 'int64'; readonly value: bigint }
  | { readonly kind: 'uint64'; readonly value: bigint }
  | { readonly kind: 'double'; readonly value: number }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'timestamp'; readonly nanos: bigint }
  | { readonly kind: 'duration'; readonly nanos: bigint }
  | { readonly kind: 'map'; readonly entries: readonly (readonly [string, PropertyValue])[] }
  | { readonly kind: 'list'; readonly items: readonly PropertyValue[] };

/**
 * What tests may pass for a property: strings -> string, integers (number/bigint) -> int64,
 * other numbers -> double, booleans -> bool, Uint8Array -> bytes, arrays -> list, plain objects ->
 * map (nested attributes), or an explicit PropertyValue ({ kind: ... }).
 */
export type PropertyInput =
  | string
  | number
  | bigint
  | boolean
  | Uint8Array
  | PropertyValue
  | readonly PropertyInput[]
  | { readonly [key: string]: PropertyInput };

const KINDS = new Set(['string', 'bytes', 'int64', 'uint64', 'double', 'bool', 'timestamp', 'duration', 'map', 'list']);

function isPropertyValue(input: object): input is PropertyValue {
  const kind = (input as { kind?: unknown }).kind;
  return typeof kind === 'string' && KINDS.has(kind);
}

export function toPropertyValue(input: PropertyInput): PropertyValue {
  if (typeof input === 'string') return { kind: 'string', value: input };
  if (typeof input === 'bigint') return { kind: 'int64', value: input };
  if (typeof input === 'number') {
    return Number.isInteger(input) ? { kind: 'int64', value: BigInt(input) } : { kind: 'double', value: input };
  }
  if (typeof input === 'boolean') return { kind: 'bool', value: input };
  if (input instanceof Uint8Array) return { kind: 'bytes', value: input };
  if (Array.isArray(input)) return { kind: 'list', items: input.map((i) => toPropertyValue(i as PropertyInput)) };
  if (isPropertyValue(input as object)) return input as PropertyValue;
  const entries = Object.entries(input as Record<string, PropertyInput>).map(
    ([k, v]) => [k, toPropertyValue(v)] as const,
  );
  return { kind: 'map', entries };
}

/**
 * Builds a property tree from test input where top-level keys may be dotted paths
 * ("connection.uri_san_peer_certificate": "spiffe://..."); later keys win.
 */
export function propertyTree(input: Readonly<Record<string, PropertyInput>> | undefined): Map<string, PropertyValue> {
  const root = new Map<string, PropertyValue>();
  if (!input) return root;
  for (const [dotted, raw] of Object.entries(input)) {
    const segments = dotted.split('.');
    setPath(root, segments, toPropertyValue(raw));
  }
  return root;
}

function setPath(root: Map<string, PropertyValue>, segments: string[], value: PropertyValue): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  if (rest.length === 0) {
    root.set(head, mergeValues(root.get(head), value));
    return;
  }
  const existing = root.get(head);
  const child = new Map<string, PropertyValue>(existing?.kind === 'map' ? existing.entries : []);
  setPath(child, rest, value);
  root.set(head, { kind: 'map', entries: [...child.entries()] });
}

/** Overlays `over` on `base` when both are maps (key by key); otherwise `over` wins. */
export function mergeValues(base: PropertyValue | undefined, over: PropertyValue): PropertyValue {
  if (base?.kind !== 'map' || over.kind !== 'map') return over;
  const merged = new Map<string, PropertyValue>(base.entries);
  for (const [k, v] of over.entries) merged.set(k, mergeValues(merged.get(k), v));
  return { kind: 'map', entries: [...merged.entries()] };
}

function int64Bytes(value: bigint, signed: boolean): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  if (signed) view.setBigInt64(0, BigInt.asIntN(64, value), true);
  else view.setBigUint64(0, BigInt.asUintN(64, value), true);
  return out;
}

/** Envoy's serializeValue. */
export function serializeProperty(value: PropertyValue): Uint8Array {
  switch (value.kind) {
    case 'string':
      return encodeUtf8(value.value);
    case 'bytes':
      return value.value;
    case 'int64':
      return int64Bytes(value.value, true);
    case 'uint64':
      return int64Bytes(value.value, false);
    case 'double': {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setFloat64(0, value.value, true);
      return out;
    }
    case 'bool':
      return Uint8Array.of(value.value ? 1 : 0);
    case 'timestamp':
    case 'duration':
      return int64Bytes(value.nanos, true);
    case 'map':
      return encodeBytePairs(value.entries.map(([k, v]) => [encodeUtf8(k), serializeProperty(v)] as const));
    case 'list':
      return encodeBytePairs(value.items.map((item) => [serializeProperty(item), EMPTY_BYTES] as const));
  }
}

/** Steps into a map (by key) or list (by index); undefined = NotFound. */
export function selectChild(value: PropertyValue, segment: string): PropertyValue | undefined {
  if (value.kind === 'map') {
    for (const [k, v] of value.entries) if (k === segment) return v;
    return undefined;
  }
  if (value.kind === 'list') {
    if (!/^[+-]?\d+$/.test(segment)) return undefined;
    const index = Number(segment);
    return index >= 0 && index < value.items.length ? value.items[index] : undefined;
  }
  return undefined;
}

/** Splits a raw property path at NUL bytes (Envoy's getProperty loop: empty path = no segment). */
export function splitPath(path: string): string[] {
  if (path.length === 0) return [];
  const parts = path.split('\0');
  // A trailing NUL ends the loop without another segment.
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}
