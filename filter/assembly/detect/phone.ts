import { isDigit, isAlnum, at } from "./char-class";

export const PHONE_MAX_LEN: i32 = 32;

/** Set by `matchPhone` on success: the start of the number (the '+' or '(' when present). */
export let phoneStart: i32 = 0;

const MAX_GROUPS: i32 = 8;
const G_START = new StaticArray<i32>(MAX_GROUPS);
const G_END = new StaticArray<i32>(MAX_GROUPS); // end of the group (after ')' when parenthesised)
const G_DIGITS = new StaticArray<i32>(MAX_GROUPS);
const G_PAREN = new StaticArray<bool>(MAX_GROUPS);
const G_SEP = new StaticArray<u32>(MAX_GROUPS); // separator *before* group k (0 = none)

// @ts-ignore: decorator
@inline function isSepByte(c: u32): bool {
  return c == 0x20 || c == 0x2d || c == 0x2e || c == 0x2f;
}

/**
 * Phone number whose first digit run starts at `s`. Returns the end offset and sets
 * `phoneStart`, or returns -1.
 *
 * Accepted forms (separators: one space, '-', '.', or '/'; an area code may be parenthesised):
 * - international: '+' then 8-15 digits in any grouping, first digit 1-9, a "(0)" trunk
 *   prefix allowed (+44 (0)20 7946 0958, +49 30 12345678, +1 (555) 123-4567, +14155552671);
 * - North American: [1 ]AAA EEE NNNN with the area code starting 2-9, the two separators equal, or
 *   (AAA) EEE-NNNN / (AAA)EEE-NNNN, optional leading "1" with the same separator;
 * - European national (UK, DE, FR, ...): first group 0[1-9]... (2-6 digits, may be
 *   parenthesised), 2-5 groups of >= 2 digits, 10-12 digits in total, one consistent separator
 *   (the first may differ: "030/1234 5678", "(020) 7946 0958").
 * Never: a bare digit run without '+' (order numbers, timestamps), dotted dates (8 digits),
 * version strings (preceded by "<digit>."), a number that continues with the same separator
 * into a further digit group, or one embedded in an alphanumeric token.
 */
export function matchPhone(p: usize, len: i32, s: i32): i32 {
  const b = at(p, len, s - 1);
  if (b == 0x2b) return matchPhoneFrom(p, len, s, s - 1, true);
  if (b == 0x28) {
    // "(555) 123-4567", or a number inside parentheses: "(555-123-4567)"
    const e = matchPhoneFrom(p, len, s, s - 1, false);
    if (e > 0) return e;
  }
  return matchPhoneFrom(p, len, s, s, false);
}

function matchPhoneFrom(p: usize, len: i32, s: i32, start: i32, plus: bool): i32 {
  const bb = at(p, len, start - 1);
  if (start > 0 && (isAlnum(bb) || bb == 0x5f || bb == 0x2b)) return -1;
  if (!plus && (bb == 0x2e || bb == 0x2c || isSepByte(bb)) && isDigit(at(p, len, start - 2))) return -1;
  if (plus && at(p, len, s) == 0x30) return -1;
  // tokenize groups
  let pos = plus ? s : start;
  let groups = 0;
  let sepBefore: u32 = 0;
  while (groups < MAX_GROUPS && pos < len) {
    let paren = false;
    if (load<u8>(p + <usize>pos) == 0x28) {
      paren = true;
      pos++;
    }
    const gs = pos;
    while (pos < len && pos - gs < 15 && isDigit(load<u8>(p + <usize>pos))) pos++;
    const n = pos - gs;
    if (n == 0) {
      if (paren) pos--;
      break;
    }
    if (paren) {
      if (at(p, len, pos) != 0x29) {
        pos = gs - 1;
        break;
      }
      pos++;
    }
    unchecked((G_START[groups] = gs));
    unchecked((G_END[groups] = pos));
    unchecked((G_DIGITS[groups] = n));
    unchecked((G_PAREN[groups] = paren));
    unchecked((G_SEP[groups] = sepBefore));
    groups++;
    const c = at(p, len, pos);
    const c1 = at(p, len, pos + 1);
    if (isSepByte(c) && (isDigit(c1) || (c1 == 0x28 && isDigit(at(p, len, pos + 2))))) {
      sepBefore = c;
      pos++;
      continue;
    }
    if (paren && (isDigit(c) || c == 0x28)) {
      sepBefore = 0x29; // ')' directly followed by digits
      continue;
    }
    break;
  }
  if (groups == 0) return -1;
  // longest prefix of groups that forms a phone number
  for (let k = groups; k >= 1; k--) {
    const end = unchecked(G_END[k - 1]);
    const a = at(p, len, end);
    if (end < len && (isAlnum(a) || a == 0x5f)) {
      if (k == groups) return -1;
      continue;
    }
    if (k < groups) {
      // the following group must not continue with a separator used inside the candidate
      const nextSep = unchecked(G_SEP[k]);
      let used = false;
      for (let j = 1; j < k; j++) if (unchecked(G_SEP[j]) == nextSep) used = true;
      if (used || k == 1) continue;
    }
    let ok = false;
    if (plus) ok = intlShape(p, k);
    else ok = nanpShape(p, k) || nationalShape(p, k);
    if (ok) {
      phoneStart = start;
      return end;
    }
  }
  return -1;
}

function intlShape(p: usize, k: i32): bool {
  let digits = 0;
  for (let j = 0; j < k; j++) {
    const n = unchecked(G_DIGITS[j]);
    // "(0)" trunk prefix does not count toward E.164's 15 digits
    if (unchecked(G_PAREN[j]) && n == 1 && load<u8>(p + <usize>unchecked(G_START[j])) == 0x30) continue;
    digits += n;
  }
  if (unchecked(G_PAREN[0])) return false;
  return digits >= 8 && digits <= 15;
}

// @ts-ignore: decorator
@inline function firstDigit(p: usize, j: i32): u32 {
  return <u32>load<u8>(p + <usize>unchecked(G_START[j])) - 0x30;
}

function nanpShape(p: usize, k: i32): bool {
  let o = 0;
  if (k == 4 && unchecked(G_DIGITS[0]) == 1 && firstDigit(p, 0) == 1 && !unchecked(G_PAREN[0])) o = 1;
  if (k - o != 3) return false;
  if (unchecked(G_DIGITS[o]) != 3 || unchecked(G_DIGITS[o + 1]) != 3 || unchecked(G_DIGITS[o + 2]) != 4) return false;
  if (firstDigit(p, o) < 2) return false;
  if (unchecked(G_PAREN[o + 1]) || unchecked(G_PAREN[o + 2])) return false;
  const s2 = unchecked(G_SEP[o + 2]);
  if (s2 == 0x2f || s2 == 0x29) return false;
  if (unchecked(G_PAREN[o])) {
    const s1 = unchecked(G_SEP[o + 1]);
    if (s1 != 0x20 && s1 != 0x29) return false;
    if (o == 1 && unchecked(G_SEP[1]) != 0x20 && unchecked(G_SEP[1]) != 0x2d) return false;
    return true;
  }
  const s1 = unchecked(G_SEP[o + 1]);
  if (s1 != s2 || s1 == 0x2f || s1 == 0x29) return false;
  if (o == 1 && unchecked(G_SEP[1]) != s1) return false;
  return true;
}

function nationalShape(p: usize, k: i32): bool {
  if (k < 2 || k > 5) return false;
  const n0 = unchecked(G_DIGITS[0]);
  if (n0 < 2 || n0 > 6) return false;
  if (firstDigit(p, 0) != 0) return false;
  if (<u32>load<u8>(p + <usize>(unchecked(G_START[0]) + 1)) == 0x30) return false;
  let digits = 0;
  for (let j = 0; j < k; j++) {
    const n = unchecked(G_DIGITS[j]);
    if (n < 2) return false;
    if (j > 0 && unchecked(G_PAREN[j])) return false;
    digits += n;
  }
  if (digits < 10 || digits > 12) return false;
  // separators: the first may be anything; the rest one consistent space, '-' or '.'
  let rest: u32 = 0;
  for (let j = 2; j < k; j++) {
    const sj = unchecked(G_SEP[j]);
    if (sj == 0x2f || sj == 0x29) return false;
    if (rest == 0) rest = sj;
    else if (sj != rest) return false;
  }
  const s1 = unchecked(G_SEP[1]);
  if (unchecked(G_PAREN[0]) && s1 != 0x20 && s1 != 0x29) return false;
  if (rest != 0 && s1 != rest && s1 != 0x2f && !(unchecked(G_PAREN[0]))) return false;
  return true;
}
