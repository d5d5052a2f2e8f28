// The ABI's map encoding (spec "Serialization"), host side: u32 count, u32 key/value lengths per
// pair, then NUL-terminated keys and values, little-endian. Envoy's limits (proxy-wasm-cpp-host
// limits.h): at most 1024 pairs and 1 MiB; anything malformed decodes to no pairs, as Envoy's
// PairsUtil::toPairs does.
import { concatBytes, encodeUtf8, utf8 } from './bytes.js';

/** A header as [key, value]; keys are lower-case once they are in a header map. */
export type HeaderPair = readonly [string, string];

export const PAIRS_MAX_COUNT = 1024;
export const PAIRS_MAX_BYTES = 1024 * 1024;

export function encodePairs(pairs: readonly HeaderPair[]): Uint8Array {
  const encoded = pairs.map(([k, v]) => [encodeUtf8(k), encodeUtf8(v)] as const);
  const head = new Uint8Array(4 + encoded.length * 8);
  const view = new DataView(head.buffer);
  view.setUint32(0, encoded.length, true);
  const parts: Uint8Array[] = [head];
  encoded.forEach(([k, v], i) => {
    view.setUint32(4 + i * 8, k.length, true);
    view.setUint32(8 + i * 8, v.length, true);
    parts.push(k, new Uint8Array(1), v, new Uint8Array(1));
  });
  return concatBytes(parts);
}

/** Decodes the map encoding; returns [] for empty or malformed input (like Envoy). */
export function decodePairs(bytes: Uint8Array): HeaderPair[] {
  if (bytes.length < 4 || bytes.length > PAIRS_MAX_BYTES) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0, true);
  if (n === 0 || n > PAIRS_MAX_COUNT || 4 + n * 8 > bytes.length) return [];
  const out: HeaderPair[] = [];
  let data = 4 + n * 8;
  for (let i = 0; i < n; i++) {
    const keyLen = view.getUint32(4 + i * 8, true);
    const valueLen = view.getUint32(8 + i * 8, true);
    if (data + keyLen + 1 + valueLen + 1 > bytes.length) return [];
    const key = utf8(bytes.subarray(data, data + keyLen));
    data += keyLen;
    if (bytes[data] !== 0) return [];
    data += 1;
    const value = utf8(bytes.subarray(data, data + valueLen));
    data += valueLen;
    if (bytes[data] !== 0) return [];
    data += 1;
    out.push([key, value]);
  }
  // Trailing bytes make the whole encoding invalid (PairsUtil::toPairs).
  return data === bytes.length ? out : [];
}

/** Map encoding of raw byte pairs (property maps may hold binary values). */
export function encodeBytePairs(pairs: readonly (readonly [Uint8Array, Uint8Array])[]): Uint8Array {
  const head = new Uint8Array(4 + pairs.length * 8);
  const view = new DataView(head.buffer);
  view.setUint32(0, pairs.length, true);
  const parts: Uint8Array[] = [head];
  pairs.forEach(([k, v], i) => {
    view.setUint32(4 + i * 8, k.length, true);
    view.setUint32(8 + i * 8, v.length, true);
    parts.push(k, new Uint8Array(1), v, new Uint8Array(1));
  });
  return concatBytes(parts);
}
