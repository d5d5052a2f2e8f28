/**
 * Byte classes shared by the detectors: one 256-entry lookup table built once at module start.
 * All classes are ASCII-only; bytes >= 0x80 belong to no class except `C_NONASCII`, which the
 * keyword matcher treats as a word character for its word-boundary option.
 */

export const C_DIGIT: u16 = 1;
export const C_UPPER: u16 = 2;
export const C_LOWER: u16 = 4;
export const C_HEX: u16 = 8;
/** RFC 5322 dot-atom characters we accept in an email local part: [A-Za-z0-9._%+-]. */
export const C_EMAIL_LOCAL: u16 = 16;
/** base64url alphabet [A-Za-z0-9_-]. */
export const C_B64URL: u16 = 32;
/** ASCII whitespace: space, \t, \n, \v, \f, \r. */
export const C_SPACE: u16 = 64;
/** Characters that may continue a numeric token between digit groups. */
export const C_NUMSEP: u16 = 128;
export const C_NONASCII: u16 = 256;
/** standard base64 alphabet [A-Za-z0-9+/]. */
export const C_B64STD: u16 = 512;
/** Characters of URLs as far as the Slack webhook detector needs them. */
export const C_URL: u16 = 1024;
export const C_ALNUM: u16 = C_DIGIT | C_UPPER | C_LOWER;

const TABLE: usize = memory.data(512);

function initTable(): void {
  for (let c = 0; c < 256; c++) {
    let f: u16 = 0;
    if (c >= 0x30 && c <= 0x39) f |= C_DIGIT | C_HEX;
    if (c >= 0x41 && c <= 0x5a) f |= C_UPPER;
    if (c >= 0x61 && c <= 0x7a) f |= C_LOWER;
    if ((c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)) f |= C_HEX;
    if (f & (C_DIGIT | C_UPPER | C_LOWER)) f |= C_EMAIL_LOCAL | C_B64URL | C_B64STD | C_URL;
    if (c == 0x2e || c == 0x5f || c == 0x25 || c == 0x2b || c == 0x2d) f |= C_EMAIL_LOCAL;
    if (c == 0x5f || c == 0x2d) f |= C_B64URL;
    if (c == 0x2b || c == 0x2f) f |= C_B64STD;
    if (c == 0x20 || (c >= 0x09 && c <= 0x0d)) f |= C_SPACE;
    if (c == 0x20 || c == 0x2d || c == 0x2e || c == 0x2f || c == 0x28 || c == 0x29 || c == 0x2b) f |= C_NUMSEP;
    if (c == 0x2f || c == 0x2e || c == 0x3a || c == 0x5f || c == 0x2d) f |= C_URL;
    if (c >= 0x80) f |= C_NONASCII;
    store<u16>(TABLE + (<usize>c << 1), f);
  }
}
initTable();

// @ts-ignore: decorator
@inline export function cls(c: u32): u16 {
  return load<u16>(TABLE + (<usize>(c & 0xff) << 1));
}
// @ts-ignore: decorator
@inline export function has(c: u32, mask: u16): bool {
  return (cls(c) & mask) != 0;
}
// @ts-ignore: decorator
@inline export function isDigit(c: u32): bool {
  return c - 0x30 < 10;
}
// @ts-ignore: decorator
@inline export function isUpper(c: u32): bool {
  return c - 0x41 < 26;
}
// @ts-ignore: decorator
@inline export function isLower(c: u32): bool {
  return c - 0x61 < 26;
}
// @ts-ignore: decorator
@inline export function isAlnum(c: u32): bool {
  return (cls(c) & C_ALNUM) != 0;
}
// @ts-ignore: decorator
@inline export function isSpace(c: u32): bool {
  return (cls(c) & C_SPACE) != 0;
}
// @ts-ignore: decorator
@inline export function lower(c: u32): u32 {
  return c - 0x41 < 26 ? c | 0x20 : c;
}

/** Byte at `i` of the buffer at `p`, or 0 outside [0, len). Boundary checks read through this. */
// @ts-ignore: decorator
@inline export function at(p: usize, len: i32, i: i32): u32 {
  return <u32>i >= <u32>len ? 0 : <u32>load<u8>(p + <usize>i);
}

/** True when the byte before `i` is not alphanumeric (start of buffer counts as a boundary). */
// @ts-ignore: decorator
@inline export function boundaryBefore(p: usize, len: i32, i: i32): bool {
  return i <= 0 || !isAlnum(at(p, len, i - 1));
}
/** True when the byte at `i` (one past a match) is not alphanumeric (end of buffer counts). */
// @ts-ignore: decorator
@inline export function boundaryAfter(p: usize, len: i32, i: i32): bool {
  return i >= len || !isAlnum(at(p, len, i));
}

/** End of the run of bytes in class `mask` starting at `i` (exclusive), bounded by `limit`. */
export function runEnd(p: usize, len: i32, i: i32, mask: u16, limit: i32): i32 {
  let e = i;
  const stop = min(len, limit);
  while (e < stop && (cls(load<u8>(p + <usize>e)) & mask) != 0) e++;
  return e;
}

/** Start of the run of bytes in class `mask` that ends just before `i`, scanning back at most `maxBack` bytes. */
export function runStart(p: usize, i: i32, mask: u16, maxBack: i32): i32 {
  let s = i;
  const stop = max(0, i - maxBack);
  while (s > stop && (cls(load<u8>(p + <usize>(s - 1))) & mask) != 0) s--;
  return s;
}

/** ASCII case-insensitive comparison of the buffer at `i` with the lower-case literal at `lit`. */
export function matchLowerAt(p: usize, len: i32, i: i32, lit: usize, litLen: i32): bool {
  if (i < 0 || i + litLen > len) return false;
  for (let k = 0; k < litLen; k++) {
    if (lower(load<u8>(p + <usize>(i + k))) != <u32>load<u8>(lit + <usize>k)) return false;
  }
  return true;
}

/** Exact comparison of the buffer at `i` with the literal bytes at `lit`. */
// @ts-ignore: decorator
@inline export function matchAt(p: usize, len: i32, i: i32, lit: usize, litLen: i32): bool {
  return i >= 0 && i + litLen <= len && memory.compare(p + <usize>i, lit, <usize>litLen) == 0;
}

const LITERALS = new Array<ArrayBuffer>();

/** Pointer to the UTF-8 bytes of a static ASCII string literal (the literal must be ASCII). */
export function ascii(s: string): usize {
  const b = String.UTF8.encode(s, false);
  LITERALS.push(b); // rooted for the life of the module: callers keep the raw pointer
  return changetype<usize>(b);
}

