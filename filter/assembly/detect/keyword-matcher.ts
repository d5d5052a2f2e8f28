import { isAlnum, isSpace, lower, at } from "./char-class";
import { FindingList } from "./finding-list";
import { CASE_HEAD_BYTES, CASE_HEAD_VARIANTS_MAX, caseHeadEnd, foldCaseFrom, lowerCase2, twoByteAt } from "./unicode-case";

/** Term flags. */
export const KW_CASE_INSENSITIVE: i32 = 1;
/** The match must not be preceded or followed by a word byte ([A-Za-z0-9_] or any byte >= 0x80) where the term's edge is one. */
export const KW_WORD_BOUNDARY: i32 = 2;
/** Each space in the term matches a run of 1-64 ASCII whitespace bytes. */
export const KW_WHITESPACE_TOLERANT: i32 = 4;
/**
 * With KW_CASE_INSENSITIVE: every two-byte letter with a case pair (unicode-case.ts) that starts
 * at or after byte CASE_HEAD_BYTES (4) of the term matches any form of its case class. `add`
 * stores those letters lower-cased; verification folds the input's two-byte sequences there
 * on the fly. The first four bytes stay exact (they feed the nibble tables, the quick check and
 * the hash key): Scanner.addKeyword registers one term per case variant of the letters that
 * start in them. Terms without the flag are compared as before.
 */
export const KW_UNICODE_FOLD: i32 = 8;

/** `add` results (>= 0: the term index). */
export const KW_ERR_TOO_SHORT: i32 = -1;
export const KW_ERR_TOO_LONG: i32 = -2;
export const KW_ERR_ALREADY_BUILT: i32 = -3;
export const KW_ERR_TOO_MANY: i32 = -4;
export const KW_ERR_BAD_BYTE: i32 = -5;

export const KW_MIN_LEN: i32 = 2;
export const KW_MAX_LEN: i32 = 256;
export const KW_MAX_TERMS: i32 = 65536;
/**
 * Most terms one case-insensitive operator keyword registers (Scanner.addKeyword): one per case
 * variant of the two-byte cased letters starting in its first 4 bytes, at most 2 letters, so 4
 * (9 when both are Greek sigma, which has 3 forms). Later letters are folded (KW_UNICODE_FOLD).
 */
export const KW_MAX_CASE_VARIANTS: i32 = CASE_HEAD_VARIANTS_MAX;
const MAX_WS_RUN: i32 = 64;

// @ts-ignore: decorator
@inline function fold(c: u32): u32 {
  return isSpace(c) ? 0x20 : lower(c);
}

// @ts-ignore: decorator
@inline function isWordByte(c: u32): bool {
  return isAlnum(c) || c == 0x5f || c >= 0x80;
}

/** Past the whitespace run starting at `i` (at most MAX_WS_RUN bytes, not beyond `len`). */
// @ts-ignore: decorator
@inline function skipSpaceRun(p: usize, len: i32, i: i32): i32 {
  let r = 0;
  while (i < len && r < MAX_WS_RUN && isSpace(load<u8>(p + <usize>i))) {
    i++;
    r++;
  }
  return i;
}

/**
 * The word-boundary verdict for a term (its `n` bytes at `term`) matched over input [q, i): -1 when
 * a word byte touches a word-byte edge of the term, -2 when the end of a partial input could still
 * decide it, else `i`.
 */
// @ts-ignore: decorator
@inline function boundaryVerdict(p: usize, len: i32, q: i32, i: i32, term: usize, n: i32, partial: bool): i32 {
  if (isWordByte(load<u8>(term)) && q > 0 && isWordByte(load<u8>(p + <usize>(q - 1)))) return -1;
  if (isWordByte(load<u8>(term + <usize>(n - 1)))) {
    if (i >= len && partial) return -2;
    if (i < len && isWordByte(load<u8>(p + <usize>i))) return -1;
  }
  return i;
}

/**
 * Many-term literal matcher: one pass over the bytes finds every occurrence of every term.
 *
 * Lifecycle: `add` terms, then `build()` once (configure time); afterwards `findAll` and
 * `holdBack` may be called any number of times and the matcher is immutable. A matcher is
 * never shared between scanners that are being configured.
 *
 * Algorithm: a Teddy-style SIMD fingerprint over the first four bytes of every term (8 buckets,
 * low/high nibble tables, i8x16.swizzle) selects candidate positions at 16 bytes a step; each
 * candidate is verified through a hash of its first three (and first two) folded bytes that
 * chains the terms sharing them. Case-insensitivity is folded into the nibble tables, so the
 * input is never copied or lower-cased. Non-ASCII case (unicode-case.ts): Scanner.addKeyword
 * registers the case variants of the letters in a keyword's first four bytes as separate terms,
 * and KW_UNICODE_FOLD terms fold the two-byte letters after them at verification time.
 */
@final export class KeywordMatcher {
  private pool: Array<u8> = new Array<u8>();
  private termOff: Array<i32> = new Array<i32>();
  private termLen: Array<i32> = new Array<i32>();
  private termFlags: Array<i32> = new Array<i32>();
  /** Who registered the term (the scanner's dispatch key) and the owner's group number. */
  private termOwner: Array<i32> = new Array<i32>();
  private termGroup: Array<i32> = new Array<i32>();
  private next: Array<i32> = new Array<i32>();
  /** First four bytes | 0x20 (masked to the term length) and the mask; mask 0 = no quick check. */
  private quick: Array<u32> = new Array<u32>();
  private quickMask: Array<u32> = new Array<u32>();
  private hashKeys: StaticArray<u32> = new StaticArray<u32>(0);
  private hashHeads: StaticArray<i32> = new StaticArray<i32>(0);
  private hashMask: u32 = 0;
  /** 8 x 16 bytes: lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3 nibble tables. */
  private tables: StaticArray<u8> = new StaticArray<u8>(128);
  /** 64 Ki-bit filters keyed by hashed (byte | 0x20) trigrams / bigrams of term prefixes. */
  private tri: StaticArray<u32> = new StaticArray<u32>(2048);
  private bi: StaticArray<u32> = new StaticArray<u32>(2048);
  private built: bool = false;
  private has2: bool = false;
  /**
   * True when every term can only match at a letter boundary (word-boundary terms starting with
   * a letter, and terms registered with `gated`): the SIMD filter then drops candidates preceded
   * by an ASCII letter, which removes most of the positions inside words.
   */
  private startGated: bool = true;
  /** Longest term in bytes (whitespace runs excluded). */
  maxLen: i32 = 0;
  /**
   * Raw addresses of the per-term arrays, set by build() (they never change afterwards): the
   * match paths read through them, as an Array's indexed getter is a call with shadow-stack
   * upkeep in the incremental runtime.
   */
  private offP: usize = 0;
  private lenP: usize = 0;
  private flagsP: usize = 0;
  private ownerP: usize = 0;
  private groupP: usize = 0;
  private nextP: usize = 0;
  private quickP: usize = 0;
  private quickMaskP: usize = 0;

  get termCount(): i32 {
    return this.termLen.length;
  }
  get isBuilt(): bool {
    return this.built;
  }
  /** Owner of term `t` (after build()). */
  owner(t: i32): i32 {
    return load<i32>(this.ownerP + (<usize>t << 2));
  }
  /** Group of term `t` (after build()). */
  group(t: i32): i32 {
    return load<i32>(this.groupP + (<usize>t << 2));
  }

  /**
   * Registers `len` bytes at `ptr` as a term. Returns the term index or a KW_ERR_* code:
   * too short (< 2 bytes), too long (> 256), already built, too many terms (> 65536), or a NUL /
   * leading or trailing whitespace byte. With KW_WHITESPACE_TOLERANT, internal whitespace runs
   * are normalised to one space.
   */
  add(ptr: usize, len: i32, owner: i32, group: i32, flags: i32, gated: bool = false): i32 {
    if (this.built) return KW_ERR_ALREADY_BUILT;
    if (this.termLen.length >= KW_MAX_TERMS) return KW_ERR_TOO_MANY;
    if (len < KW_MIN_LEN) return KW_ERR_TOO_SHORT;
    if (len > KW_MAX_LEN) return KW_ERR_TOO_LONG;
    if (isSpace(load<u8>(ptr)) || isSpace(load<u8>(ptr + <usize>(len - 1)))) return KW_ERR_BAD_BYTE;
    const off = this.pool.length;
    let n = 0;
    let prevSpace = false;
    for (let i = 0; i < len; i++) {
      let c = <u32>load<u8>(ptr + <usize>i);
      if (c == 0) {
        this.pool.length = off;
        return KW_ERR_BAD_BYTE;
      }
      if (flags & KW_WHITESPACE_TOLERANT) {
        if (isSpace(c)) {
          if (prevSpace) continue;
          prevSpace = true;
          c = 0x20;
        } else prevSpace = false;
      }
      if (flags & KW_CASE_INSENSITIVE) c = lower(c);
      this.pool.push(<u8>c);
      n++;
    }
    if (n < KW_MIN_LEN) {
      this.pool.length = off;
      return KW_ERR_TOO_SHORT;
    }
    if ((flags & KW_UNICODE_FOLD) != 0) {
      const a = this.pool.dataStart + <usize>off;
      foldCaseFrom(a, n, caseHeadEnd(a, n));
    }
    const c0 = <u32>unchecked(this.pool[off]);
    // a word-boundary term starting with a letter (ASCII, or any byte >= 0x80: a word byte) can
    // never match after an ASCII letter
    const letterStart = c0 - 0x41 < 26 || c0 - 0x61 < 26 || c0 >= 0x80;
    if (!(gated || ((flags & KW_WORD_BOUNDARY) != 0 && letterStart))) this.startGated = false;
    // quick reject word: the first four bytes | 0x20, unless whitespace (runs may differ) is among them
    let qw: u32 = 0;
    let qm: u32 = 0;
    for (let i = 0; i < min(n, 4); i++) {
      const c = <u32>unchecked(this.pool[off + i]);
      if (isSpace(c)) {
        qm = 0;
        break;
      }
      qw |= (c | 0x20) << (<u32>i << 3);
      qm |= <u32>0xff << (<u32>i << 3);
    }
    if (qm == 0) qw = 0;
    this.quick.push(qw);
    this.quickMask.push(qm);
    this.termOff.push(off);
    this.termLen.push(n);
    this.termFlags.push(flags);
    this.termOwner.push(owner);
    this.termGroup.push(group);
    this.next.push(-1);
    if (n > this.maxLen) this.maxLen = n;
    return this.termLen.length - 1;
  }

  /**
   * Hash key of term `t`: its first three bytes folded (ASCII lower case, whitespace as ' '),
   * with a whitespace run collapsed to one space, so that input keys computed the same way
   * match whatever the length of the input's whitespace runs. Two-byte terms key on two bytes.
   */
  private key(t: i32): u32 {
    const off = unchecked(this.termOff[t]);
    const n = unchecked(this.termLen[t]);
    const k = collapsedKey(this.pool.dataStart + <usize>off, n);
    return n == 2 ? k & 0xffff : k;
  }

  /** Freezes the term set and builds the fingerprint and hash tables. Idempotent. */
  build(): void {
    if (this.built) return;
    this.built = true;
    const n = this.termLen.length;
    let size = 16;
    while (size < n * 2) size <<= 1;
    this.hashKeys = new StaticArray<u32>(size);
    this.hashHeads = new StaticArray<i32>(size);
    this.hashMask = <u32>size - 1;
    for (let i = 0; i < size; i++) unchecked((this.hashHeads[i] = -1));
    const tb = changetype<usize>(this.tables);
    memory.fill(tb, 0, 128);
    // insert in reverse so that chains list terms in registration order
    for (let t = n - 1; t >= 0; t--) {
      const k = this.key(t);
      let h = hash(k) & this.hashMask;
      while (unchecked(this.hashKeys[h]) != 0 && unchecked(this.hashKeys[h]) != k) h = (h + 1) & this.hashMask;
      unchecked((this.hashKeys[h] = k));
      unchecked((this.next[t] = this.hashHeads[h]));
      unchecked((this.hashHeads[h] = t));
      const len = unchecked(this.termLen[t]);
      if (len == 2) this.has2 = true;
      this.addFilterKeys(t);
    }
    this.assignBuckets();
    this.offP = this.termOff.dataStart;
    this.lenP = this.termLen.dataStart;
    this.flagsP = this.termFlags.dataStart;
    this.ownerP = this.termOwner.dataStart;
    this.groupP = this.termGroup.dataStart;
    this.nextP = this.next.dataStart;
    this.quickP = this.quick.dataStart;
    this.quickMaskP = this.quickMask.dataStart;
  }

  /**
   * Greedy Teddy bucket assignment: each term goes to the bucket where it adds the least to the
   * estimated false-positive rate, the product over the four positions of
   * |low nibbles| x |high nibbles| / 256 (terms sharing a prefix thus share a bucket for free).
   */
  private assignBuckets(): void {
    const n = this.termLen.length;
    const bLo = new StaticArray<u16>(32);
    const bHi = new StaticArray<u16>(32);
    const tLo = new StaticArray<u16>(4);
    const tHi = new StaticArray<u16>(4);
    const tb = changetype<usize>(this.tables);
    for (let t = 0; t < n; t++) {
      const len = unchecked(this.termLen[t]);
      const flags = unchecked(this.termFlags[t]);
      const off = unchecked(this.termOff[t]);
      let afterSpace = false;
      for (let pos = 0; pos < 4; pos++) {
        // past a whitespace byte the input may hold a longer run: the position is a wildcard
        if (pos >= len || afterSpace) {
          unchecked((tLo[pos] = 0xffff));
          unchecked((tHi[pos] = 0xffff));
          continue;
        }
        const c = <u32>unchecked(this.pool[off + pos]);
        if (isSpace(c)) afterSpace = true;
        let lo: u32 = 1 << (c & 15);
        let hi: u32 = 1 << (c >> 4);
        if ((flags & KW_CASE_INSENSITIVE) && c - 0x61 < 26) hi |= 1 << ((c - 0x20) >> 4);
        if ((flags & KW_WHITESPACE_TOLERANT) && c == 0x20) {
          lo |= (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13);
          hi |= 1;
        }
        unchecked((tLo[pos] = <u16>lo));
        unchecked((tHi[pos] = <u16>hi));
      }
      let best = 0;
      let bestDelta = Infinity;
      for (let b = 0; b < 8; b++) {
        let before = 1.0;
        let after = 1.0;
        for (let pos = 0; pos < 4; pos++) {
          const l = <u32>unchecked(bLo[b * 4 + pos]);
          const h = <u32>unchecked(bHi[b * 4 + pos]);
          before *= <f64>(popcnt(l) * popcnt(h)) / 256.0;
          after *= <f64>(popcnt(l | <u32>unchecked(tLo[pos])) * popcnt(h | <u32>unchecked(tHi[pos]))) / 256.0;
        }
        const delta = after - before;
        if (delta < bestDelta) {
          bestDelta = delta;
          best = b;
        }
      }
      for (let pos = 0; pos < 4; pos++) {
        unchecked((bLo[best * 4 + pos] |= tLo[pos]));
        unchecked((bHi[best * 4 + pos] |= tHi[pos]));
      }
    }
    for (let b = 0; b < 8; b++) {
      const bit = <u8>(<i32>1 << b);
      for (let pos = 0; pos < 4; pos++) {
        const lo = tb + <usize>(pos * 32);
        const hi = lo + 16;
        const l = <u32>unchecked(bLo[b * 4 + pos]);
        const h = <u32>unchecked(bHi[b * 4 + pos]);
        for (let j = 0; j < 16; j++) {
          if (l & (1 << j)) store<u8>(lo + <usize>j, load<u8>(lo + <usize>j) | bit);
          if (h & (1 << j)) store<u8>(hi + <usize>j, load<u8>(hi + <usize>j) | bit);
        }
      }
    }
  }

  private addFilterKeys(t: i32): void {
    const off = unchecked(this.termOff[t]);
    const n = unchecked(this.termLen[t]);
    // every whitespace byte collapses to ' ' in keys; the |0x20 filter sees the raw first byte of a run
    const ws = true;
    const key = collapsedKey(this.pool.dataStart + <usize>off, n);
    const a = (key & 0xff) | 0x20;
    const b = ((key >> 8) & 0xff) | 0x20;
    if (n == 2) {
      for (let i = 0; i < 6; i++) {
        const bb = variant(b, ws, i);
        if (bb == 0) continue;
        for (let j = 0; j < 6; j++) {
          const aa = variant(a, ws, j);
          if (aa == 0) continue;
          setBit(this.bi, filterHash2(aa, bb));
        }
      }
      return;
    }
    const c = ((key >> 16) & 0xff) | 0x20;
    for (let i = 0; i < 6; i++) {
      const aa = variant(a, ws, i);
      if (aa == 0) continue;
      for (let j = 0; j < 6; j++) {
        const bb = variant(b, ws, j);
        if (bb == 0) continue;
        for (let k = 0; k < 6; k++) {
          const cc = variant(c, ws, k);
          if (cc == 0) continue;
          setBit(this.tri, filterHash3(aa, bb, cc));
        }
      }
    }
  }

  /**
   * Appends one hit per term occurrence to `hits` as (owner, start, end, term index); the
   * caller maps the term to its group with `group(term)`. Occurrences may overlap. (Scanner runs
   * the same block loop fused into its own byte scan, through `tablesPtr`, `gated`, `candidate`
   * and `findTail`, so that the text is read once.)
   */
  findAll(p: usize, len: i32, hits: FindingList): void {
    if (!this.built || this.termLen.length == 0 || len < KW_MIN_LEN) return;
    const tb = changetype<usize>(this.tables);
    const lo0 = v128.load(tb);
    const hi0 = v128.load(tb, 16);
    const lo1 = v128.load(tb, 32);
    const hi1 = v128.load(tb, 48);
    const lo2 = v128.load(tb, 64);
    const hi2 = v128.load(tb, 80);
    const lo3 = v128.load(tb, 96);
    const hi3 = v128.load(tb, 112);
    const nib = i8x16.splat(0x0f);
    const zero = i8x16.splat(0);
    const c20 = i8x16.splat(0x20);
    const ca = i8x16.splat(0x61);
    const c26 = i8x16.splat(26);
    // with start gating, a candidate survives only when the byte before it is not an ASCII letter
    const gate = this.startGated ? i8x16.splat(-1) : i8x16.splat(0);
    // Each block is loaded once. T_k marks, per byte, the buckets whose term has that byte at
    // position k; a term starting at s needs T0[s] & T1[s+1] & T2[s+2] & T3[s+3], evaluated at
    // the end lane e = s + 3 with the previous block's tables shifted in (so s = e - 3).
    let pT0 = zero;
    let pT1 = zero;
    let pT2 = zero;
    let pL = zero;
    let i = 0;
    while (i + 16 <= len) {
      const a = p + <usize>i;
      const v = v128.load(a);
      const lo = v128.and(v, nib);
      const hi = i8x16.shr_u(v, 4);
      const t0 = v128.and(i8x16.swizzle(lo0, lo), i8x16.swizzle(hi0, hi));
      const t1 = v128.and(i8x16.swizzle(lo1, lo), i8x16.swizzle(hi1, hi));
      const t2 = v128.and(i8x16.swizzle(lo2, lo), i8x16.swizzle(hi2, hi));
      const t3 = v128.and(i8x16.swizzle(lo3, lo), i8x16.swizzle(hi3, hi));
      const letter = v128.and(gate, i8x16.lt_u(i8x16.sub(v128.or(v, c20), ca), c26));
      let m = v128.and(t3, i8x16.shuffle(pT2, t2, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30));
      m = v128.and(m, i8x16.shuffle(pT1, t1, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29));
      m = v128.and(m, i8x16.shuffle(pT0, t0, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28));
      m = v128.andnot(m, i8x16.shuffle(pL, letter, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27));
      pT0 = t0;
      pT1 = t1;
      pT2 = t2;
      pL = letter;
      let bits = i8x16.bitmask(i8x16.ne(m, zero));
      while (bits != 0) {
        const j = ctz(bits);
        bits &= bits - 1;
        const s = i + j - 3;
        if (s < 0) continue;
        // inline trigram filter for the common case (no whitespace at the second byte)
        const q = p + <usize>s;
        const r1 = <u32>load<u8>(q, 1);
        if (!this.has2 && r1 > 0x20 && !testBit(this.tri, filterHash3(<u32>load<u8>(q) | 0x20, r1 | 0x20, <u32>load<u8>(q, 2) | 0x20))) continue;
        this.verifyAt(p, len, s, hits);
      }
      i += 16;
    }
    // candidates starting in the last three bytes before `i` (their end lane lies past the
    // last full block) and in the rest of the buffer are checked one by one
    i = max(0, i - 3);
    for (; i < len - 1; i++) {
      if (this.startGated && i > 0 && ((<u32>load<u8>(p + <usize>(i - 1)) | 0x20) - 0x61) < 26) continue;
      if (this.fingerprint(p, len, i)) this.verifyAt(p, len, i, hits);
    }
  }

  /** Address of the 8 x 16-byte nibble tables (lo0, hi0, ..., lo3, hi3) for a fused scan loop. */
  get tablesPtr(): usize {
    return changetype<usize>(this.tables);
  }
  /** Whether candidates preceded by an ASCII letter can be dropped (see findAll). */
  get gated(): bool {
    return this.startGated;
  }

  /**
   * Verifies a fingerprint candidate starting at `s` (from findAll or a fused scan loop): a quick
   * trigram filter, then the hash chains. Appends hits like findAll.
   */
  // @ts-ignore: decorator
  @inline candidate(p: usize, len: i32, s: i32, hits: FindingList): void {
    const q = p + <usize>s;
    const r1 = <u32>load<u8>(q, 1);
    if (this.has2 || r1 <= 0x20 || testBit(this.tri, filterHash3(<u32>load<u8>(q) | 0x20, r1 | 0x20, <u32>load<u8>(q, 2) | 0x20))) {
      this.verifyAt(p, len, s, hits);
    }
  }

  /** The scalar part of findAll for candidate starts in [from, len). */
  findTail(p: usize, len: i32, from: i32, hits: FindingList): void {
    for (let i = from; i < len - 1; i++) {
      if (this.startGated && i > 0 && ((<u32>load<u8>(p + <usize>(i - 1)) | 0x20) - 0x61) < 26) continue;
      if (this.fingerprint(p, len, i)) this.verifyAt(p, len, i, hits);
    }
  }

  private fingerprint(p: usize, len: i32, i: i32): bool {
    const tb = changetype<usize>(this.tables);
    let m: u32 = 0xff;
    for (let pos = 0; pos < 4; pos++) {
      if (i + pos >= len) break;
      const c = <u32>load<u8>(p + <usize>(i + pos));
      m &= <u32>load<u8>(tb + <usize>(pos * 32) + <usize>(c & 15)) & <u32>load<u8>(tb + <usize>(pos * 32 + 16) + <usize>(c >> 4));
    }
    return m != 0;
  }

  private lookup(k: u32): i32 {
    let h = hash(k) & this.hashMask;
    while (true) {
      const hk = unchecked(this.hashKeys[h]);
      if (hk == k) return unchecked(this.hashHeads[h]);
      if (hk == 0) return -1;
      h = (h + 1) & this.hashMask;
    }
    return -1;
  }

  private verifyAt(p: usize, len: i32, q: i32, hits: FindingList): void {
    // the first three bytes with a whitespace run collapsed (see key())
    const r0 = <u32>load<u8>(p + <usize>q);
    const r1 = at(p, len, q + 1);
    let j = q + 2;
    if (isSpace(r1)) while (j < len && isSpace(load<u8>(p + <usize>j))) j++;
    const has3 = j < len;
    const r2 = has3 ? <u32>load<u8>(p + <usize>j) : 0;
    const pass3 = has3 && testBit(this.tri, filterHash3(r0 | 0x20, r1 | 0x20, r2 | 0x20));
    const pass2 = this.has2 && testBit(this.bi, filterHash2(r0 | 0x20, r1 | 0x20));
    if (!pass3 && !pass2) return;
    const k2 = fold(r0) | (fold(r1) << 8);
    let w: u32 = 0;
    if (q + 4 <= len) w = load<u32>(p + <usize>q) | 0x20202020;
    else for (let i = 0; i < len - q; i++) w |= (<u32>load<u8>(p + <usize>(q + i)) | 0x20) << (<u32>i << 3);
    if (pass3) {
      let t = this.lookup(k2 | (fold(r2) << 16));
      while (t >= 0) {
        if ((w & load<u32>(this.quickMaskP + (<usize>t << 2))) != load<u32>(this.quickP + (<usize>t << 2))) {
          t = load<i32>(this.nextP + (<usize>t << 2));
          continue;
        }
        const e = this.verifyTerm(p, len, q, t, false);
        if (e >= 0) hits.push(load<i32>(this.ownerP + (<usize>t << 2)), q, e, t);
        t = load<i32>(this.nextP + (<usize>t << 2));
      }
    }
    if (pass2) {
      let t = this.lookup(k2);
      while (t >= 0) {
        const e = this.verifyTerm(p, len, q, t, false);
        if (e >= 0) hits.push(load<i32>(this.ownerP + (<usize>t << 2)), q, e, t);
        t = load<i32>(this.nextP + (<usize>t << 2));
      }
    }
  }

  /**
   * Matches term `t` at `q`. Returns the end offset, -1 on mismatch; with `partial`, returns
   * -2 when the input ends while the term still matches (or when a full match ends exactly at
   * the end of the input and a following byte could still change the verdict).
   */
  verifyTerm(p: usize, len: i32, q: i32, t: i32, partial: bool): i32 {
    const off = load<i32>(this.offP + (<usize>t << 2));
    const n = load<i32>(this.lenP + (<usize>t << 2));
    const flags = load<i32>(this.flagsP + (<usize>t << 2));
    if (flags & KW_UNICODE_FOLD) return this.verifyFolded(p, len, q, off, n, flags, partial);
    const ci = (flags & KW_CASE_INSENSITIVE) != 0;
    const ws = (flags & KW_WHITESPACE_TOLERANT) != 0;
    const pool = this.pool.dataStart;
    let i = q;
    for (let k = 0; k < n; k++) {
      const tc = <u32>load<u8>(pool + <usize>(off + k));
      if (i >= len) return partial ? -2 : -1;
      let c = <u32>load<u8>(p + <usize>i);
      if (ws && tc == 0x20) {
        if (!isSpace(c)) return -1;
        i = skipSpaceRun(p, len, i);
        if (i >= len && partial) return -2;
        continue;
      }
      if (ci) c = lower(c);
      if (c != tc) return -1;
      i++;
    }
    if (flags & KW_WORD_BOUNDARY) return boundaryVerdict(p, len, q, i, pool + <usize>off, n, partial);
    return i;
  }

  /**
   * verifyTerm for a KW_UNICODE_FOLD term (stored with its two-byte letters after the head
   * lower-cased): the head bytes (< CASE_HEAD_BYTES, and the rest of a two-byte letter starting at
   * byte 3) compare exactly (ASCII folded); from there on an input two-byte sequence equals the
   * term's when it is the same or lowerCase2 maps it to the term's code point. Both forms of a
   * pair are two bytes long, so the input span has the term's length (whitespace runs aside).
   */
  private verifyFolded(p: usize, len: i32, q: i32, off: i32, n: i32, flags: i32, partial: bool): i32 {
    const ci = (flags & KW_CASE_INSENSITIVE) != 0;
    const ws = (flags & KW_WHITESPACE_TOLERANT) != 0;
    const pool = this.pool.dataStart + <usize>off;
    let i = q;
    let k = 0;
    while (k < n) {
      const tc = <u32>load<u8>(pool + <usize>k);
      if (i >= len) return partial ? -2 : -1;
      let c = <u32>load<u8>(p + <usize>i);
      if (ws && tc == 0x20) {
        if (!isSpace(c)) return -1;
        i = skipSpaceRun(p, len, i);
        if (i >= len && partial) return -2;
        k++;
        continue;
      }
      // a two-byte sequence of the term after the head (the same test as twoByteAt)
      if (k >= CASE_HEAD_BYTES && tc - 0xc2 < 0x1e && k + 1 < n && (<u32>load<u8>(pool + <usize>(k + 1)) & 0xc0) == 0x80) {
        const t1 = <u32>load<u8>(pool + <usize>(k + 1));
        if (i + 1 >= len) return partial && c - 0xc2 < 0x1e ? -2 : -1;
        if (c != tc || <u32>load<u8>(p + <usize>(i + 1)) != t1) {
          const cp = twoByteAt(p, len, i);
          if (cp < 0 || <u32>lowerCase2(cp) != (((tc & 0x1f) << 6) | (t1 & 0x3f))) return -1;
        }
        i += 2;
        k += 2;
        continue;
      }
      if (ci) c = lower(c);
      if (c != tc) return -1;
      i++;
      k++;
    }
    if (flags & KW_WORD_BOUNDARY) return boundaryVerdict(p, len, q, i, pool, n, partial);
    return i;
  }

  /**
   * Earliest offset in [0, len] from which a term occurrence could still be completed by bytes
   * appended after `len` (a proper prefix of a term, or a word-boundary term that ends exactly at
   * `len`); `len` when none. Looks back at most maxLen + 64 bytes.
   */
  holdBack(p: usize, len: i32): i32 {
    if (!this.built || this.termLen.length == 0) return len;
    const from = max(0, len - this.maxLen - MAX_WS_RUN);
    for (let q = from; q < len; q++) {
      if (this.startGated && q > 0 && ((<u32>load<u8>(p + <usize>(q - 1)) | 0x20) - 0x61) < 26) continue;
      if (!this.fingerprint(p, len, q)) continue;
      const rem = len - q;
      if (rem >= 3 && collapsedLen(p + <usize>q, rem) >= 3) {
        const k = collapsedKey(p + <usize>q, rem);
        let t = this.lookup(k);
        while (t >= 0) {
          if (this.verifyTerm(p, len, q, t, true) == -2) return q;
          t = load<i32>(this.nextP + (<usize>t << 2));
        }
        if (this.has2) {
          t = this.lookup(k & 0xffff);
          while (t >= 0) {
            if (this.verifyTerm(p, len, q, t, true) == -2) return q;
            t = load<i32>(this.nextP + (<usize>t << 2));
          }
        }
      } else {
        // one or two bytes left (or a whitespace run reaching the end): the fingerprint already
        // says some term may start here; holding these few bytes is always safe
        return q;
      }
    }
    return len;
  }
}

/** Folded first three bytes at `a` (of `n`), a whitespace run after the first byte collapsed to one ' '. */
function collapsedKey(a: usize, n: i32): u32 {
  const c0 = fold(load<u8>(a));
  if (n < 2) return c0;
  const c1 = fold(load<u8>(a + 1));
  let j = 2;
  if (c1 == 0x20) while (j < n && isSpace(load<u8>(a + <usize>j))) j++;
  if (j >= n) return c0 | (c1 << 8);
  return c0 | (c1 << 8) | (fold(load<u8>(a + <usize>j)) << 16);
}

/** Number of key bytes `collapsedKey` finds (1-3). */
function collapsedLen(a: usize, n: i32): i32 {
  if (n < 2) return n;
  let j = 2;
  if (isSpace(load<u8>(a + 1))) while (j < n && isSpace(load<u8>(a + <usize>j))) j++;
  return j < n ? 3 : 2;
}

/** Byte `c` as seen through `| 0x20` for variant `i`: itself, or (whitespace-tolerant spaces) each ASCII whitespace byte. 0 = skip. */
function variant(c: u32, ws: bool, i: i32): u32 {
  if (ws && c == 0x20) {
    // ' ', \t, \n, \v, \f, \r all become distinct bytes under | 0x20
    if (i == 0) return 0x20;
    return (<u32>(0x08 + i)) | 0x20;
  }
  if (i > 0) return 0;
  // both cases of a letter fold to the same byte under | 0x20
  return c | 0x20;
}

// @ts-ignore: decorator
@inline function filterHash3(a: u32, b: u32, c: u32): u32 {
  return ((a | (b << 8) | (c << 16)) * 0x9e3779b1) >> 16;
}
// @ts-ignore: decorator
@inline function filterHash2(a: u32, b: u32): u32 {
  return ((a | (b << 8)) * 0x85ebca6b) >> 16;
}
// @ts-ignore: decorator
@inline function setBit(bits: StaticArray<u32>, h: u32): void {
  unchecked((bits[h >> 5] = bits[h >> 5] | (<u32>1 << (h & 31))));
}
// @ts-ignore: decorator
@inline function testBit(bits: StaticArray<u32>, h: u32): bool {
  return (unchecked(bits[h >> 5]) & (<u32>1 << (h & 31))) != 0;
}

// @ts-ignore: decorator
@inline function hash(k: u32): u32 {
  return k * 0x9e3779b1;
}

function setByte(lo: usize, hi: usize, c: u32, bit: u8): void {
  store<u8>(lo + <usize>(c & 15), load<u8>(lo + <usize>(c & 15)) | bit);
  store<u8>(hi + <usize>(c >> 4), load<u8>(hi + <usize>(c >> 4)) | bit);
}
