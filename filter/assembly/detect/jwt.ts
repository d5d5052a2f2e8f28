import { at, cls, C_B64URL } from "./char-class";
import { base64urlDecode } from "./base64url";

export const JWT_MAX_LEN: i32 = 8192;
const HEADER_SCRATCH = memory.data(256);

/** Set by `matchJwt` on success: the start of the token. */
export let jwtStart: i32 = 0;

// @ts-ignore: decorator
@inline function isB64(c: u32): bool {
  return (cls(c) & C_B64URL) != 0;
}

/**
 * JSON Web Token (JWS compact serialization) whose "eyJ" 'J' is at `j`. Returns the end offset
 * and sets `jwtStart`, or -1.
 *
 * Precision rules: three base64url segments separated by '.'; the header and payload both
 * start with "eyJ" (base64url of `{"`); header >= 10 and payload >= 4 characters; the header
 * decodes to JSON text containing the "alg" member; the signature may be empty (unsecured
 * JWT) or any base64url run; the token is not preceded by a base64url byte or '.', and is not
 * followed by ".<base64url>" (more segments); total <= 8192 bytes.
 */
export function matchJwt(p: usize, len: i32, j: i32): i32 {
  const s = j - 2;
  if (s < 0 || at(p, len, s) != 0x65 || at(p, len, s + 1) != 0x79) return -1;
  if (s > 0 && (isB64(at(p, len, s - 1)) || at(p, len, s - 1) == 0x2e)) return -1;
  const stop = min(len, s + JWT_MAX_LEN);
  let e = j + 1;
  while (e < stop && isB64(load<u8>(p + <usize>e))) e++;
  const headerEnd = e;
  if (headerEnd - s < 10 || at(p, len, e) != 0x2e) return -1;
  e++;
  const ps = e;
  if (at(p, len, ps) != 0x65 || at(p, len, ps + 1) != 0x79 || at(p, len, ps + 2) != 0x4a) return -1;
  while (e < stop && isB64(load<u8>(p + <usize>e))) e++;
  if (e - ps < 4 || at(p, len, e) != 0x2e) return -1;
  e++;
  while (e < stop && isB64(load<u8>(p + <usize>e))) e++;
  if (e >= stop && e < len) return -1;
  if (at(p, len, e) == 0x2e && isB64(at(p, len, e + 1))) return -1;
  // header must decode to a JSON object naming "alg"
  const hl = min(headerEnd - s, 320);
  const n = base64urlDecode(p + <usize>s, hl, HEADER_SCRATCH, 240);
  if (n < 6) return -1;
  let found = false;
  for (let k = 0; k + 5 <= n; k++) {
    if (load<u8>(HEADER_SCRATCH + <usize>k) == 0x22 && load<u8>(HEADER_SCRATCH + <usize>(k + 1)) == 0x61 &&
        load<u8>(HEADER_SCRATCH + <usize>(k + 2)) == 0x6c && load<u8>(HEADER_SCRATCH + <usize>(k + 3)) == 0x67 &&
        load<u8>(HEADER_SCRATCH + <usize>(k + 4)) == 0x22) {
      found = true;
      break;
    }
  }
  if (!found) return -1;
  jwtStart = s;
  return e;
}
