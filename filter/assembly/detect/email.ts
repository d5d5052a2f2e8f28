import { C_EMAIL_LOCAL, isAlnum, isLower, isUpper, lower, at, cls, ascii } from "./char-class";

/** Longest local part we accept (RFC 5321 limit). */
export const EMAIL_MAX_LOCAL: i32 = 64;
/** Longest domain we accept (RFC 1035 limit). */
export const EMAIL_MAX_DOMAIN: i32 = 253;
export const EMAIL_MAX_LEN: i32 = EMAIL_MAX_LOCAL + 1 + EMAIL_MAX_DOMAIN;

// Top-level "domains" that are really file extensions (icon@2x.png, logo@3x.svg).
const FILE_EXT = ascii("|png|jpg|jpeg|gif|svg|webp|bmp|ico|tif|tiff|css|js|mjs|cjs|ts|tsx|jsx|json|map|html|htm|txt|pdf|wasm|heic|avif|mp3|mp4|");
const FILE_EXT_LEN: i32 = 119;

/** Set by `matchEmail` on success: start of the local part. */
export let emailStart: i32 = 0;

/**
 * Email address around the '@' at `at`. Returns the end offset (exclusive) and sets
 * `emailStart`, or returns -1.
 *
 * Precision rules: local part [A-Za-z0-9._%+-]{1,64}, not starting or ending with '.', no "..";
 * the byte before it is not alphanumeric (a longer run than 64 is not an address); domain of at
 * least two dot-separated labels of [A-Za-z0-9-] (no leading/trailing '-', each <= 63), total
 * <= 253; top-level label alphabetic (>= 2) or punycode "xn--", and not a file extension
 * (icon@2x.png); the address is not followed by '@', '_' or an alphanumeric byte.
 */
export function matchEmail(p: usize, len: i32, atPos: i32): i32 {
  // local part, backwards
  let s = atPos;
  const stop = max(0, atPos - EMAIL_MAX_LOCAL);
  while (s > stop && (cls(load<u8>(p + <usize>(s - 1))) & C_EMAIL_LOCAL) != 0) s--;
  if (s > 0) {
    const b = at(p, len, s - 1);
    if (isAlnum(b) || (cls(b) & C_EMAIL_LOCAL) != 0 || b == 0x40) return -1;
  }
  while (s < atPos && load<u8>(p + <usize>s) == 0x2e) s++; // leading dots are punctuation
  if (s >= atPos) return -1;
  if (load<u8>(p + <usize>(atPos - 1)) == 0x2e) return -1;
  for (let k = s + 1; k < atPos; k++) {
    if (load<u8>(p + <usize>k) == 0x2e && load<u8>(p + <usize>(k - 1)) == 0x2e) return -1;
  }
  // domain, forwards: label ('.' label)+
  let i = atPos + 1;
  let labels = 0;
  let lastLabelStart = i;
  let end = -1;
  const domainStop = min(len, atPos + 1 + EMAIL_MAX_DOMAIN);
  while (i < domainStop) {
    const ls = i;
    while (i < domainStop) {
      const c = <u32>load<u8>(p + <usize>i);
      if (isAlnum(c) || c == 0x2d) i++;
      else break;
    }
    const ll = i - ls;
    if (ll == 0 || ll > 63) break;
    if (load<u8>(p + <usize>ls) == 0x2d) break;
    if (load<u8>(p + <usize>(i - 1)) == 0x2d) break;
    labels++;
    lastLabelStart = ls;
    end = i;
    if (i + 1 < domainStop && load<u8>(p + <usize>i) == 0x2e && isAlnum(load<u8>(p + <usize>(i + 1)))) {
      i++;
      continue;
    }
    break;
  }
  if (labels < 2 || end < 0) return -1;
  // the byte after the address
  const a = at(p, len, end);
  if (end < len && (isAlnum(a) || a == 0x40 || a == 0x5f || a == 0x2d)) return -1;
  // top-level label
  const tl = end - lastLabelStart;
  if (tl < 2) return -1;
  let alpha = true;
  for (let k = lastLabelStart; k < end; k++) {
    const c = <u32>load<u8>(p + <usize>k);
    if (!isUpper(c) && !isLower(c)) {
      alpha = false;
      break;
    }
  }
  if (!alpha) {
    const puny = tl > 4 && lower(load<u8>(p + <usize>lastLabelStart)) == 0x78 && lower(load<u8>(p + <usize>(lastLabelStart + 1))) == 0x6e &&
      load<u8>(p + <usize>(lastLabelStart + 2)) == 0x2d && load<u8>(p + <usize>(lastLabelStart + 3)) == 0x2d;
    if (!puny) return -1;
  } else if (tl <= 5 && isFileExt(p, lastLabelStart, tl)) {
    return -1;
  }
  emailStart = s;
  return end;
}

function isFileExt(p: usize, s: i32, n: i32): bool {
  // search "|ext|" in FILE_EXT
  for (let k = 0; k + n + 2 <= FILE_EXT_LEN; k++) {
    if (load<u8>(FILE_EXT + <usize>k) != 0x7c) continue;
    let ok = load<u8>(FILE_EXT + <usize>(k + n + 1)) == 0x7c;
    for (let j = 0; ok && j < n; j++) {
      ok = lower(load<u8>(p + <usize>(s + j))) == <u32>load<u8>(FILE_EXT + <usize>(k + 1 + j));
    }
    if (ok) return true;
  }
  return false;
}
