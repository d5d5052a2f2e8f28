/**
 * Case pairs beyond ASCII for the keyword matcher and the `hash` redaction style: every simple
 * (one code point to one code point) case pair whose two forms are both two-byte UTF-8
 * (U+0080..U+07FF) and map onto each other both ways (`toLowerCase` of the upper form is the
 * lower form and `toUpperCase` of the lower form is the upper form). That covers Latin-1
 * Supplement (À..Þ, Ÿ/ÿ), Latin Extended-A and -B (Ł, Ő, Ș, Ț, ...), Greek (Α..Ω, Ά..Ώ, Ϊ, Ϋ),
 * Cyrillic (А..Я, Ѐ..Џ, Ѡ..Ӿ), Cyrillic Supplement and Armenian. Because both forms have the
 * same UTF-8 length, a case variant of a keyword has the keyword's byte length.
 *
 * One three-member class: Greek sigma, Σ (U+03A3), σ (U+03C3) and final ς (U+03C2).
 *
 * Left out on purpose (their other case is ASCII, longer than two bytes, several code points,
 * or maps back elsewhere): ß, ı (dotless i, upper case I), İ (lower case i + U+0307), ſ (long s,
 * upper case S), ŉ, ǰ, µ (micro sign), the titlecase digraphs ǅ ǈ ǋ ǲ, the Greek symbol forms
 * ϐ ϑ ϕ ϖ ϰ ϱ ϴ ϵ, ΐ, ΰ, ͅ, and letters whose other case lies outside U+0080..U+07FF (ƛ, Ⱥ, ɐ, ...).
 * These match only themselves (ASCII letters keep their ASCII folding).
 *
 * Pure data and functions; the lookup table is built on first use (configure time).
 */

/** Most forms a code point has in one case class (Σ σ ς). */
export const CASE_FORMS_MAX: i32 = 3;

/**
 * The pairs as runs: first upper-case code point, number of pairs, step between consecutive
 * upper-case code points (1 or 2), and lower = upper + delta. Checked against JavaScript's
 * String.prototype.toLowerCase / toUpperCase by test/filter/detect/unicode-case.test.ts.
 */
const RUNS: StaticArray<i32> = [
  // Latin-1 Supplement (× U+00D7 and ÷ U+00F7 are not letters), Ÿ -> ÿ
  0x00c0, 23, 1, 32,
  0x00d8, 7, 1, 32,
  0x0178, 1, 1, -121,
  // Latin Extended-A (U+0130 İ, U+0131 ı, U+0138 ĸ, U+0149 ŉ and U+017F ſ have no two-byte pair)
  0x0100, 24, 2, 1,
  0x0132, 3, 2, 1,
  0x0139, 8, 2, 1,
  0x014a, 23, 2, 1,
  0x0179, 3, 2, 1,
  // Latin Extended-B
  0x0181, 1, 1, 210,
  0x0182, 2, 2, 1,
  0x0186, 1, 1, 206,
  0x0187, 1, 1, 1,
  0x0189, 2, 1, 205,
  0x018b, 1, 1, 1,
  0x018e, 1, 1, 79,
  0x018f, 1, 1, 202,
  0x0190, 1, 1, 203,
  0x0191, 1, 1, 1,
  0x0193, 1, 1, 205,
  0x0194, 1, 1, 207,
  0x0196, 1, 1, 211,
  0x0197, 1, 1, 209,
  0x0198, 1, 1, 1,
  0x019c, 1, 1, 211,
  0x019d, 1, 1, 213,
  0x019f, 1, 1, 214,
  0x01a0, 3, 2, 1,
  0x01a6, 1, 1, 218,
  0x01a7, 1, 1, 1,
  0x01a9, 1, 1, 218,
  0x01ac, 1, 1, 1,
  0x01ae, 1, 1, 218,
  0x01af, 1, 1, 1,
  0x01b1, 2, 1, 217,
  0x01b3, 2, 2, 1,
  0x01b7, 1, 1, 219,
  0x01b8, 1, 1, 1,
  0x01bc, 1, 1, 1,
  0x01c4, 1, 1, 2,
  0x01c7, 1, 1, 2,
  0x01ca, 1, 1, 2,
  0x01cd, 8, 2, 1,
  0x01de, 9, 2, 1,
  0x01f1, 1, 1, 2,
  0x01f4, 1, 1, 1,
  0x01f6, 1, 1, -97,
  0x01f7, 1, 1, -56,
  0x01f8, 20, 2, 1,
  0x0220, 1, 1, -130,
  0x0222, 9, 2, 1,
  0x023b, 1, 1, 1,
  0x023d, 1, 1, -163,
  0x0241, 1, 1, 1,
  0x0243, 1, 1, -195,
  0x0244, 1, 1, 69,
  0x0245, 1, 1, 71,
  0x0246, 5, 2, 1,
  // Greek and Coptic (Σ/σ is one of the 9 pairs from U+03A3; ς joins it in caseForms)
  0x0370, 2, 2, 1,
  0x0376, 1, 1, 1,
  0x037f, 1, 1, 116,
  0x0386, 1, 1, 38,
  0x0388, 3, 1, 37,
  0x038c, 1, 1, 64,
  0x038e, 2, 1, 63,
  0x0391, 17, 1, 32,
  0x03a3, 9, 1, 32,
  0x03cf, 1, 1, 8,
  0x03d8, 12, 2, 1,
  0x03f7, 1, 1, 1,
  0x03f9, 1, 1, -7,
  0x03fa, 1, 1, 1,
  0x03fd, 3, 1, -130,
  // Cyrillic
  0x0400, 16, 1, 80,
  0x0410, 32, 1, 32,
  0x0460, 17, 2, 1,
  0x048a, 27, 2, 1,
  0x04c0, 1, 1, 15,
  0x04c1, 7, 2, 1,
  // Cyrillic (U+04D0..) and Cyrillic Supplement (..U+052F)
  0x04d0, 48, 2, 1,
  // Armenian
  0x0531, 38, 1, 48,
];

const SIGMA_UPPER: i32 = 0x03a3;
const SIGMA_LOWER: i32 = 0x03c3;
const SIGMA_FINAL: i32 = 0x03c2;

/** Code point -> its other case (0 = none), for U+0000..U+07FF; built on first use. */
let partner: StaticArray<u16> | null = null;
/** Code point -> 1 when it is the lower-case form of its pair. */
let isLowerForm: StaticArray<u8> | null = null;

function table(): StaticArray<u16> {
  let t = partner;
  if (t != null) return t;
  const p = new StaticArray<u16>(0x800);
  const low = new StaticArray<u8>(0x800);
  for (let r = 0; r < RUNS.length; r += 4) {
    const first = unchecked(RUNS[r]);
    const n = unchecked(RUNS[r + 1]);
    const step = unchecked(RUNS[r + 2]);
    const delta = unchecked(RUNS[r + 3]);
    for (let i = 0; i < n; i++) {
      const u = first + i * step;
      const l = u + delta;
      unchecked((p[u] = <u16>l));
      unchecked((p[l] = <u16>u));
      unchecked((low[l] = 1));
    }
  }
  partner = p;
  isLowerForm = low;
  return p;
}

/** Number of pairs in the table (the test compares it with JavaScript's count). */
export function casePairCount(): i32 {
  let n = 0;
  for (let r = 0; r < RUNS.length; r += 4) n += unchecked(RUNS[r + 1]);
  return n;
}

/**
 * Writes the case forms of code point `cp` to `out` (which holds CASE_FORMS_MAX entries), `cp`
 * itself first, and returns how many there are: 1 for a code point with no two-byte case pair,
 * 2 for a pair, 3 for the sigma class.
 */
export function caseForms(cp: i32, out: StaticArray<i32>): i32 {
  unchecked((out[0] = cp));
  if (cp < 0x80 || cp >= 0x800) return 1;
  if (cp == SIGMA_UPPER || cp == SIGMA_LOWER || cp == SIGMA_FINAL) {
    let k = 1;
    if (cp != SIGMA_UPPER) unchecked((out[k++] = SIGMA_UPPER));
    if (cp != SIGMA_LOWER) unchecked((out[k++] = SIGMA_LOWER));
    if (cp != SIGMA_FINAL) unchecked((out[k++] = SIGMA_FINAL));
    return 3;
  }
  const o = <i32>unchecked(table()[cp]);
  if (o == 0) return 1;
  unchecked((out[1] = o));
  return 2;
}

/**
 * The lower-case form of `cp` within the table (σ for Σ and ς); `cp` itself when it has no
 * two-byte pair or already is the lower-case form. ASCII is left alone (callers fold it).
 */
export function lowerCase2(cp: i32): i32 {
  if (cp < 0x80 || cp >= 0x800) return cp;
  if (cp == SIGMA_UPPER || cp == SIGMA_FINAL) return SIGMA_LOWER;
  const o = <i32>unchecked(table()[cp]);
  if (o == 0) return cp;
  return unchecked(isLowerForm!)[cp] != 0 ? cp : o;
}

/** The two-byte code point whose UTF-8 starts at `p` (of `len` bytes), or -1 when not one. */
// @ts-ignore: decorator
@inline export function twoByteAt(p: usize, len: i32, i: i32): i32 {
  if (i + 1 >= len) return -1;
  const b0 = <i32>load<u8>(p + <usize>i);
  const b1 = <i32>load<u8>(p + <usize>(i + 1));
  // C2..DF are always lead bytes of two-byte sequences in UTF-8; C0/C1 are never valid
  if (b0 < 0xc2 || b0 > 0xdf || (b1 & 0xc0) != 0x80) return -1;
  return ((b0 & 0x1f) << 6) | (b1 & 0x3f);
}

/** Largest count `caseVariantCount` reports exactly; larger counts saturate at CASE_VARIANTS_CAP + 1. */
const CASE_VARIANTS_CAP: i32 = 1 << 20;

/** Number of letters in UTF-8 text [p, p+len) that have a two-byte case pair (the sigma class included). */
export function caseLetterCount(p: usize, len: i32): i32 {
  const forms = new StaticArray<i32>(CASE_FORMS_MAX);
  let n = 0;
  let i = 0;
  while (i < len) {
    const cp = twoByteAt(p, len, i);
    if (cp >= 0) {
      if (caseForms(cp, forms) > 1) n++;
      i += 2;
    } else i++;
  }
  return n;
}

/**
 * Number of case variants of UTF-8 text [p, p+len) over its two-byte cased letters: the product
 * of their form counts (1 when there are none; ASCII letters do not count). Saturates above
 * 2^20.
 */
export function caseVariantCount(p: usize, len: i32): i32 {
  const forms = new StaticArray<i32>(CASE_FORMS_MAX);
  let n = 1;
  let i = 0;
  while (i < len) {
    const cp = twoByteAt(p, len, i);
    if (cp >= 0) {
      n *= caseForms(cp, forms);
      if (n > CASE_VARIANTS_CAP) return CASE_VARIANTS_CAP + 1;
      i += 2;
    } else i++;
  }
  return n;
}

/**
 * Bytes at the start of a keyword that the keyword matcher's prefilters read exactly (the Teddy
 * nibble tables and the quick check cover bytes 0..3, the hash key bytes 0..2): case variants
 * are registered for the letters that start there; later letters are folded at verify time.
 */
export const CASE_HEAD_BYTES: i32 = 4;

/**
 * End of the head of UTF-8 text [p, p+len): the offset of the first character that starts at or
 * after CASE_HEAD_BYTES (a two-byte letter starting at byte 3 belongs to the head), or `len`.
 * Characters are delimited as everywhere in this file: a two-byte sequence (twoByteAt) or a
 * single byte.
 */
export function caseHeadEnd(p: usize, len: i32): i32 {
  let i = 0;
  while (i < len && i < CASE_HEAD_BYTES) i += twoByteAt(p, len, i) >= 0 ? 2 : 1;
  return min(i, len);
}

/**
 * Number of case variants of the head of [p, p+len) (caseHeadEnd): the product of the form counts
 * of the two-byte cased letters that start in the first CASE_HEAD_BYTES bytes. At most 2 such
 * letters, so at most 4 variants, 9 when both are Greek sigma (CASE_HEAD_VARIANTS_MAX).
 */
export function caseHeadVariantCount(p: usize, len: i32): i32 {
  return caseVariantCount(p, caseHeadEnd(p, len));
}

/** Most case variants caseHeadVariantCount reports (two sigmas: 3 x 3). */
export const CASE_HEAD_VARIANTS_MAX: i32 = 9;

/** Number of two-byte cased letters in [p, p+len) after the head (the letters folded at verify time). */
export function caseTailLetterCount(p: usize, len: i32): i32 {
  const h = caseHeadEnd(p, len);
  return caseLetterCount(p + <usize>h, len - h);
}

/**
 * Lower-cases (lowerCase2) in place every two-byte cased letter of [p, p+len) that starts at or
 * after `from`, which must be a character start (e.g. caseHeadEnd). Lengths never change.
 */
export function foldCaseFrom(p: usize, len: i32, from: i32): void {
  let i = from;
  while (i < len) {
    const cp = twoByteAt(p, len, i);
    if (cp < 0) {
      i++;
      continue;
    }
    const l = lowerCase2(cp);
    if (l != cp) {
      store<u8>(p + <usize>i, <u8>(0xc0 | (l >> 6)));
      store<u8>(p + <usize>(i + 1), <u8>(0x80 | (l & 0x3f)));
    }
    i += 2;
  }
}

/**
 * Writes case variant number `index` (0 <= index < caseVariantCount) of UTF-8 text [src, src+len)
 * to `dst` (len bytes; may not overlap `src`). Variant 0 is the text itself; the others choose,
 * letter by letter (mixed radix, first letter fastest), each letter's other forms. Bytes other
 * than two-byte cased letters are copied unchanged.
 */
export function writeCaseVariant(src: usize, len: i32, index: i32, dst: usize): void {
  const forms = new StaticArray<i32>(CASE_FORMS_MAX);
  memory.copy(dst, src, <usize>len);
  let rest = index;
  let i = 0;
  while (i < len && rest > 0) {
    const cp = twoByteAt(src, len, i);
    if (cp < 0) {
      i++;
      continue;
    }
    const k = caseForms(cp, forms);
    if (k > 1) {
      const f = unchecked(forms[rest % k]);
      store<u8>(dst + <usize>i, <u8>(0xc0 | (f >> 6)));
      store<u8>(dst + <usize>(i + 1), <u8>(0x80 | (f & 0x3f)));
      rest /= k;
    }
    i += 2;
  }
}
