import { at, cls, C_B64URL } from "./char-class";

export const GOOGLE_API_KEY_LEN: i32 = 39;

/**
 * Google API key at `s` (the 'A'): "AIza" followed by exactly 35 characters of [A-Za-z0-9_-],
 * with no [A-Za-z0-9_-] byte on either side. Returns the end offset or -1.
 */
export function matchGoogleApiKey(p: usize, len: i32, s: i32): i32 {
  if (s + GOOGLE_API_KEY_LEN > len) return -1;
  if (at(p, len, s + 1) != 0x49 || at(p, len, s + 2) != 0x7a || at(p, len, s + 3) != 0x61) return -1;
  if (s > 0 && (cls(at(p, len, s - 1)) & C_B64URL) != 0) return -1;
  for (let k = 4; k < GOOGLE_API_KEY_LEN; k++) {
    if ((cls(load<u8>(p + <usize>(s + k))) & C_B64URL) == 0) return -1;
  }
  const e = s + GOOGLE_API_KEY_LEN;
  if (e < len && (cls(at(p, len, e)) & C_B64URL) != 0) return -1;
  return e;
}
