/**
 * A path-aware, allocation-free JSON walk over raw bytes for the budget path: it reports every
 * scalar with the chain of keys above it (as small key ids), so the request and response readers
 * can pick `messages[].content`, `choices[].delta.content`, `usage.prompt_tokens` and the like in
 * one pass without building a document.
 *
 * Strings are measured, not decoded: {@link JsonWalker.asciiBytes} and
 * {@link JsonWalker.nonAscii} of the current string count what the string encodes (an escape
 * counts as the character it stands for; a surrogate pair as one non-ASCII character), which is
 * what the token estimator needs. Structural errors stop the walk (`ok` false); nothing traps.
 * Not re-entrant; one walker per VM is enough (callbacks of one VM never interleave).
 */
import { hex4At } from "../inspect/text-map";

export const MAX_WALK_DEPTH: i32 = 64;

/** Marks an array level in {@link JsonWalker.keyAt}. */
export const K_ELEMENT: i32 = -2;
/** A key the budget path does not care about. */
export const K_OTHER: i32 = -1;

// Key ids (index into KEY_NAMES).
export const K_MODEL: i32 = 0;
export const K_STREAM: i32 = 1;
export const K_STREAM_OPTIONS: i32 = 2;
export const K_INCLUDE_USAGE: i32 = 3;
export const K_MAX_TOKENS: i32 = 4;
export const K_MAX_COMPLETION_TOKENS: i32 = 5;
export const K_MAX_OUTPUT_TOKENS: i32 = 6;
export const K_MESSAGES: i32 = 7;
export const K_PROMPT: i32 = 8;
export const K_INPUT: i32 = 9;
export const K_INSTRUCTIONS: i32 = 10;
export const K_SYSTEM: i32 = 11;
export const K_CHOICES: i32 = 12;
export const K_DELTA: i32 = 13;
export const K_CONTENT: i32 = 14;
export const K_TEXT: i32 = 15;
export const K_REFUSAL: i32 = 16;
export const K_REASONING_CONTENT: i32 = 17;
export const K_TOOL_CALLS: i32 = 18;
export const K_FUNCTION: i32 = 19;
export const K_ARGUMENTS: i32 = 20;
export const K_USAGE: i32 = 21;
export const K_PROMPT_TOKENS: i32 = 22;
export const K_COMPLETION_TOKENS: i32 = 23;
export const K_PROMPT_TOKENS_DETAILS: i32 = 24;
export const K_CACHED_TOKENS: i32 = 25;
export const K_INPUT_TOKENS: i32 = 26;
export const K_OUTPUT_TOKENS: i32 = 27;
export const K_INPUT_TOKENS_DETAILS: i32 = 28;
export const K_TYPE: i32 = 29;
export const K_ID: i32 = 30;
export const K_CREATED: i32 = 31;
export const K_FINISH_REASON: i32 = 32;
export const K_RESPONSE: i32 = 33;
export const K_DATA: i32 = 34;
export const K_OBJECT: i32 = 35;
export const K_ROLE: i32 = 36;
export const K_URL: i32 = 37;
export const K_DETAIL: i32 = 38;
export const K_IMAGE_URL: i32 = 39;
export const K_FILE_DATA: i32 = 40;
export const K_B64_JSON: i32 = 41;
export const K_CALL_ID: i32 = 42;
export const K_FILE_ID: i32 = 43;
export const K_NAME: i32 = 44;
export const K_INDEX: i32 = 45;
export const K_MESSAGE: i32 = 46;
export const K_OUTPUT: i32 = 47;

const KEY_NAMES: StaticArray<string> = [
  "model", "stream", "stream_options", "include_usage", "max_tokens", "max_completion_tokens",
  "max_output_tokens", "messages", "prompt", "input", "instructions", "system", "choices", "delta",
  "content", "text", "refusal", "reasoning_content", "tool_calls", "function", "arguments", "usage",
  "prompt_tokens", "completion_tokens", "prompt_tokens_details", "cached_tokens", "input_tokens",
  "output_tokens", "input_tokens_details", "type", "id", "created", "finish_reason", "response",
  "data", "object", "role", "url", "detail", "image_url", "file_data", "b64_json", "call_id",
  "file_id", "name", "index", "message", "output",
];

/** Key names as UTF-8 bytes, built on first use (never at module top level: no host calls there anyway). */
let keyBytes: Array<Uint8Array> | null = null;

function keyTable(): Array<Uint8Array> {
  let t = keyBytes;
  if (t == null) {
    t = new Array<Uint8Array>(KEY_NAMES.length);
    for (let i = 0; i < KEY_NAMES.length; i++) t[i] = Uint8Array.wrap(String.UTF8.encode(KEY_NAMES[i]));
    keyBytes = t;
  }
  return t;
}

/** Kinds of scalar reported to {@link WalkVisitor.scalar}. */
export const V_STRING: i32 = 0;
export const V_NUMBER: i32 = 1;
export const V_TRUE: i32 = 2;
export const V_FALSE: i32 = 3;
export const V_NULL: i32 = 4;

/** Receives scalars; `w.depth` and `w.keyAt(d)` give the path (1 = top-level key). */
export class WalkVisitor {
  /** A scalar at [start, end) (a string's range excludes its quotes). */
  scalar(w: JsonWalker, kind: i32, start: i32, end: i32): void {}
  /** An array element or object member starts a container at `w.depth` (already pushed). */
  enter(w: JsonWalker, isArray: bool): void {}
}

export class JsonWalker {
  ok: bool = true;
  depth: i32 = 0;
  base: usize = 0;
  /** Of the current string scalar: ASCII characters and non-ASCII characters it encodes. */
  asciiBytes: i32 = 0;
  nonAscii: i32 = 0;
  private keys: StaticArray<i32> = new StaticArray<i32>(MAX_WALK_DEPTH + 2);
  private arr: StaticArray<bool> = new StaticArray<bool>(MAX_WALK_DEPTH + 2);

  /** The key id at level `d` (1..depth): K_ELEMENT for array elements, K_OTHER for unknown keys. */
  @inline keyAt(d: i32): i32 {
    return unchecked(this.keys[d]);
  }

  /** True when the path from the top is exactly `a` (then `b`, `c`, `e` when >= -2). */
  path1(a: i32): bool {
    return this.depth == 1 && unchecked(this.keys[1]) == a;
  }

  /** Walks [start, end) of memory at `base`; returns false on a structural error. */
  walk(base: usize, start: i32, end: i32, v: WalkVisitor): bool {
    this.base = base;
    this.ok = true;
    this.depth = 0;
    let pos = ws(base, start, end);
    if (pos >= end) return this.fail();
    let expectValue = true;
    while (true) {
      if (expectValue) {
        if (pos >= end) return this.fail();
        const c = load<u8>(base + <usize>pos);
        if (c == 0x7b || c == 0x5b) {
          if (this.depth >= MAX_WALK_DEPTH) return this.fail();
          const isArr = c == 0x5b;
          if (this.depth > 0) v.enter(this, isArr);
          this.depth++;
          unchecked(this.arr[this.depth] = isArr);
          unchecked(this.keys[this.depth] = isArr ? K_ELEMENT : K_OTHER);
          pos = ws(base, pos + 1, end);
          if (pos < end && load<u8>(base + <usize>pos) == (isArr ? 0x5d : 0x7d)) {
            this.depth--;
            pos++;
            expectValue = false;
            continue;
          }
          if (!isArr) {
            pos = this.readKey(base, pos, end);
            if (pos < 0) return this.fail();
          }
          continue;
        }
        if (c == 0x22) {
          const close = this.measure(base, pos + 1, end);
          if (close < 0) return this.fail();
          v.scalar(this, V_STRING, pos + 1, close);
          pos = close + 1;
        } else {
          let e = pos;
          while (e < end) {
            const d = load<u8>(base + <usize>e);
            if (d == 0x2c || d == 0x7d || d == 0x5d || d == 0x20 || d == 0x0a || d == 0x0d || d == 0x09) break;
            e++;
          }
          if (e == pos) return this.fail();
          let kind = V_NUMBER;
          if (c == 0x74) kind = V_TRUE;
          else if (c == 0x66) kind = V_FALSE;
          else if (c == 0x6e) kind = V_NULL;
          else if (!(c == 0x2d || (c >= 0x30 && c <= 0x39))) return this.fail();
          v.scalar(this, kind, pos, e);
          pos = e;
        }
        expectValue = false;
        continue;
      }
      // After a value: `,` or the container's close.
      pos = ws(base, pos, end);
      if (this.depth == 0) return ws(base, pos, end) >= end ? true : this.fail();
      if (pos >= end) return this.fail();
      const c = load<u8>(base + <usize>pos);
      const isArr = unchecked(this.arr[this.depth]);
      if (c == 0x2c) {
        pos = ws(base, pos + 1, end);
        if (!isArr) {
          pos = this.readKey(base, pos, end);
          if (pos < 0) return this.fail();
        }
        expectValue = true;
        continue;
      }
      if (c == (isArr ? 0x5d : 0x7d)) {
        this.depth--;
        pos++;
        continue;
      }
      return this.fail();
    }
    return false; // unreachable
  }

  private fail(): bool {
    this.ok = false;
    return false;
  }

  /** Reads `"key"` then `:`; sets keys[depth]; returns the position of the value, or -1. */
  private readKey(base: usize, pos: i32, end: i32): i32 {
    if (pos >= end || load<u8>(base + <usize>pos) != 0x22) return -1;
    const q = pos + 1;
    let i = q;
    let escaped = false;
    while (i < end) {
      const c = load<u8>(base + <usize>i);
      if (c == 0x22) break;
      if (c == 0x5c) {
        escaped = true;
        i += 2;
        continue;
      }
      i++;
    }
    if (i >= end) return -1;
    unchecked(this.keys[this.depth] = escaped ? K_OTHER : keyId(base, q, i));
    pos = ws(base, i + 1, end);
    if (pos >= end || load<u8>(base + <usize>pos) != 0x3a) return -1;
    return ws(base, pos + 1, end);
  }

  /** Scans a string body from `q`; sets asciiBytes/nonAscii; returns the closing quote or -1. */
  private measure(base: usize, q: i32, end: i32): i32 {
    let ascii = 0;
    let non = 0;
    let i = q;
    const quote = i8x16.splat(0x22);
    const bs = i8x16.splat(0x5c);
    const zero = i8x16.splat(0);
    while (i < end) {
      // Skip runs of plain ASCII 16 bytes at a time (no quote, no backslash, no byte >= 0x80).
      while (i + 16 <= end) {
        const v = v128.load(base + <usize>i);
        const bits = i8x16.bitmask(v128.or(v128.or(i8x16.eq(v, quote), i8x16.eq(v, bs)), i8x16.lt_s(v, zero)));
        if (bits == 0) {
          ascii += 16;
          i += 16;
          continue;
        }
        const k = <i32>ctz(bits);
        ascii += k;
        i += k;
        break;
      }
      if (i >= end) break;
      const c = <i32>load<u8>(base + <usize>i);
      if (c == 0x22) {
        this.asciiBytes = ascii;
        this.nonAscii = non;
        return i;
      }
      if (c == 0x5c) {
        if (i + 1 >= end) return -1;
        const e = <i32>load<u8>(base + <usize>(i + 1));
        if (e == 0x75) {
          if (i + 6 > end) return -1;
          const cp = hex4At(base, i + 2);
          if (cp < 0) return -1;
          if (cp < 0x80) ascii++;
          else if (cp < 0xdc00 || cp > 0xdfff) non++; // a low surrogate completes a pair already counted
          i += 6;
        } else {
          ascii++;
          i += 2;
        }
        continue;
      }
      if (c < 0x80) ascii++;
      else if ((c & 0xc0) != 0x80) non++; // a UTF-8 lead byte starts one character
      i++;
    }
    return -1;
  }
}

@inline function ws(base: usize, i: i32, end: i32): i32 {
  while (i < end) {
    const c = load<u8>(base + <usize>i);
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
    i++;
  }
  return i;
}

function keyId(base: usize, start: i32, end: i32): i32 {
  const n = end - start;
  const t = keyTable();
  for (let k = 0; k < t.length; k++) {
    const name = unchecked(t[k]);
    if (name.length != n) continue;
    if (memory.compare(name.dataStart, base + <usize>start, <usize>n) == 0) return k;
  }
  return K_OTHER;
}

/** Parses a non-negative integer literal at [start, end); -1 when it is not one (fractions, signs, > 2^53). */
export function parseNonNegInt(base: usize, start: i32, end: i32): i64 {
  if (end <= start || end - start > 15) return -1;
  let n: i64 = 0;
  for (let i = start; i < end; i++) {
    const c = <i32>load<u8>(base + <usize>i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + <i64>(c - 0x30);
  }
  return n;
}
