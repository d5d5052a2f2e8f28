import {
  ALL_BUILTIN, DETECTOR_EMAIL, DETECTOR_PHONE, DETECTOR_CREDIT_CARD, DETECTOR_US_SSN, DETECTOR_IBAN,
  DETECTOR_IP_ADDRESS, DETECTOR_AWS_ACCESS_KEY, DETECTOR_GITHUB_TOKEN, DETECTOR_SLACK_TOKEN,
  DETECTOR_GOOGLE_API_KEY, DETECTOR_STRIPE_KEY, DETECTOR_OPENAI_API_KEY, DETECTOR_JWT, DETECTOR_PRIVATE_KEY,
  DETECTOR_PROMPT_INJECTION, DETECTOR_CUSTOM, IP_AUX_V4, IP_AUX_V6, AWS_AUX_ACCESS_KEY_ID,
  AWS_AUX_SECRET_ACCESS_KEY, SLACK_AUX_TOKEN, SLACK_AUX_WEBHOOK, INJECTION_AUX_PHRASE, INJECTION_AUX_TAG_CHARS,
  INJECTION_AUX_BIDI, INJECTION_AUX_ZERO_WIDTH,
} from "./detector-ids";
import { FindingList } from "./finding-list";
import { isDigit, isSpace, isUpper } from "./char-class";
import { matchEmail, emailStart } from "./email";
import { matchPhone, phoneStart } from "./phone";
import { matchCreditCard } from "./credit-card";
import { matchUsSsn, ssnUnformatted } from "./us-ssn";
import { matchIban } from "./iban";
import { matchIpv4, matchIpv6, ipv6Start, ipv6TokenEnd } from "./ip-address";
import { matchAwsAccessKey, matchAwsSecretAfter, awsSecretStart, AWS_SECRET_KEYWORDS } from "./aws-access-key";
import { matchGithubToken, githubStart } from "./github-token";
import { matchSlackToken, matchSlackWebhook, slackStart } from "./slack-token";
import { matchGoogleApiKey } from "./google-api-key";
import { matchStripeKey, stripeStart } from "./stripe-key";
import { matchOpenaiApiKey, openaiStart } from "./openai-api-key";
import { matchJwt, jwtStart } from "./jwt";
import { matchPrivateKey } from "./private-key";
import {
  matchPhrase, phrasePatternCount, phraseAnchorCount, phraseAnchor, unicodeKind, unicodeRunEnd, runCount,
  U_NONE, U_TAG, U_BIDI, U_ZW,
} from "./prompt-injection";
import {
  KeywordMatcher, KW_CASE_INSENSITIVE, KW_WHITESPACE_TOLERANT, KW_UNICODE_FOLD, KW_MAX_TERMS, KW_MAX_LEN,
  KW_ERR_TOO_MANY, KW_ERR_TOO_LONG, KW_ERR_ALREADY_BUILT,
} from "./keyword-matcher";
import { caseHeadVariantCount, caseTailLetterCount, writeCaseVariant } from "./unicode-case";
import { resolveOverlaps } from "./resolve-overlaps";
import { holdBackPoint } from "./hold-back";

/** Keyword owners inside the scanner's single keyword matcher. */
export const OWNER_CUSTOM: i32 = 0;
export const OWNER_PHRASE: i32 = 1;
export const OWNER_AWS_CONTEXT: i32 = 2;

/**
 * Scanner configuration; plain data, read once by `new Scanner(options)`.
 */
@final export class ScanOptions {
  /** Bit i enables built-in detector i (see detector-ids.ts). Defaults to all built-ins. */
  enabled: u32 = ALL_BUILTIN;
  /** Accept a bare 9-digit SSN when "ssn"/"social security" occurs within 48 bytes before. Defaults to true. */
  ssnUnformattedWithContext: bool = true;
  /** Find 40-character AWS secret access keys after a context keyword (aws_access_key, aux 1). Defaults to true. */
  awsSecretWithContext: bool = true;
  /** Minimum run of zero-width characters reported as prompt_injection (aux 3). Defaults to 3. */
  zeroWidthMinRun: i32 = 3;
}

const SCRATCH = memory.data(64);
/** One case variant of an operator keyword (at most KW_MAX_LEN bytes). */
const VARIANT = memory.data(KW_MAX_LEN);
/** A whitespace-tolerant keyword with its whitespace runs collapsed (at most KW_MAX_LEN bytes). */
const COLLAPSED = memory.data(KW_MAX_LEN);

/** Copies [p, p+len) to `dst` with each ASCII whitespace run as one ' ' (as KeywordMatcher.add does); returns the length. */
function collapseWhitespace(p: usize, len: i32, dst: usize): i32 {
  let n = 0;
  let prevSpace = false;
  for (let i = 0; i < len; i++) {
    const c = <u32>load<u8>(p + <usize>i);
    if (isSpace(c)) {
      if (prevSpace) continue;
      prevSpace = true;
      store<u8>(dst + <usize>n, 0x20);
      n++;
    } else {
      prevSpace = false;
      store<u8>(dst + <usize>n, <u8>c);
      n++;
    }
  }
  return n;
}

/** Most terms build() registers for the built-in detectors (phrase anchors, AWS context words). */
let builtinTerms: i32 = -1;

/**
 * Terms left for operator keywords (and their case variants) in the scanner's matcher, so that
 * build() always has room for the built-in terms.
 */
export function customTermLimit(): i32 {
  if (builtinTerms < 0) {
    let n = 0;
    const np = phrasePatternCount();
    for (let pi = 0; pi < np; pi++) n += phraseAnchorCount(pi);
    builtinTerms = n + 2 * AWS_SECRET_KEYWORDS.length;
  }
  return KW_MAX_TERMS - builtinTerms;
}

/**
 * One configured detector set. Build it at configure time (root context), reuse it for every
 * message; it is immutable after `build()` (which the first `scan`/`holdBack` calls implicitly)
 * and holds only scratch state between calls, so one scanner serves all HTTP contexts of a VM.
 */
@final export class Scanner {
  readonly enabled: u32;
  readonly ssnUnformatted: bool;
  readonly awsSecret: bool;
  readonly zeroWidthMinRun: i32;
  /** Custom + phrase-anchor + AWS-context terms, one pass. */
  readonly keywords: KeywordMatcher = new KeywordMatcher();
  private hits: FindingList = new FindingList(64);
  private scratch: FindingList = new FindingList(64);
  private customTerms: i32 = 0;

  constructor(options: ScanOptions | null = null) {
    const o = options ? options : new ScanOptions();
    this.enabled = o.enabled & ALL_BUILTIN;
    this.ssnUnformatted = o.ssnUnformattedWithContext;
    this.awsSecret = o.awsSecretWithContext;
    this.zeroWidthMinRun = max(1, o.zeroWidthMinRun);
  }

  /**
   * Adds an operator keyword (UTF-8 bytes at `ptr`) for custom detector number `group`; its
   * findings are reported as DETECTOR_CUSTOM with aux = group. `flags`: KW_CASE_INSENSITIVE,
   * KW_WORD_BOUNDARY, KW_WHITESPACE_TOLERANT. Returns the index of its first term (>= 0) or a
   * KW_ERR_* code, and then registers nothing. Only before `build()`.
   *
   * Case-insensitive keywords fold ASCII letters in the matcher; letters with a two-byte case
   * pair (unicode-case.ts: "ü"/"Ü", "σ"/"Σ"/"ς", "п"/"П", ...) are folded too, whatever their
   * number: those starting in the first 4 bytes (which the matcher's prefilters read exactly)
   * are expanded here into one term per case variant (at most 4, or 9 with two Greek sigmas:
   * KW_MAX_CASE_VARIANTS), all with the same owner and group; the letters after them are folded
   * by the matcher when it verifies a candidate (KW_UNICODE_FOLD, set here only for keywords that
   * have such letters, so other terms keep the plain comparison). The keywords and their
   * variants share `customTermLimit()` terms (KW_ERR_TOO_MANY beyond).
   */
  addKeyword(ptr: usize, len: i32, group: i32, flags: i32): i32 {
    let variants = 1;
    let src = ptr;
    let n = len;
    if ((flags & KW_CASE_INSENSITIVE) != 0) {
      if (len > KW_MAX_LEN) return KW_ERR_TOO_LONG;
      // the matcher collapses whitespace runs first: the head is counted on the collapsed bytes
      if ((flags & KW_WHITESPACE_TOLERANT) != 0) {
        n = collapseWhitespace(ptr, len, COLLAPSED);
        src = COLLAPSED;
      }
      variants = caseHeadVariantCount(src, n);
      if (caseTailLetterCount(src, n) > 0) flags |= KW_UNICODE_FOLD;
    }
    if (this.keywords.isBuilt) return KW_ERR_ALREADY_BUILT;
    if (this.keywords.termCount + variants > customTermLimit()) return KW_ERR_TOO_MANY;
    const r = this.keywords.add(src, n, OWNER_CUSTOM, group, flags);
    if (r < 0) return r;
    // the variants have the keyword's length, edges and NUL-freedom, and room was checked: they cannot fail
    for (let v = 1; v < variants; v++) {
      writeCaseVariant(src, n, v, VARIANT);
      this.keywords.add(VARIANT, n, OWNER_CUSTOM, group, flags);
    }
    this.customTerms++;
    return r;
  }

  /** `addKeyword` for an AssemblyScript string (encoded as UTF-8); configure-time convenience. */
  addKeywordString(term: string, group: i32, flags: i32): i32 {
    const b = String.UTF8.encode(term, false);
    return this.addKeyword(changetype<usize>(b), b.byteLength, group, flags);
  }

  /** Freezes the configuration: registers built-in anchors and builds the keyword tables. Idempotent. */
  build(): void {
    if (this.keywords.isBuilt) return;
    if (this.enabled & (1 << DETECTOR_PROMPT_INJECTION)) {
      const np = phrasePatternCount();
      for (let pi = 0; pi < np; pi++) {
        const na = phraseAnchorCount(pi);
        for (let k = 0; k < na; k++) {
          const n = phraseAnchor(pi, k, SCRATCH);
          this.keywords.add(SCRATCH, n, OWNER_PHRASE, pi, KW_CASE_INSENSITIVE | KW_WHITESPACE_TOLERANT, true);
        }
      }
    }
    if ((this.enabled & (1 << DETECTOR_AWS_ACCESS_KEY)) && this.awsSecret) {
      for (let k = 0; k < AWS_SECRET_KEYWORDS.length; k++) {
        const b = String.UTF8.encode(AWS_SECRET_KEYWORDS[k], false);
        this.keywords.add(changetype<usize>(b), b.byteLength, OWNER_AWS_CONTEXT, 0, KW_CASE_INSENSITIVE, true);
        // also the spaced form: "secret access key"
        const spaced = AWS_SECRET_KEYWORDS[k].replaceAll("_", " ");
        if (spaced != AWS_SECRET_KEYWORDS[k]) {
          const c = String.UTF8.encode(spaced, false);
          this.keywords.add(changetype<usize>(c), c.byteLength, OWNER_AWS_CONTEXT, 0, KW_CASE_INSENSITIVE | KW_WHITESPACE_TOLERANT, true);
        }
      }
    }
    this.keywords.build();
  }

  /** Number of operator keywords added. */
  get customTermCount(): i32 {
    return this.customTerms;
  }

  /**
   * Scans `len` bytes at `ptr` with every enabled detector and the custom keywords. `out` is
   * reset, then receives the findings sorted by start, non-overlapping (see resolveOverlaps),
   * with byte offsets relative to `ptr`. Findings are clipped to start at `reportFrom` or later
   * (bytes before it are look-behind context a stream carry already reported); findings entirely
   * before it are dropped. `mask` narrows the configured detectors for this call only (bit i =
   * built-in i, bit DETECTOR_CUSTOM = the custom keywords), e.g. for a per-principal override;
   * disabled detectors never take part in overlap resolution. Returns the number of findings.
   * Allocates nothing once `out` and the scanner's scratch lists are warm.
   */
  scan(ptr: usize, len: i32, out: FindingList, reportFrom: i32 = 0, mask: u32 = 0xffffffff): i32 {
    this.build();
    out.reset();
    if (len <= 0) return 0;
    const en = this.enabled & mask;
    const kw = this.keywords.termCount > 0 && len >= 2 &&
      (mask & ((1 << DETECTOR_CUSTOM) | (1 << DETECTOR_PROMPT_INJECTION) | (1 << DETECTOR_AWS_ACCESS_KEY))) != 0;
    this.hits.reset();
    // no built-in detector on: only the keyword pass (same hits as the fused loop)
    if (en != 0) scanBytes(this, en, ptr, len, out, kw ? this.keywords : null, this.hits);
    else if (kw) this.keywords.findAll(ptr, len, this.hits);
    if (kw) this.processKeywordHits(ptr, len, out, en, (mask & (1 << DETECTOR_CUSTOM)) != 0);
    resolveOverlaps(out, this.scratch);
    if (reportFrom > 0) clipBefore(out, reportFrom);
    return out.count;
  }

  private processKeywordHits(p: usize, len: i32, out: FindingList, en: u32, custom: bool): void {
    const hits = this.hits;
    const kw = this.keywords;
    let phraseSkip = 0;
    for (let i = 0; i < hits.count; i++) {
      const owner = hits.detector(i);
      const s = hits.start(i);
      const e = hits.end(i);
      const t = hits.aux(i);
      if (owner == OWNER_CUSTOM) {
        if (custom) out.push(DETECTOR_CUSTOM, s, e, kw.group(t));
      } else if (owner == OWNER_PHRASE) {
        if (s < phraseSkip || (en & (1 << DETECTOR_PROMPT_INJECTION)) == 0) continue;
        const pe = matchPhrase(p, len, s, kw.group(t), false);
        if (pe > s) {
          out.push(DETECTOR_PROMPT_INJECTION, s, pe, INJECTION_AUX_PHRASE);
          phraseSkip = pe;
        }
      } else if (owner == OWNER_AWS_CONTEXT) {
        if ((en & (1 << DETECTOR_AWS_ACCESS_KEY)) == 0) continue;
        const ae = matchAwsSecretAfter(p, len, e);
        if (ae > 0) out.push(DETECTOR_AWS_ACCESS_KEY, awsSecretStart, ae, AWS_AUX_SECRET_ACCESS_KEY);
      }
    }
  }

  /**
   * Stream hold-back point for the text at `ptr` (see hold-back.ts): the smallest offset from
   * which a still-incomplete match could start, so bytes [result, len) must be carried into the
   * next scan; `len` when nothing is open. Never holds more than MAX_HOLD_BACK bytes. `mask` as
   * for `scan` (use the same mask for both).
   */
  holdBack(ptr: usize, len: i32, mask: u32 = 0xffffffff): i32 {
    this.build();
    return holdBackPoint(this, this.enabled & mask, (mask & (1 << DETECTOR_CUSTOM)) != 0, ptr, len);
  }
}

function clipBefore(out: FindingList, from: i32): void {
  let w = 0;
  for (let i = 0; i < out.count; i++) {
    const e = out.end(i);
    if (e <= from) continue;
    out.set(w, out.detector(i), max(out.start(i), from), e, out.aux(i));
    w++;
  }
  out.truncate(w);
}

// ---------------------------------------------------------------------------------------------
// The byte scan: a SIMD prefilter marks trigger bytes 16 at a time, then each trigger is
// verified by the scalar matcher of the detectors it can start.

let skipUntil: i32 = 0;
let ipv6Skip: i32 = 0;

// Trigger bytes as a nibble-table set (low/high nibble tables, one bit per high-nibble group so
// that the tables accept exactly the chosen bytes), rebuilt for the enabled detectors only: a
// byte whose detectors are all off is never dispatched. Cached for the last `en` (any scanner).
const TRIGGER_LO = memory.data(16);
const TRIGGER_HI = memory.data(16);
let triggerEn: u32 = 0xffffffff;
function addTrigger(c: u32): void {
  const bit = <u8>(<i32>1 << triggerGroup(c >> 4));
  store<u8>(TRIGGER_LO + <usize>(c & 15), load<u8>(TRIGGER_LO + <usize>(c & 15)) | bit);
  store<u8>(TRIGGER_HI + <usize>(c >> 4), load<u8>(TRIGGER_HI + <usize>(c >> 4)) | bit);
}
function triggerGroup(hi: u32): i32 {
  // '@' 'A' 'J' | '-' '/' | 0xE2 0xEF | ':' | '_' | 'x' | 0xF3
  if (hi == 4) return 0;
  if (hi == 2) return 1;
  if (hi == 0xe) return 2;
  if (hi == 3) return 3;
  if (hi == 5) return 4;
  if (hi == 7) return 5;
  return 6;
}
/** Detectors started by a digit run (numericAt). */
const NUMERIC_DETECTORS: u32 = (1 << DETECTOR_PHONE) | (1 << DETECTOR_CREDIT_CARD) | (1 << DETECTOR_US_SSN) |
  (1 << DETECTOR_IBAN) | (1 << DETECTOR_IP_ADDRESS);
function prepareTriggers(en: u32): void {
  if (en == triggerEn) return;
  triggerEn = en;
  memory.fill(TRIGGER_LO, 0, 16);
  memory.fill(TRIGGER_HI, 0, 16);
  if (on(en, DETECTOR_EMAIL)) addTrigger(0x40); // '@'
  if (on(en, DETECTOR_AWS_ACCESS_KEY) || on(en, DETECTOR_GOOGLE_API_KEY)) addTrigger(0x41); // 'A'
  if (on(en, DETECTOR_JWT)) addTrigger(0x4a); // 'J' of "eyJ"
  if (on(en, DETECTOR_PRIVATE_KEY) || on(en, DETECTOR_OPENAI_API_KEY)) addTrigger(0x2d); // '-'
  if (on(en, DETECTOR_SLACK_TOKEN)) {
    addTrigger(0x2f); // '/'
    addTrigger(0x78); // 'x'
  }
  if (on(en, DETECTOR_IP_ADDRESS)) addTrigger(0x3a); // ':'
  if (on(en, DETECTOR_GITHUB_TOKEN) || on(en, DETECTOR_STRIPE_KEY)) addTrigger(0x5f); // '_'
  if (on(en, DETECTOR_PROMPT_INJECTION)) {
    addTrigger(0xe2);
    addTrigger(0xef);
    addTrigger(0xf3);
  }
}
// @ts-ignore: decorator
@inline function isTrigger(c: u32): bool {
  return (load<u8>(TRIGGER_LO + <usize>(c & 15)) & load<u8>(TRIGGER_HI + <usize>(c >> 4))) != 0;
}

function scanBytes(sc: Scanner, en: u32, p: usize, len: i32, out: FindingList, kw: KeywordMatcher | null, hits: FindingList): void {
  skipUntil = 0;
  ipv6Skip = 0;
  prepareTriggers(en);
  const numeric = (en & NUMERIC_DETECTORS) != 0;
  const digitGate = numeric ? i8x16.splat(-1) : i8x16.splat(0);
  const c0 = i8x16.splat(0x30);
  const c10 = i8x16.splat(10);
  const nib = i8x16.splat(0x0f);
  const zero = i8x16.splat(0);
  const ca = i8x16.splat(0x61);
  const c26 = i8x16.splat(26);
  const cus = i8x16.splat(0x5f);
  // trigger bytes of the enabled detectors ('@' ':' '_' '-' 'A' 'J' 'x' '/' 0xE2 0xEF 0xF3)
  const lo = v128.load(TRIGGER_LO);
  const hi = v128.load(TRIGGER_HI);
  // keyword fingerprint tables (fused Teddy pass, see KeywordMatcher.findAll for the scheme)
  const useKw = kw != null;
  const tb = useKw ? changetype<KeywordMatcher>(kw).tablesPtr : TRIGGER_LO;
  const klo0 = useKw ? v128.load(tb) : zero;
  const khi0 = useKw ? v128.load(tb, 16) : zero;
  const klo1 = useKw ? v128.load(tb, 32) : zero;
  const khi1 = useKw ? v128.load(tb, 48) : zero;
  const klo2 = useKw ? v128.load(tb, 64) : zero;
  const khi2 = useKw ? v128.load(tb, 80) : zero;
  const klo3 = useKw ? v128.load(tb, 96) : zero;
  const khi3 = useKw ? v128.load(tb, 112) : zero;
  const gate = useKw && changetype<KeywordMatcher>(kw).gated ? i8x16.splat(-1) : zero;
  const c20 = i8x16.splat(0x20);
  let pT0 = zero;
  let pT1 = zero;
  let pT2 = zero;
  let pL = zero;
  let prev = i8x16.splat(0);
  let i = 0;
  while (i + 16 <= len) {
    const v = v128.load(p + <usize>i);
    const pv = i8x16.shuffle(prev, v, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
    prev = v;
    const vlo = v128.and(v, nib);
    const vhi = i8x16.shr_u(v, 4);
    if (useKw) {
      const t0 = v128.and(i8x16.swizzle(klo0, vlo), i8x16.swizzle(khi0, vhi));
      const t1 = v128.and(i8x16.swizzle(klo1, vlo), i8x16.swizzle(khi1, vhi));
      const t2 = v128.and(i8x16.swizzle(klo2, vlo), i8x16.swizzle(khi2, vhi));
      const t3 = v128.and(i8x16.swizzle(klo3, vlo), i8x16.swizzle(khi3, vhi));
      const letter = v128.and(gate, i8x16.lt_u(i8x16.sub(v128.or(v, c20), ca), c26));
      let km = v128.and(t3, i8x16.shuffle(pT2, t2, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30));
      km = v128.and(km, i8x16.shuffle(pT1, t1, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29));
      km = v128.and(km, i8x16.shuffle(pT0, t0, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28));
      km = v128.andnot(km, i8x16.shuffle(pL, letter, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27));
      pT0 = t0;
      pT1 = t1;
      pT2 = t2;
      pL = letter;
      let kbits = i8x16.bitmask(i8x16.ne(km, zero));
      while (kbits != 0) {
        const s = i + ctz(kbits) - 3;
        kbits &= kbits - 1;
        if (s >= 0) changetype<KeywordMatcher>(kw).candidate(p, len, s, hits);
      }
    }
    const dig = v128.and(digitGate, i8x16.lt_u(i8x16.sub(v, c0), c10));
    const pdig = i8x16.lt_u(i8x16.sub(pv, c0), c10);
    const trig = v128.and(i8x16.swizzle(lo, vlo), i8x16.swizzle(hi, vhi));
    // a digit run glued to a lower-case letter or '_' (hex ids, "sha256", "x86_64") cannot start
    // any numeric value; IBAN check digits follow upper-case letters and stay
    const pword = v128.or(i8x16.lt_u(i8x16.sub(pv, ca), c26), i8x16.eq(pv, cus));
    const m = v128.or(v128.andnot(v128.andnot(dig, pdig), pword), i8x16.ne(trig, zero));
    let bits = i8x16.bitmask(m);
    while (bits != 0) {
      const j = ctz(bits);
      bits &= bits - 1;
      const q = i + j;
      if (q < skipUntil) continue;
      const c = <u32>load<u8>(p + <usize>q);
      if (c - 0x30 < 10) numericAt(sc, en, p, len, q, c, out);
      else {
        const d = dispatch(en, p, len, q, sc.zeroWidthMinRun);
        if (d >= 0) accept(out, d, foundStart, foundEnd, foundAux);
      }
    }
    i += 16;
  }
  if (useKw) changetype<KeywordMatcher>(kw).findTail(p, len, max(0, i - 3), hits);
  for (; i < len; i++) {
    if (i < skipUntil) continue;
    const c = <u32>load<u8>(p + <usize>i);
    let t = false;
    if (isDigit(c)) {
      const b: u32 = i == 0 ? 0 : <u32>load<u8>(p + <usize>(i - 1));
      t = numeric && !isDigit(b) && b - 0x61 >= 26 && b != 0x5f;
    }
    else t = isTrigger(c);
    if (t) {
      if (isDigit(c)) numericAt(sc, en, p, len, i, c, out);
      else {
        const d = dispatch(en, p, len, i, sc.zeroWidthMinRun);
        if (d >= 0) accept(out, d, foundStart, foundEnd, foundAux);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function on(en: u32, d: i32): bool {
  return (en & (1 << d)) != 0;
}

function acceptNumeric(out: FindingList, d: i32, s: i32, e: i32, aux: i32): void {
  out.push(d, s, e, aux);
  if (e > skipUntil) skipUntil = e;
}

// @ts-ignore: decorator
@inline function accept(out: FindingList, d: i32, s: i32, e: i32, aux: i32): void {
  out.push(d, s, e, aux);
  if (e > skipUntil) skipUntil = e;
}

/** Digit-run start at `q`: a cheap shape test picks the numeric matchers that can apply (inlined into the scan loop). */
// @ts-ignore: decorator
@inline function numericAt(sc: Scanner, en: u32, p: usize, len: i32, q: i32, c: u32, out: FindingList): void {
  {
    // digit-run shape decides which numeric matchers can apply at all
    let r = q + 1;
    while (r < len && r - q < 20 && isDigit(load<u8>(p + <usize>r))) r++;
    const run = r - q;
    const next: u32 = r < len ? <u32>load<u8>(p + <usize>r) : 0;
    const prevc: u32 = q > 0 ? <u32>load<u8>(p + <usize>(q - 1)) : 0;
    const sepNext = next == 0x20 || next == 0x2d || next == 0x2e || next == 0x2f || next == 0x29;
    let e: i32;
    if (on(en, DETECTOR_IBAN) && run >= 2 && q >= 2 && isUpper(prevc) && isUpper(load<u8>(p + <usize>(q - 2)))) {
      e = matchIban(p, len, q - 2);
      if (e > 0) return acceptNumeric(out, DETECTOR_IBAN, q - 2, e, 0);
    }
    if (on(en, DETECTOR_IP_ADDRESS) && run <= 3 && next == 0x2e) {
      e = matchIpv4(p, len, q);
      if (e > 0) return acceptNumeric(out, DETECTOR_IP_ADDRESS, q, e, IP_AUX_V4);
    }
    if (on(en, DETECTOR_CREDIT_CARD) && ((run >= 13 && run <= 19) || (run == 4 && (next == 0x20 || next == 0x2d)))) {
      e = matchCreditCard(p, len, q);
      if (e > 0) return acceptNumeric(out, DETECTOR_CREDIT_CARD, q, e, 0);
    }
    if (on(en, DETECTOR_US_SSN) && ((run == 3 && (next == 0x20 || next == 0x2d)) || (run == 9 && sc.ssnUnformatted))) {
      e = matchUsSsn(p, len, q, sc.ssnUnformatted);
      if (e > 0) return acceptNumeric(out, DETECTOR_US_SSN, q, e, ssnUnformatted);
    }
    // phone: '+' or '(' before, or a first group that NANP (3 digits, or the "1" prefix) or a
    // European national number (0 plus 1-5 digits) can start with
    if (on(en, DETECTOR_PHONE) && (prevc == 0x2b || prevc == 0x28 ||
        (sepNext && (run == 3 || (run == 1 && c == 0x31) || (c == 0x30 && run >= 2 && run <= 6))))) {
      e = matchPhone(p, len, q);
      if (e > 0) return acceptNumeric(out, DETECTOR_PHONE, phoneStart, e, 0);
    }
    return;
  }
}

// dispatch's result (it touches no managed object, so it needs no shadow-stack frame)
let foundStart: i32 = 0;
let foundEnd: i32 = 0;
let foundAux: i32 = 0;
// @ts-ignore: decorator
@inline function found(d: i32, s: i32, e: i32, aux: i32): i32 {
  foundStart = s;
  foundEnd = e;
  foundAux = aux;
  return d;
}

/**
 * A non-digit trigger at `q`: runs the matchers the byte can start. Returns the detector of the
 * finding (its span and aux in foundStart/foundEnd/foundAux), or -1.
 */
function dispatch(en: u32, p: usize, len: i32, q: i32, zeroWidthMinRun: i32): i32 {
  const c = <u32>load<u8>(p + <usize>q);
  switch (c) {
    case 0x40: { // '@'
      if (on(en, DETECTOR_EMAIL)) {
        const e = matchEmail(p, len, q);
        if (e > 0) return found(DETECTOR_EMAIL, emailStart, e, 0);
      }
      return -1;
    }
    case 0x3a: { // ':'
      if (on(en, DETECTOR_IP_ADDRESS) && q >= ipv6Skip && (isHexOrColon(q > 0 ? load<u8>(p + <usize>(q - 1)) : 0) || isHexOrColon(q + 1 < len ? load<u8>(p + <usize>(q + 1)) : 0))) {
        const e = matchIpv6(p, len, q);
        ipv6Skip = ipv6TokenEnd;
        if (e > 0) return found(DETECTOR_IP_ADDRESS, ipv6Start, e, IP_AUX_V6);
      }
      return -1;
    }
    case 0x5f: { // '_'
      if (q < 2) return -1;
      if (on(en, DETECTOR_GITHUB_TOKEN)) {
        const e = matchGithubToken(p, len, q);
        if (e > 0) return found(DETECTOR_GITHUB_TOKEN, githubStart, e, 0);
      }
      if (on(en, DETECTOR_STRIPE_KEY)) {
        const e = matchStripeKey(p, len, q);
        if (e > 0) return found(DETECTOR_STRIPE_KEY, stripeStart, e, 0);
      }
      return -1;
    }
    case 0x2d: { // '-'
      if (on(en, DETECTOR_PRIVATE_KEY) && at5dashes(p, len, q)) {
        const e = matchPrivateKey(p, len, q);
        if (e > 0) return found(DETECTOR_PRIVATE_KEY, q, e, 0);
      }
      if (on(en, DETECTOR_OPENAI_API_KEY) && q >= 2 && load<u8>(p + <usize>(q - 1)) == 0x6b) {
        const e = matchOpenaiApiKey(p, len, q);
        if (e > 0) return found(DETECTOR_OPENAI_API_KEY, openaiStart, e, 0);
      }
      return -1;
    }
    case 0x41: { // 'A'
      if (q + 20 > len) return -1;
      const c1 = <u32>load<u8>(p + <usize>(q + 1));
      if (c1 == 0x49) {
        if (on(en, DETECTOR_GOOGLE_API_KEY)) {
          const e = matchGoogleApiKey(p, len, q);
          if (e > 0) return found(DETECTOR_GOOGLE_API_KEY, q, e, 0);
        }
        return -1;
      }
      if (on(en, DETECTOR_AWS_ACCESS_KEY)) {
        const e = matchAwsAccessKey(p, len, q);
        if (e > 0) return found(DETECTOR_AWS_ACCESS_KEY, q, e, AWS_AUX_ACCESS_KEY_ID);
      }
      return -1;
    }
    case 0x4a: { // 'J' of "eyJ"
      if (on(en, DETECTOR_JWT) && q >= 2 && load<u8>(p + <usize>(q - 1)) == 0x79) {
        const e = matchJwt(p, len, q);
        if (e > 0) return found(DETECTOR_JWT, jwtStart, e, 0);
      }
      return -1;
    }
    case 0x78: { // 'x'
      if (on(en, DETECTOR_SLACK_TOKEN) && q + 1 < len && (load<u8>(p + <usize>(q + 1)) == 0x6f || load<u8>(p + <usize>(q + 1)) == 0x61)) {
        const e = matchSlackToken(p, len, q);
        if (e > 0) return found(DETECTOR_SLACK_TOKEN, slackStart, e, SLACK_AUX_TOKEN);
      }
      return -1;
    }
    case 0x2f: { // '/'
      if (on(en, DETECTOR_SLACK_TOKEN) && q >= 15 && load<u8>(p + <usize>(q - 1)) == 0x6d && load<u8>(p + <usize>(q - 4)) == 0x2e) {
        const e = matchSlackWebhook(p, len, q);
        if (e > 0) return found(DETECTOR_SLACK_TOKEN, slackStart, e, SLACK_AUX_WEBHOOK);
      }
      return -1;
    }
    default: { // UTF-8 lead bytes 0xE2, 0xEF, 0xF3
      if (!on(en, DETECTOR_PROMPT_INJECTION)) return -1;
      const k = unicodeKind(p, len, q);
      if (k == U_NONE) return -1;
      const e = unicodeRunEnd(p, len, q, k);
      if (k == U_TAG) return found(DETECTOR_PROMPT_INJECTION, q, e, INJECTION_AUX_TAG_CHARS);
      else if (k == U_BIDI) return found(DETECTOR_PROMPT_INJECTION, q, e, INJECTION_AUX_BIDI);
      else if (runCount >= zeroWidthMinRun) return found(DETECTOR_PROMPT_INJECTION, q, e, INJECTION_AUX_ZERO_WIDTH);
      else if (e > skipUntil) skipUntil = e;
      return -1;
    }
  }
}

// @ts-ignore: decorator
@inline function isHexOrColon(c: u32): bool {
  return c == 0x3a || c - 0x30 < 10 || (c | 0x20) - 0x61 < 6;
}

// @ts-ignore: decorator
@inline function at5dashes(p: usize, len: i32, q: i32): bool {
  return q + 11 <= len && load<u32>(p + <usize>q) == 0x2d2d2d2d && load<u8>(p + <usize>(q + 4)) == 0x2d && load<u8>(p + <usize>(q + 5)) == 0x42;
}
