import { isDigit, isAlnum, at } from "./char-class";
import { luhnValid } from "./luhn";

export const CARD_MAX_LEN: i32 = 19 + 4; // 19 digits plus up to 4 separators

/**
 * Issuer check on the digits at `d` (16 ASCII digits available, `n` real digits): Visa,
 * Mastercard (51-55 and 2221-2720), American Express, Discover (6011, 644-649, 65, and the
 * 622126-622925 co-brand range), JCB (3528-3589), Diners Club (300-305, 3095, 36, 38, 39) and
 * UnionPay (62, 81), each with its allowed lengths.
 */
export function issuerAccepts(p: usize, d: i32, n: i32, digitAt: StaticArray<i32>): bool {
  const d1 = digitValue(p, digitAt, 0);
  const d2 = d1 * 10 + digitValue(p, digitAt, 1);
  const d3 = d2 * 10 + digitValue(p, digitAt, 2);
  const d4 = d3 * 10 + digitValue(p, digitAt, 3);
  const d6 = d4 * 100 + digitValue(p, digitAt, 4) * 10 + digitValue(p, digitAt, 5);
  if (d1 == 4) return n == 13 || n == 16 || n == 19;
  if (d2 >= 51 && d2 <= 55) return n == 16;
  if (d4 >= 2221 && d4 <= 2720) return n == 16;
  if (d2 == 34 || d2 == 37) return n == 15;
  if (d4 == 6011 || (d3 >= 644 && d3 <= 649) || d2 == 65) return n >= 16 && n <= 19;
  if (d6 >= 622126 && d6 <= 622925) return n >= 16 && n <= 19;
  if (d4 >= 3528 && d4 <= 3589) return n >= 16 && n <= 19;
  if ((d3 >= 300 && d3 <= 305) || d4 == 3095 || d2 == 36 || d2 == 38 || d2 == 39) return n >= 14 && n <= 19;
  if (d2 == 62 || d2 == 81) return n >= 16 && n <= 19;
  return false;
}

// @ts-ignore: decorator
@inline function digitValue(p: usize, digitAt: StaticArray<i32>, k: i32): i32 {
  return <i32>load<u8>(p + <usize>unchecked(digitAt[k])) - 0x30;
}

const DIGIT_AT = new StaticArray<i32>(24);

/**
 * Payment card number starting at digit offset `s` (the first digit of a digit run). Returns
 * the end offset or -1.
 *
 * Accepted shapes: 13-19 contiguous digits; or groups separated by one consistent separator
 * (space or '-'): 4-4-4-4[-1..4] style (every group 4 digits except a shorter last one) and the
 * Amex/Diners 4-6-5 / 4-6-4 layouts. Precision rules: Luhn-valid, a known issuer range with a
 * length it issues, not embedded in a longer alphanumeric token or digit run, not preceded by
 * "<digit>." (decimal/version), not followed by ".<digit>", and a grouped number is not
 * followed or preceded by another group with the same separator (a longer grouped number).
 */
export function matchCreditCard(p: usize, len: i32, s: i32): i32 {
  const b = at(p, len, s - 1);
  if (s > 0 && (isAlnum(b) || b == 0x5f)) return -1;
  if ((b == 0x2e || b == 0x2c) && isDigit(at(p, len, s - 2))) return -1;
  // contiguous run
  let e = s;
  while (e < len && e - s < 20 && isDigit(load<u8>(p + <usize>e))) e++;
  const run = e - s;
  if (run >= 13) {
    if (run > 19) return -1;
    const a = at(p, len, e);
    if (e < len && (isAlnum(a) || a == 0x5f)) return -1;
    if ((a == 0x2e || a == 0x2c) && isDigit(at(p, len, e + 1))) return -1;
    for (let k = 0; k < run; k++) unchecked((DIGIT_AT[k] = s + k));
    if (!issuerAccepts(p, s, run, DIGIT_AT)) return -1;
    return luhnValid(p, s, e) ? e : -1;
  }
  if (run != 4) return -1;
  const sep = at(p, len, e);
  if (sep != 0x20 && sep != 0x2d) return -1;
  if (b == sep && isDigit(at(p, len, s - 2))) return -1;
  // collect up to 6 groups of the same separator
  let n = 0;
  let pos = s;
  let groups = 0;
  while (groups < 6) {
    const gs = pos;
    while (pos < len && pos - gs < 7 && isDigit(load<u8>(p + <usize>pos))) {
      if (n < 24) unchecked((DIGIT_AT[n] = pos));
      n++;
      pos++;
    }
    const gl = pos - gs;
    if (gl == 0) break;
    unchecked((GROUP_LEN[groups] = gl));
    unchecked((GROUP_END[groups] = pos));
    groups++;
    if (gl > 6) break;
    if (pos + 1 < len && load<u8>(p + <usize>pos) == <u8>sep && isDigit(load<u8>(p + <usize>(pos + 1)))) {
      pos++;
      continue;
    }
    break;
  }
  // the whole grouped token must end at a boundary
  const tokenEnd = unchecked(GROUP_END[groups - 1]);
  const a = at(p, len, tokenEnd);
  if (tokenEnd < len && (isAlnum(a) || a == 0x5f)) return -1;
  if ((a == 0x2e || a == 0x2c) && isDigit(at(p, len, tokenEnd + 1))) return -1;
  // try the longest group-aligned prefix first; a shorter prefix only when the next group does
  // not continue the 4-digit pattern (e.g. "4111 1111 1111 1111 12/25")
  let digits = 0;
  for (let k = 0; k < groups; k++) digits += unchecked(GROUP_LEN[k]);
  for (let k = groups; k >= 3; k--) {
    if (k < groups) {
      digits -= unchecked(GROUP_LEN[k]);
      if (unchecked(GROUP_LEN[k]) >= 4) return -1;
    }
    if (digits < 13 || digits > 19) continue;
    const g0 = unchecked(GROUP_LEN[0]);
    const g1 = unchecked(GROUP_LEN[1]);
    const g2 = unchecked(GROUP_LEN[2]);
    let shapeOk = false;
    if (k == 3 && g0 == 4 && g1 == 6 && (g2 == 5 || g2 == 4)) {
      shapeOk = true;
    } else {
      shapeOk = true;
      for (let j = 0; j < k - 1; j++) if (unchecked(GROUP_LEN[j]) != 4) shapeOk = false;
      const last = unchecked(GROUP_LEN[k - 1]);
      if (last < 1 || last > 4) shapeOk = false;
    }
    if (!shapeOk) continue;
    const end = unchecked(GROUP_END[k - 1]);
    if (!issuerAccepts(p, s, digits, DIGIT_AT)) continue;
    if (luhnValid(p, s, end)) return end;
  }
  return -1;
}

const GROUP_LEN = new StaticArray<i32>(8);
const GROUP_END = new StaticArray<i32>(8);
