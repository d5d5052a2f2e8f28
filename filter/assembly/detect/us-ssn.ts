import { isDigit, isAlnum, isLower, isUpper, at, lower, ascii, matchLowerAt } from "./char-class";

/** How far before an unformatted 9-digit run a context keyword is looked for (bytes). */
export const SSN_CONTEXT_WINDOW: i32 = 48;

const KW_SSN = ascii("ssn");
const KW_SOCIAL = ascii("social security");
const KW_SOCSEC = ascii("soc sec");

/** Set by `matchUsSsn` on success: 1 for the unformatted (context-only) form, else 0. */
export let ssnUnformatted: i32 = 0;

// @ts-ignore: decorator
@inline function d(p: usize, i: i32): i32 {
  return <i32>load<u8>(p + <usize>i) - 0x30;
}

/** SSA validity rules on the digits at area/group/serial offsets. */
function validParts(p: usize, a: i32, g: i32, sr: i32): bool {
  const area = d(p, a) * 100 + d(p, a + 1) * 10 + d(p, a + 2);
  if (area == 0 || area == 666 || area >= 900) return false;
  if (d(p, g) == 0 && d(p, g + 1) == 0) return false;
  if (d(p, sr) == 0 && d(p, sr + 1) == 0 && d(p, sr + 2) == 0 && d(p, sr + 3) == 0) return false;
  return true;
}

/**
 * US Social Security number starting at digit offset `s`. Returns the end offset or -1.
 *
 * Formatted: ddd-dd-dddd or ddd dd dddd (one separator, used twice). Unformatted: exactly nine
 * digits, accepted only when `withContext` and a keyword ("ssn", "social security", "soc sec",
 * case-insensitive, as a word) occurs within SSN_CONTEXT_WINDOW bytes before — a bare 9-digit
 * run is far more often an order or account number. Precision rules: area not 000, 666 or
 * 900-999; group not 00; serial not 0000; not embedded in an alphanumeric token; not adjacent to
 * another digit group through the same separator or to ".<digit>".
 */
export function matchUsSsn(p: usize, len: i32, s: i32, withContext: bool): i32 {
  const b = at(p, len, s - 1);
  if (s > 0 && (isAlnum(b) || b == 0x5f)) return -1;
  if ((b == 0x2e || b == 0x2c) && isDigit(at(p, len, s - 2))) return -1;
  if (s + 9 > len) return -1;
  const sep = at(p, len, s + 3);
  if (sep == 0x2d || sep == 0x20) {
    if (!isDigit(at(p, len, s)) || !isDigit(at(p, len, s + 1)) || !isDigit(at(p, len, s + 2))) return -1;
    if (!isDigit(at(p, len, s + 4)) || !isDigit(at(p, len, s + 5)) || at(p, len, s + 6) != sep) return -1;
    for (let k = 7; k < 11; k++) if (!isDigit(at(p, len, s + k))) return -1;
    const e = s + 11;
    const a = at(p, len, e);
    if (e < len && (isAlnum(a) || a == 0x5f)) return -1;
    if ((a == sep || a == 0x2e || a == 0x2c || a == 0x2d) && isDigit(at(p, len, e + 1))) return -1;
    if ((b == sep || b == 0x2d) && isDigit(at(p, len, s - 2))) return -1;
    if (!validParts(p, s, s + 4, s + 7)) return -1;
    ssnUnformatted = 0;
    return e;
  }
  if (!withContext) return -1;
  for (let k = 0; k < 9; k++) if (!isDigit(at(p, len, s + k))) return -1;
  const e = s + 9;
  const a = at(p, len, e);
  if (e < len && (isAlnum(a) || a == 0x5f)) return -1;
  if ((a == 0x2e || a == 0x2c || a == 0x2d || a == 0x2f) && isDigit(at(p, len, e + 1))) return -1;
  if ((b == 0x2d || b == 0x2f) && isDigit(at(p, len, s - 2))) return -1;
  if (!validParts(p, s, s + 3, s + 5)) return -1;
  if (!hasContext(p, len, s)) return -1;
  ssnUnformatted = 1;
  return e;
}

function hasContext(p: usize, len: i32, s: i32): bool {
  const from = max(0, s - SSN_CONTEXT_WINDOW);
  for (let i = from; i < s; i++) {
    const c = lower(load<u8>(p + <usize>i));
    if (c != 0x73) continue; // 's'
    if (i > 0 && isWordByte(at(p, len, i - 1))) continue;
    if (matchLowerAt(p, len, i, KW_SSN, 3) && !isWordByte(at(p, len, i + 3))) return true;
    if (matchLowerAt(p, len, i, KW_SOCIAL, 15)) return true;
    if (matchLowerAt(p, len, i, KW_SOCSEC, 7)) return true;
  }
  return false;
}

// @ts-ignore: decorator
@inline function isWordByte(c: u32): bool {
  return isUpper(c) || isLower(c);
}
