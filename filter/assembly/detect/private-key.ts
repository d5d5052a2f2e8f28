import { at, ascii, matchAt } from "./char-class";

const BEGIN = ascii("-----BEGIN ");
const END = ascii("-----END ");
const PRIVATE_KEY = ascii("PRIVATE KEY");
const PGP_BLOCK = ascii("PGP PRIVATE KEY BLOCK");
const DASHES = ascii("-----");

/** Longest "-----BEGIN <label>-----" line we recognise. */
export const PEM_BEGIN_MAX_LEN: i32 = 48;

/** Set by `matchPemBegin`: offset just past the BEGIN line's closing dashes, and its label. */
export let pemHeaderEnd: i32 = 0;
let labelStart: i32 = 0;
let labelLen: i32 = 0;

/**
 * "-----BEGIN [RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP ]PRIVATE KEY[ BLOCK]-----" at `s`.
 * Returns true and sets `pemHeaderEnd` when the header line is complete.
 */
export function matchPemBegin(p: usize, len: i32, s: i32): bool {
  if (!matchAt(p, len, s, BEGIN, 11)) return false;
  let i = s + 11;
  const ls = i;
  if (matchAt(p, len, i, PGP_BLOCK, 21)) {
    i += 21;
  } else {
    // optional single upper-case word before "PRIVATE KEY"
    let w = i;
    while (w < len && w - i < 10 && at(p, len, w) - 0x41 < 26) w++;
    if (w > i && at(p, len, w) == 0x20 && matchAt(p, len, w + 1, PRIVATE_KEY, 11)) {
      if (!knownWord(p, i, w - i)) return false;
      i = w + 1 + 11;
    } else if (matchAt(p, len, i, PRIVATE_KEY, 11)) {
      i += 11;
    } else {
      return false;
    }
  }
  if (!matchAt(p, len, i, DASHES, 5)) return false;
  labelStart = ls;
  labelLen = i - ls;
  pemHeaderEnd = i + 5;
  return true;
}

const W_RSA = ascii("RSA");
const W_EC = ascii("EC");
const W_DSA = ascii("DSA");
const W_OPENSSH = ascii("OPENSSH");
const W_ENCRYPTED = ascii("ENCRYPTED");
function knownWord(p: usize, i: i32, n: i32): bool {
  const a = p + <usize>i;
  if (n == 3) return memory.compare(a, W_RSA, 3) == 0 || memory.compare(a, W_DSA, 3) == 0;
  if (n == 2) return memory.compare(a, W_EC, 2) == 0;
  if (n == 7) return memory.compare(a, W_OPENSSH, 7) == 0;
  if (n == 9) return memory.compare(a, W_ENCRYPTED, 9) == 0;
  return false;
}

/**
 * PEM private-key block starting at `s` (the first '-' of "-----BEGIN"). Returns the end
 * offset: just past the matching "-----END <same label>-----" when present, else `len` (an
 * unterminated block runs to the end of the scanned text); -1 when `s` is not such a header.
 * The label between BEGIN and END must match (RSA / EC / DSA / OPENSSH / ENCRYPTED / PGP or
 * none).
 */
export function matchPrivateKey(p: usize, len: i32, s: i32): i32 {
  pemTerminated = false;
  if (!matchPemBegin(p, len, s)) return -1;
  let i = pemHeaderEnd;
  const ll = labelLen;
  const lbl = p + <usize>labelStart;
  while (i + 9 + ll + 5 <= len) {
    // find next '-'
    if (load<u8>(p + <usize>i) != 0x2d) {
      i++;
      continue;
    }
    if (matchAt(p, len, i, END, 9) && memory.compare(p + <usize>(i + 9), lbl, <usize>ll) == 0 && matchAt(p, len, i + 9 + ll, DASHES, 5)) {
      pemTerminated = true;
      return i + 9 + ll + 5;
    }
    i++;
  }
  return len;
}

/** Set by `matchPrivateKey`: whether the block it returned ends with its END line. */
export let pemTerminated: bool = false;
