import { isSpace, isUpper, isLower, lower, at } from "./char-class";

/**
 * prompt_injection signals.
 *
 * 1. Override phrases: a curated list of patterns, matched ASCII case-insensitively, with any
 *    run of 1-16 whitespace bytes between words, on word boundaries. Pattern syntax (compiled at
 *    module start): words separated by spaces; "(a|b c)" one required alternative, "[a|b]" an
 *    optional one; alternatives may contain spaces. The first slot must be required; its
 *    alternatives' first words are the anchors registered in the scanner's keyword matcher.
 * 2. Invisible Unicode tag characters U+E0000-E007F (a run is one finding, any length).
 * 3. Bidirectional overrides/isolates U+202A-202E and U+2066-2069 (a run is one finding).
 * 4. Zero-width characters U+200B-200D, U+2060, U+FEFF in a run of at least N (default 3).
 */
export const INJECTION_PATTERNS: StaticArray<string> = [
  "ignore [all|any|every] [of] [the|your|my|these|those|all|any] (previous|prior|above|earlier|preceding|former|foregoing|initial|original|system|existing) (instructions|instruction|prompts|prompt|directions|directives|rules|guidelines|commands|context|messages|guidance|constraints)",
  "ignore (all|everything|anything) [that|which] [was|you were|you have been|i] (said|written|told|stated|given) (above|before|previously|earlier)",
  "ignore (the above|the text above|what is above|the previous text|your programming|your training)",
  "disregard [all|any|every] [of] [the|your|my|these|those] (previous|prior|above|earlier|preceding|foregoing|original|system|initial) [instructions|instruction|prompts|prompt|rules|guidelines|directions|messages|text|context|commands]",
  "disregard (everything|all|anything) (above|before|previously|you were told)",
  "forget [all|any|every] [of] [the|your|my] (previous|prior|above|earlier|preceding|original|system|initial) (instructions|instruction|prompts|prompt|rules|guidelines|directions|context|messages|training)",
  "forget (everything|all|anything) (above|before|you were told|you have been told|you know)",
  "you are now (dan|in developer mode|in dan mode|jailbroken|unrestricted|unfiltered|an unrestricted|an unfiltered|free from)",
  "(act|behave) as [an|a] (unrestricted|unfiltered|uncensored|jailbroken) [ai|assistant|model|chatbot|language model]",
  "pretend (you are|to be|that you are) [an|a] (unrestricted|unfiltered|uncensored|jailbroken|evil)",
  "do anything now",
  "(enable|activate|enter|switch to) (developer|dev|god|jailbreak|dan|unrestricted) mode",
  "developer mode (enabled|activated|on)",
  "jailbreak mode",
  "system prompt :",
  "new instructions :",
  "new system prompt :",
  "new rules :",
  "(reveal|show|print|display|output|repeat|leak|expose|dump) [me] (your|the) [full|entire|original|hidden|initial|secret|exact] (system prompt|system message|initial prompt|hidden prompt|hidden instructions|system instructions|instructions|prompt)",
  "(what is|what's|tell me) your (system prompt|system message|initial prompt|hidden instructions)",
  "(override|bypass|circumvent|disable) [all|any] [of] [your|the] (safety|content|security|ethical|moderation) (filters|filter|guidelines|rules|restrictions|policies|policy|protocols|settings)",
  "(ignore|disregard) [all|any] [of] [your|the] (safety|content|ethical|moderation) (guidelines|policies|filters|restrictions|rules)",
  "from now on [,] you (will|must|are going to|shall) (ignore|disregard|answer without|respond without|act as)",
  "<|im_start|>system",
  "<<sys>>",
];

export const PHRASE_MAX_LEN: i32 = 400;
const MAX_WS: i32 = 16;

// Compiled patterns, flattened:
//   pattern p: slots [PAT_SLOT0[p], PAT_SLOT0[p+1]); slot s: optional flag, alternatives
//   [SLOT_ALT0[s], SLOT_ALT0[s+1]); alternative a: bytes ALT_BYTES[ALT_OFF[a] .. ALT_OFF[a+1]).
const PAT_SLOT0 = new Array<i32>();
const SLOT_ALT0 = new Array<i32>();
const SLOT_OPT = new Array<bool>();
const ALT_OFF = new Array<i32>();
const ALT_BYTES = new Array<u8>();

function compile(): void {
  for (let pi = 0; pi < INJECTION_PATTERNS.length; pi++) {
    const src = INJECTION_PATTERNS[pi];
    PAT_SLOT0.push(SLOT_ALT0.length);
    let i = 0;
    const n = src.length;
    while (i < n) {
      const c = src.charCodeAt(i);
      if (c == 0x20) {
        i++;
        continue;
      }
      let body: string;
      let opt = false;
      if (c == 0x28 || c == 0x5b) {
        opt = c == 0x5b;
        const close = src.indexOf(opt ? "]" : ")", i);
        body = src.substring(i + 1, close);
        i = close + 1;
      } else {
        let e = src.indexOf(" ", i);
        if (e < 0) e = n;
        body = src.substring(i, e);
        i = e;
      }
      SLOT_ALT0.push(ALT_OFF.length);
      SLOT_OPT.push(opt);
      const alts = c == 0x28 || c == 0x5b ? body.split("|") : [body];
      // longest alternative first, so "instructions" is tried before "instruction"
      alts.sort((a: string, b: string): i32 => b.length - a.length);
      for (let k = 0; k < alts.length; k++) {
        ALT_OFF.push(ALT_BYTES.length);
        const a = alts[k];
        for (let j = 0; j < a.length; j++) ALT_BYTES.push(<u8>a.charCodeAt(j));
      }
    }
  }
  PAT_SLOT0.push(SLOT_ALT0.length);
  SLOT_ALT0.push(ALT_OFF.length);
  ALT_OFF.push(ALT_BYTES.length);
}
compile();

// The compiled tables never change after compile(): hot paths read them through raw pointers
// (an Array's indexed getter is a call with shadow-stack upkeep in the incremental runtime).
const PAT_SLOT0_P = PAT_SLOT0.dataStart;
const SLOT_ALT0_P = SLOT_ALT0.dataStart;
const SLOT_OPT_P = SLOT_OPT.dataStart;
const ALT_OFF_P = ALT_OFF.dataStart;
const ALT_BYTES_P = ALT_BYTES.dataStart;
// @ts-ignore: decorator
@inline function patSlot0(i: i32): i32 {
  return load<i32>(PAT_SLOT0_P + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function slotAlt0(i: i32): i32 {
  return load<i32>(SLOT_ALT0_P + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function slotOpt(i: i32): bool {
  return load<u8>(SLOT_OPT_P + <usize>i) != 0;
}
// @ts-ignore: decorator
@inline function altOff(i: i32): i32 {
  return load<i32>(ALT_OFF_P + (<usize>i << 2));
}
// @ts-ignore: decorator
@inline function altByte(i: i32): u8 {
  return load<u8>(ALT_BYTES_P + <usize>i);
}

/** Number of compiled phrase patterns. */
export function phrasePatternCount(): i32 {
  return PAT_SLOT0.length - 1;
}

/** Number of anchors (first-slot alternatives) of pattern `pi`. */
export function phraseAnchorCount(pi: i32): i32 {
  const s = patSlot0(pi);
  return slotAlt0(s + 1) - slotAlt0(s);
}

/**
 * Writes anchor `k` of pattern `pi` to `dst` (lower-case) and returns its length: the first
 * word of first-slot alternative `k`, extended with the following single-word required slots
 * (joined by one space) while it is shorter than 6 bytes, so that short first words ("you",
 * "do", "act") do not flood the keyword prefilter. Registered whitespace-tolerant.
 */
export function phraseAnchor(pi: i32, k: i32, dst: usize): i32 {
  const s = patSlot0(pi);
  const lastSlot = patSlot0(pi + 1);
  const a = slotAlt0(s) + k;
  let n = copyAlt(a, dst, 0);
  let slot = s + 1;
  while (n < 6 && slot < lastSlot && !slotOpt(slot) && slotAlt0(slot + 1) - slotAlt0(slot) == 1) {
    const b = slotAlt0(slot);
    const first = <u32>altByte(altOff(b));
    if (!isLetter(first)) break;
    store<u8>(dst + <usize>n, 0x20);
    n = copyAlt(b, dst, n + 1);
    slot++;
  }
  return n;
}

function copyAlt(a: i32, dst: usize, n: i32): i32 {
  const off = altOff(a);
  const end = altOff(a + 1);
  for (let i = off; i < end && n < 60; i++) {
    store<u8>(dst + <usize>n, altByte(i));
    n++;
  }
  return n;
}

const PARTIAL: i32 = -2;

// @ts-ignore: decorator
@inline function isLetter(c: u32): bool {
  return isUpper(c) || isLower(c);
}

/** Matches alternative `a` at `i`; returns end, -1, or PARTIAL when input ends mid-way. */
function matchAlt(p: usize, len: i32, i: i32, a: i32, partial: bool): i32 {
  const off = altOff(a);
  const end = altOff(a + 1);
  for (let k = off; k < end; k++) {
    const tc = <u32>altByte(k);
    if (i >= len) return partial ? PARTIAL : -1;
    const c = <u32>load<u8>(p + <usize>i);
    if (tc == 0x20) {
      if (!isSpace(c)) return -1;
      let r = 0;
      while (i < len && r < MAX_WS && isSpace(load<u8>(p + <usize>i))) {
        i++;
        r++;
      }
      continue;
    }
    if (lower(c) != tc) return -1;
    i++;
  }
  // a word must end at a word boundary
  if (isLetter(<u32>altByte(end - 1))) {
    if (i >= len) return partial ? PARTIAL : i;
    if (isLetter(load<u8>(p + <usize>i))) return -1;
  }
  return i;
}

function matchSlots(p: usize, len: i32, i: i32, s: i32, lastSlot: i32, partial: bool): i32 {
  if (s >= lastSlot) return i;
  const opt = slotOpt(s);
  // the whitespace gap before this slot, computed once (none before the first slot)
  let k = i;
  if (!isFirstSlot(s)) {
    let r = 0;
    while (k < len && r < MAX_WS && isSpace(load<u8>(p + <usize>k))) {
      k++;
      r++;
    }
  }
  const gap = k > i;
  let sawPartial = false;
  if (k >= len) {
    // the text ends at the gap: any alternative could still follow
    if (partial) sawPartial = true;
  } else {
    const c = lower(load<u8>(p + <usize>k));
    const a0 = slotAlt0(s);
    const a1 = slotAlt0(s + 1);
    for (let a = a0; a < a1; a++) {
      const first = <u32>altByte(altOff(a));
      if (first != c) continue;
      // words need the gap; punctuation such as ':' or ',' may attach directly
      const needsGap = isLetter(first) || first == 0x3c;
      if (needsGap && !gap && !isFirstSlot(s)) continue;
      const e = matchAlt(p, len, k, a, partial);
      if (e == PARTIAL) {
        sawPartial = true;
        continue;
      }
      if (e < 0) continue;
      const r = matchSlots(p, len, e, s + 1, lastSlot, partial);
      if (r == PARTIAL) sawPartial = true;
      else if (r >= 0) return r;
    }
  }
  if (opt) {
    const r = matchSlots(p, len, i, s + 1, lastSlot, partial);
    if (r == PARTIAL) sawPartial = true;
    else if (r >= 0) return r;
  }
  return sawPartial ? PARTIAL : -1;
}

let firstSlotIndex: i32 = -1;
// @ts-ignore: decorator
@inline function isFirstSlot(s: i32): bool {
  return s == firstSlotIndex;
}

/**
 * Matches phrase pattern `pi` at `q`. Returns the end offset, -1, or (with `partial`) -2
 * when the input ends while the pattern could still match.
 */
export function matchPhrase(p: usize, len: i32, q: i32, pi: i32, partial: bool): i32 {
  if (q > 0 && isLetter(load<u8>(p + <usize>(q - 1)))) return -1;
  const s0 = patSlot0(pi);
  firstSlotIndex = s0;
  return matchSlots(p, len, q, s0, patSlot0(pi + 1), partial);
}

// ---- invisible / control Unicode ----

/** Kind of the invisible character at `i` (0 none, else INJECTION_AUX_* + 1 style codes below) and its byte length in `lastCharLen`. */
export const U_NONE: i32 = 0;
export const U_TAG: i32 = 1;
export const U_BIDI: i32 = 2;
export const U_ZW: i32 = 3;

// @ts-ignore: decorator
@inline export function unicodeKind(p: usize, len: i32, i: i32): i32 {
  const c0 = at(p, len, i);
  if (c0 == 0xe2) {
    const c1 = at(p, len, i + 1);
    const c2 = at(p, len, i + 2);
    if (c1 == 0x80) {
      if (c2 >= 0x8b && c2 <= 0x8d) return U_ZW;
      if (c2 >= 0xaa && c2 <= 0xae) return U_BIDI;
    } else if (c1 == 0x81) {
      if (c2 == 0xa0) return U_ZW;
      if (c2 >= 0xa6 && c2 <= 0xa9) return U_BIDI;
    }
    return U_NONE;
  }
  if (c0 == 0xef) return at(p, len, i + 1) == 0xbb && at(p, len, i + 2) == 0xbf ? U_ZW : U_NONE;
  if (c0 == 0xf3) {
    if (at(p, len, i + 1) != 0xa0) return U_NONE;
    const c2 = at(p, len, i + 2);
    const c3 = at(p, len, i + 3);
    if ((c2 == 0x80 || c2 == 0x81) && c3 >= 0x80 && c3 <= 0xbf) return U_TAG;
  }
  return U_NONE;
}

// @ts-ignore: decorator
@inline export function unicodeLen(kind: i32): i32 {
  return kind == U_TAG ? 4 : 3;
}

/** End of the run of invisible characters of `kind` starting at `i`; `runCount` gets the character count. */
export function unicodeRunEnd(p: usize, len: i32, i: i32, kind: i32): i32 {
  let e = i;
  let n = 0;
  const w = unicodeLen(kind);
  while (e < len && unicodeKind(p, len, e) == kind) {
    e += w;
    n++;
  }
  runCount = n;
  return e;
}
export let runCount: i32 = 0;
