/**
 * Reads a JSON body in one pass over raw bytes and appends the strings a shape selects (decoded:
 * `\uXXXX` incl. surrogate pairs, `\/` and friends, so escapes cannot hide a value) to a
 * {@link TextMap}, with the map back to raw offsets. Also records top-level scalar fields
 * (`model`, `stream`, `max_tokens`, ...) for policies that need them.
 *
 * Lenient where it does not matter for inspection (raw control characters inside strings), strict
 * about structure: a structural error stops the read and reports its offset, and the caller treats
 * the body as text or rejects it per `failure_mode`. No recursion, no allocation per value: string
 * scanning uses 16-byte SIMD compares.
 */
import { Shape } from "../config/enums";
import { TextMap, hex4At } from "./text-map";
import { Selector, STEP_DEEP, STEP_ELEMENT, selectorsFor } from "./shape";

export const MAX_JSON_DEPTH: i32 = 256;

/** Top-level scalar fields of interest (raw byte ranges into the body; -1 when absent). */
export class TopFields {
  modelStart: i32 = -1;
  modelEnd: i32 = -1;
  /** 1 true, 0 false, -1 absent. */
  stream: i32 = -1;
  /** Raw range of `max_tokens` / `max_completion_tokens` / `max_output_tokens` (the first seen). */
  maxTokensStart: i32 = -1;
  maxTokensEnd: i32 = -1;
  /** Top-level `type` string of an event (Responses API streams). */
  typeStart: i32 = -1;
  typeEnd: i32 = -1;

  reset(): void {
    this.modelStart = -1;
    this.modelEnd = -1;
    this.stream = -1;
    this.maxTokensStart = -1;
    this.maxTokensEnd = -1;
    this.typeStart = -1;
    this.typeEnd = -1;
  }
}

export class JsonReadResult {
  ok: bool = true;
  /** Byte offset (relative to the read's start) where the structure broke. */
  errorOffset: i32 = -1;
  error: string = "";
  /** Number of string values appended to the text. */
  strings: i32 = 0;
}

const KIND_OBJECT: u8 = 0;
const KIND_ARRAY: u8 = 1;

/**
 * A reusable reader (one per HTTP context or per stream; not re-entrant). Offsets recorded in the
 * TextMap are relative to `map.rawBase`; `start` lets the SSE reader read one event inside a
 * larger buffer.
 */
export class JsonReader {
  private stackKind: StaticArray<u8> = new StaticArray<u8>(MAX_JSON_DEPTH + 1);
  private keyStart: StaticArray<i32> = new StaticArray<i32>(MAX_JSON_DEPTH + 1);
  private keyEnd: StaticArray<i32> = new StaticArray<i32>(MAX_JSON_DEPTH + 1);
  private keyEscaped: StaticArray<bool> = new StaticArray<bool>(MAX_JSON_DEPTH + 1);
  private scratch: Uint8Array = new Uint8Array(256);
  readonly result: JsonReadResult = new JsonReadResult();
  readonly fields: TopFields = new TopFields();
  /**
   * Whole bodies only: a selected string without escapes of at least this many bytes is not
   * copied into the text; its raw range goes to `direct` (pairs of start, end) and the caller
   * scans it in place. 0 disables (streams: deltas must join the text).
   */
  directMin: i32 = 0;
  readonly direct: Array<i32> = [];
  /**
   * The stream channel of the document read last: `choices[].index` (OpenAI) or the top-level
   * `index` (Anthropic content blocks), whichever comes first; 0 when absent. Deltas of different
   * channels must not be joined.
   */
  channel: i32 = 0;
  private channelSeen: bool = false;

  /**
   * Reads raw bytes [start, end) of `map.rawBase` as one JSON document. `all` selects every string
   * value (generic JSON); otherwise the shape's selectors decide.
   */
  read(map: TextMap, start: i32, end: i32, shape: Shape): JsonReadResult {
    const res = this.result;
    res.ok = true;
    res.errorOffset = -1;
    res.error = "";
    res.strings = 0;
    this.fields.reset();
    this.direct.length = 0;
    this.channel = 0;
    this.channelSeen = false;
    const directMin = this.directMin;
    const all = shape == Shape.Json;
    const selectors = selectorsFor(shape);
    const base = map.rawBase;
    let pos = skipWs(base, start, end);
    let depth = 0;
    if (pos >= end) return this.fail(start, pos, "empty body");
    let expectValue = true;
    while (true) {
      if (expectValue) {
        if (pos >= end) return this.fail(start, pos, "unexpected end of JSON");
        const c = load<u8>(base + <usize>pos);
        if (c == 0x7b) {
          // object
          if (depth >= MAX_JSON_DEPTH) return this.fail(start, pos, "JSON nested too deeply");
          depth++;
          unchecked(this.stackKind[depth] = KIND_OBJECT);
          pos = skipWs(base, pos + 1, end);
          if (pos < end && load<u8>(base + <usize>pos) == 0x7d) {
            depth--;
            pos++;
            expectValue = false;
            continue;
          }
          pos = this.readKey(base, pos, end, depth);
          if (pos < 0) return this.fail(start, -pos, "expected an object key");
          continue; // expectValue stays true
        }
        if (c == 0x5b) {
          if (depth >= MAX_JSON_DEPTH) return this.fail(start, pos, "JSON nested too deeply");
          depth++;
          unchecked(this.stackKind[depth] = KIND_ARRAY);
          pos = skipWs(base, pos + 1, end);
          if (pos < end && load<u8>(base + <usize>pos) == 0x5d) {
            depth--;
            pos++;
            expectValue = false;
            continue;
          }
          continue;
        }
        if (c == 0x22) {
          const q = pos + 1;
          const wanted = all || this.selected(selectors, depth, base);
          let close: i32;
          if (wanted) {
            const concat = all ? false : this.lastConcat;
            let j = -1;
            if (directMin > 0 && !concat) {
              j = findQuoteOrBackslash(base, q, end);
              if (j >= end || load<u8>(base + <usize>j) != 0x22 || j - q < directMin) j = -1;
            }
            if (j >= 0) {
              this.direct.push(q);
              this.direct.push(j);
              close = j;
            } else {
              close = this.appendString(map, base, q, end, concat);
            }
            res.strings++;
          } else {
            close = skipString(base, q, end);
          }
          if (close < 0) return this.fail(start, end, "unterminated string");
          if (depth == 1) this.noteTopString(base, q, close);
          pos = close + 1;
          expectValue = false;
          continue;
        }
        // number or literal
        const vs = pos;
        if (c == 0x74) {
          if (!matchWord(base, pos, end, 0x74727565, 4)) return this.fail(start, pos, "invalid literal");
          pos += 4;
          if (depth == 1) this.noteTopBool(base, true);
        } else if (c == 0x66) {
          if (pos + 5 > end || !matchWord(base, pos + 1, end, 0x616c7365, 4)) return this.fail(start, pos, "invalid literal");
          pos += 5;
          if (depth == 1) this.noteTopBool(base, false);
        } else if (c == 0x6e) {
          if (!matchWord(base, pos, end, 0x6e756c6c, 4)) return this.fail(start, pos, "invalid literal");
          pos += 4;
        } else if (c == 0x2d || (c >= 0x30 && c <= 0x39)) {
          pos++;
          while (pos < end) {
            const d = load<u8>(base + <usize>pos);
            if ((d >= 0x30 && d <= 0x39) || d == 0x2e || d == 0x65 || d == 0x45 || d == 0x2b || d == 0x2d) pos++;
            else break;
          }
          if (depth == 1) this.noteTopNumber(base, vs, pos);
          else if (depth == 3 && !this.channelSeen) this.noteChoiceIndex(base, vs, pos);
        } else {
          return this.fail(start, pos, "unexpected character");
        }
        expectValue = false;
        continue;
      }
      // After a value: close containers or move to the next member.
      if (depth == 0) {
        pos = skipWs(base, pos, end);
        if (pos < end) return this.fail(start, pos, "bytes after the JSON document");
        return res;
      }
      pos = skipWs(base, pos, end);
      if (pos >= end) return this.fail(start, pos, "unexpected end of JSON");
      const c = load<u8>(base + <usize>pos);
      const kind = unchecked(this.stackKind[depth]);
      if (c == 0x2c) {
        pos = skipWs(base, pos + 1, end);
        if (kind == KIND_OBJECT) {
          pos = this.readKey(base, pos, end, depth);
          if (pos < 0) return this.fail(start, -pos, "expected an object key");
        }
        expectValue = true;
        continue;
      }
      if ((c == 0x7d && kind == KIND_OBJECT) || (c == 0x5d && kind == KIND_ARRAY)) {
        depth--;
        pos++;
        continue;
      }
      return this.fail(start, pos, "expected ',' or a closing bracket");
    }
    return res;
  }

  private lastConcat: bool = false;

  private fail(start: i32, at: i32, reason: string): JsonReadResult {
    this.result.ok = false;
    this.result.errorOffset = at - start;
    this.result.error = reason;
    return this.result;
  }

  /** Reads `"key" :` at pos; returns the position after the colon and whitespace, or -pos on error. */
  private readKey(base: usize, pos: i32, end: i32, depth: i32): i32 {
    if (pos >= end || load<u8>(base + <usize>pos) != 0x22) return -pos;
    const q = pos + 1;
    const close = skipString(base, q, end);
    if (close < 0) return -end;
    unchecked(this.keyStart[depth] = q);
    unchecked(this.keyEnd[depth] = close);
    let esc = false;
    for (let i = q; i < close; i++) {
      if (load<u8>(base + <usize>i) == 0x5c) {
        esc = true;
        break;
      }
    }
    unchecked(this.keyEscaped[depth] = esc);
    let p = skipWs(base, close + 1, end);
    if (p >= end || load<u8>(base + <usize>p) != 0x3a) return -p;
    return skipWs(base, p + 1, end);
  }

  /** Does the current path match one of the selectors? Sets lastConcat. */
  private selected(selectors: Array<Selector>, depth: i32, base: usize): bool {
    for (let s = 0; s < selectors.length; s++) {
      const sel = unchecked(selectors[s]);
      const n = sel.kinds.length;
      const deep = unchecked(sel.kinds[n - 1]) == STEP_DEEP;
      if (deep ? depth < n - 1 : depth != n) continue;
      const steps = deep ? n - 1 : n;
      let ok = true;
      for (let i = 0; i < steps; i++) {
        const level = i + 1;
        const kind = unchecked(this.stackKind[level]);
        const k = unchecked(sel.kinds[i]);
        if (k == STEP_ELEMENT) {
          if (kind != KIND_ARRAY) { ok = false; break; }
        } else {
          if (kind != KIND_OBJECT || !this.keyEquals(base, level, unchecked(sel.steps[i]))) { ok = false; break; }
        }
      }
      if (ok) {
        this.lastConcat = sel.concat;
        return true;
      }
    }
    return false;
  }

  private keyEquals(base: usize, level: i32, want: Uint8Array): bool {
    const ks = unchecked(this.keyStart[level]);
    const ke = unchecked(this.keyEnd[level]);
    if (!unchecked(this.keyEscaped[level])) {
      const n = ke - ks;
      if (n != want.length) return false;
      return memory.compare(base + <usize>ks, want.dataStart, <usize>n) == 0;
    }
    // Decode the escaped key into scratch (keys longer than the scratch never match a selector).
    const n = decodeInto(base, ks, ke, this.scratch);
    if (n != want.length) return false;
    return memory.compare(this.scratch.dataStart, want.dataStart, <usize>n) == 0;
  }

  private noteTopString(base: usize, q: i32, close: i32): void {
    const level = 1;
    if (unchecked(this.stackKind[level]) != KIND_OBJECT) return;
    if (this.keyIs(base, level, "model")) {
      this.fields.modelStart = q;
      this.fields.modelEnd = close;
    } else if (this.keyIs(base, level, "type")) {
      this.fields.typeStart = q;
      this.fields.typeEnd = close;
    }
  }

  private noteTopBool(base: usize, v: bool): void {
    if (unchecked(this.stackKind[1]) != KIND_OBJECT) return;
    if (this.keyIs(base, 1, "stream")) this.fields.stream = v ? 1 : 0;
  }

  private noteChoiceIndex(base: usize, s: i32, e: i32): void {
    if (unchecked(this.stackKind[1]) != KIND_OBJECT || unchecked(this.stackKind[2]) != KIND_ARRAY ||
        unchecked(this.stackKind[3]) != KIND_OBJECT) return;
    if (!this.keyIs(base, 1, "choices") || !this.keyIs(base, 3, "index")) return;
    this.setChannel(base, s, e);
  }

  private setChannel(base: usize, s: i32, e: i32): void {
    let v = 0;
    for (let i = s; i < e && i < s + 6; i++) {
      const c = <i32>load<u8>(base + <usize>i);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
    }
    this.channel = v;
    this.channelSeen = true;
  }

  private noteTopNumber(base: usize, s: i32, e: i32): void {
    if (unchecked(this.stackKind[1]) != KIND_OBJECT) return;
    if (!this.channelSeen && this.keyIs(base, 1, "index")) {
      this.setChannel(base, s, e);
      return;
    }
    if (this.fields.maxTokensStart >= 0) return;
    if (this.keyIs(base, 1, "max_tokens") || this.keyIs(base, 1, "max_completion_tokens") ||
        this.keyIs(base, 1, "max_output_tokens")) {
      this.fields.maxTokensStart = s;
      this.fields.maxTokensEnd = e;
    }
  }

  private keyIs(base: usize, level: i32, name: string): bool {
    const ks = unchecked(this.keyStart[level]);
    const ke = unchecked(this.keyEnd[level]);
    if (ke - ks != name.length) return false;
    for (let i = 0; i < name.length; i++) {
      if (<i32>load<u8>(base + <usize>(ks + i)) != name.charCodeAt(i)) return false;
    }
    return true;
  }

  /**
   * Decodes the string whose content starts at `q` into the map's text and records its segment.
   * Returns the offset of the closing quote, or -1 when unterminated.
   */
  private appendString(map: TextMap, base: usize, q: i32, end: i32, concat: bool): i32 {
    const text = map.text;
    if (!concat) map.separate();
    const textStart = text.length;
    let escaped = false;
    let run = q;
    let i = q;
    while (true) {
      i = findQuoteOrBackslash(base, i, end);
      if (i >= end) return -1;
      const c = load<u8>(base + <usize>i);
      if (i > run) text.pushBytes(base + <usize>run, i - run);
      if (c == 0x22) break;
      // Escape sequence.
      escaped = true;
      if (i + 1 >= end) return -1;
      const e = load<u8>(base + <usize>(i + 1));
      if (e == 0x75) {
        if (i + 6 > end) return -1;
        let cp = hex4At(base, i + 2);
        let len = 6;
        if (cp < 0) {
          cp = 0xfffd;
        } else if (cp >= 0xd800 && cp <= 0xdbff) {
          if (i + 12 <= end && load<u8>(base + <usize>(i + 6)) == 0x5c && load<u8>(base + <usize>(i + 7)) == 0x75) {
            const lo = hex4At(base, i + 8);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
              cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
              len = 12;
            } else {
              cp = 0xfffd;
            }
          } else {
            cp = 0xfffd;
          }
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
          cp = 0xfffd;
        }
        pushUtf8(map, cp);
        i += len;
      } else {
        let d: i32 = e;
        if (e == 0x6e) d = 0x0a;
        else if (e == 0x74) d = 0x09;
        else if (e == 0x72) d = 0x0d;
        else if (e == 0x62) d = 0x08;
        else if (e == 0x66) d = 0x0c;
        text.pushByte(<u8>d);
        i += 2;
      }
      run = i;
    }
    const textEnd = text.length;
    if (textEnd > textStart) map.addSegment(q, i, textStart, textEnd, escaped, concat);
    if (!concat) map.separate();
    return i;
  }
}

function pushUtf8(map: TextMap, cp: i32): void {
  const t = map.text;
  if (cp < 0x80) {
    t.pushByte(<u8>cp);
  } else if (cp < 0x800) {
    t.pushByte(<u8>(0xc0 | (cp >> 6)));
    t.pushByte(<u8>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    t.pushByte(<u8>(0xe0 | (cp >> 12)));
    t.pushByte(<u8>(0x80 | ((cp >> 6) & 0x3f)));
    t.pushByte(<u8>(0x80 | (cp & 0x3f)));
  } else {
    t.pushByte(<u8>(0xf0 | (cp >> 18)));
    t.pushByte(<u8>(0x80 | ((cp >> 12) & 0x3f)));
    t.pushByte(<u8>(0x80 | ((cp >> 6) & 0x3f)));
    t.pushByte(<u8>(0x80 | (cp & 0x3f)));
  }
}

/** Decodes a short escaped JSON string into `out`; returns its length or -1 if it does not fit. */
function decodeInto(base: usize, s: i32, e: i32, out: Uint8Array): i32 {
  let n = 0;
  let i = s;
  const cap = out.length - 4;
  while (i < e) {
    if (n >= cap) return -1;
    const c = load<u8>(base + <usize>i);
    if (c != 0x5c) {
      out[n++] = c;
      i++;
      continue;
    }
    if (i + 1 >= e) return -1;
    const x = load<u8>(base + <usize>(i + 1));
    if (x == 0x75 && i + 6 <= e) {
      const cp = hex4At(base, i + 2);
      if (cp < 0) return -1;
      if (cp < 0x80) out[n++] = <u8>cp;
      else if (cp < 0x800) {
        out[n++] = <u8>(0xc0 | (cp >> 6));
        out[n++] = <u8>(0x80 | (cp & 0x3f));
      } else {
        out[n++] = <u8>(0xe0 | (cp >> 12));
        out[n++] = <u8>(0x80 | ((cp >> 6) & 0x3f));
        out[n++] = <u8>(0x80 | (cp & 0x3f));
      }
      i += 6;
    } else {
      out[n++] = x == 0x6e ? 0x0a : x == 0x74 ? 0x09 : x == 0x72 ? 0x0d : x == 0x62 ? 0x08 : x == 0x66 ? 0x0c : x;
      i += 2;
    }
  }
  return n;
}

@inline function skipWs(base: usize, pos: i32, end: i32): i32 {
  while (pos < end) {
    const c = load<u8>(base + <usize>pos);
    if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) pos++;
    else break;
  }
  return pos;
}

function matchWord(base: usize, pos: i32, end: i32, word: u32, n: i32): bool {
  if (pos + n > end) return false;
  for (let i = 0; i < n; i++) {
    const want = (word >> (<u32>(n - 1 - i) * 8)) & 0xff;
    if (<u32>load<u8>(base + <usize>(pos + i)) != want) return false;
  }
  return true;
}

/** Offset of the next `"` or `\` at or after `i`, or `end`. */
export function findQuoteOrBackslash(base: usize, i: i32, end: i32): i32 {
  const quote = i8x16.splat(0x22);
  const bs = i8x16.splat(0x5c);
  while (i + 16 <= end) {
    const v = v128.load(base + <usize>i);
    const m = v128.or(i8x16.eq(v, quote), i8x16.eq(v, bs));
    const bits = i8x16.bitmask(m);
    if (bits != 0) return i + ctz(bits);
    i += 16;
  }
  while (i < end) {
    const c = load<u8>(base + <usize>i);
    if (c == 0x22 || c == 0x5c) return i;
    i++;
  }
  return end;
}

/** Skips a string whose content starts at `q`; returns the closing quote offset or -1. */
export function skipString(base: usize, q: i32, end: i32): i32 {
  let i = q;
  while (true) {
    i = findQuoteOrBackslash(base, i, end);
    if (i >= end) return -1;
    if (load<u8>(base + <usize>i) == 0x22) return i;
    i += 2;
  }
}
