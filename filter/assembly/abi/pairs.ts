// Serialization of header maps (spec "Serialization / Maps with HTTP fields"): a u32 count, then
// per pair the u32 key length and u32 value length, then per pair the key bytes, NUL, value bytes,
// NUL. Little-endian. An empty map may be sent as size 0 or as a single 0x00 byte.

/** One header (or trailer, or metadata) entry. Keys from Envoy are lower-case. */
export class HeaderPair {
  constructor(public key: string, public value: string) {}
}

/** Encodes pairs in the ABI map encoding (UTF-8 keys and values). */
export function serializePairs(pairs: Array<HeaderPair>): ArrayBuffer {
  const n = pairs.length;
  let size: usize = 4 + <usize>n * 8;
  for (let i = 0; i < n; i++) {
    const p = unchecked(pairs[i]);
    size += <usize>String.UTF8.byteLength(p.key) + <usize>String.UTF8.byteLength(p.value) + 2;
  }
  const out = new ArrayBuffer(<i32>size);
  const base = changetype<usize>(out);
  store<u32>(base, <u32>n);
  let sizes = base + 4;
  let data = base + 4 + <usize>n * 8;
  for (let i = 0; i < n; i++) {
    const p = unchecked(pairs[i]);
    const keyLen = String.UTF8.encodeUnsafe(changetype<usize>(p.key), p.key.length, data);
    data += keyLen;
    store<u8>(data, 0);
    data += 1;
    const valueLen = String.UTF8.encodeUnsafe(changetype<usize>(p.value), p.value.length, data);
    data += valueLen;
    store<u8>(data, 0);
    data += 1;
    store<u32>(sizes, <u32>keyLen);
    store<u32>(sizes + 4, <u32>valueLen);
    sizes += 8;
  }
  return out;
}

/**
 * Decodes the ABI map encoding. Returns null when the bytes are not a well-formed map (a truncated
 * or inconsistent buffer is never read past its end).
 */
export function deserializePairs(buffer: ArrayBuffer): Array<HeaderPair> | null {
  const total = <usize>buffer.byteLength;
  const result = new Array<HeaderPair>();
  if (total == 0) return result;
  const base = changetype<usize>(buffer);
  if (total < 4) return total == 1 && load<u8>(base) == 0 ? result : null;
  const n = <usize>load<u32>(base);
  if (n == 0) return result;
  if (n > (total - 4) / 8) return null;
  let sizes = base + 4;
  let data = base + 4 + n * 8;
  const end = base + total;
  for (let i: usize = 0; i < n; i++) {
    const keyLen = <usize>load<u32>(sizes);
    const valueLen = <usize>load<u32>(sizes + 4);
    sizes += 8;
    if (keyLen + valueLen + 2 > end - data) return null;
    const key = String.UTF8.decodeUnsafe(data, keyLen);
    data += keyLen + 1;
    const value = String.UTF8.decodeUnsafe(data, valueLen);
    data += valueLen + 1;
    result.push(new HeaderPair(key, value));
  }
  return result;
}
