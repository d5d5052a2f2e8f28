/**
 * A small, strict JSON document model and parser for the plugin configuration.
 *
 * Strict means RFC 8259 and nothing more: no comments, no trailing commas, no leading zeros, no
 * control characters inside strings, no lone surrogates in `\u` escapes, no duplicate keys, no bytes
 * after the document, well-formed UTF-8 only. Nesting deeper than {@link MAX_DEPTH} is refused.
 *
 * Errors never trap: {@link parseJson} returns a {@link JsonParseResult} whose `error` names the JSON
 * path where parsing stopped (`$.detectors.email`), the byte offset and the reason.
 *
 * Ownership: the parser copies what it needs; the input bytes may be freed after the call.
 * This parser is for configuration documents (kilobytes). Request and response bodies are read by
 * the allocation-free readers in `inspect/`, never by this one.
 */

export const MAX_DEPTH: i32 = 64;

export const enum JsonKind {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  bool: bool = false;
  num: f64 = 0;
  /** True when the number literal had no fraction and no exponent. */
  isInteger: bool = false;
  str: string = "";
  items: Array<JsonValue> = [];
  keys: Array<string> = [];
  values: Array<JsonValue> = [];

  /** The value stored under `key`, or null (objects only). */
  get(key: string): JsonValue | null {
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] == key) return this.values[i];
    }
    return null;
  }

  kindName(): string {
    return jsonKindName(this.kind);
  }
}

export function jsonKindName(kind: JsonKind): string {
  switch (kind) {
    case JsonKind.Null: return "null";
    case JsonKind.Bool: return "boolean";
    case JsonKind.Number: return "number";
    case JsonKind.String: return "string";
    case JsonKind.Array: return "array";
    default: return "object";
  }
}

export class JsonParseResult {
  value: JsonValue | null = null;
  /** Empty on success; otherwise "<path>: <reason> (at byte N)". */
  error: string = "";
  errorPath: string = "";
  errorReason: string = "";
}

/** Parses one JSON document from `bytes`. Never traps. */
export function parseJson(bytes: Uint8Array): JsonParseResult {
  const p = new Parser(bytes);
  const result = new JsonParseResult();
  p.skipWs();
  let v: JsonValue | null = null;
  if (p.pos >= p.len) p.fail("empty document");
  else v = p.parseValue(0);
  if (v != null && p.error.length == 0) {
    p.skipWs();
    if (p.pos < p.len) p.fail("unexpected bytes after the JSON document");
  }
  if (p.error.length != 0) {
    result.errorPath = p.pathString();
    result.errorReason = p.error + " at byte " + p.pos.toString();
    result.error = result.errorPath + ": " + p.error + " (at byte " + p.pos.toString() + ")";
    return result;
  }
  result.value = v;
  return result;
}

class Parser {
  pos: i32 = 0;
  len: i32;
  base: usize;
  error: string = "";
  // Path bookkeeping for error messages: one entry per nesting level.
  pathKeys: Array<string> = [];
  pathIndex: Array<i32> = [];

  constructor(public bytes: Uint8Array) {
    this.len = bytes.length;
    this.base = bytes.dataStart;
  }

  pathString(): string {
    let s = "$";
    for (let i = 0; i < this.pathKeys.length; i++) {
      const idx = this.pathIndex[i];
      if (idx >= 0) s += "[" + idx.toString() + "]";
      else if (idx == -1) s += "." + this.pathKeys[i];
      // -2: inside an object, before its first key was read
    }
    return s;
  }

  fail(reason: string): void {
    if (this.error.length == 0) this.error = reason;
  }

  @inline peek(): i32 {
    return <i32>load<u8>(this.base + <usize>this.pos);
  }

  skipWs(): void {
    while (this.pos < this.len) {
      const c = this.peek();
      if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) this.pos++;
      else break;
    }
  }

  parseValue(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) {
      this.fail("nesting deeper than " + MAX_DEPTH.toString() + " levels");
      return null;
    }
    if (this.pos >= this.len) {
      this.fail("unexpected end of document");
      return null;
    }
    const c = this.peek();
    if (c == 0x7b) return this.parseObject(depth);
    if (c == 0x5b) return this.parseArray(depth);
    if (c == 0x22) {
      const s = this.parseString();
      if (s == null) return null;
      const v = new JsonValue();
      v.kind = JsonKind.String;
      v.str = s;
      return v;
    }
    if (c == 0x74) return this.parseLiteral("true", JsonKind.Bool, true);
    if (c == 0x66) return this.parseLiteral("false", JsonKind.Bool, false);
    if (c == 0x6e) return this.parseLiteral("null", JsonKind.Null, false);
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
    this.fail("unexpected character " + describeByte(c));
    return null;
  }

  parseLiteral(word: string, kind: JsonKind, b: bool): JsonValue | null {
    const n = word.length;
    if (this.pos + n > this.len) {
      this.fail("invalid literal (expected " + word + ")");
      return null;
    }
    for (let i = 0; i < n; i++) {
      if (<i32>load<u8>(this.base + <usize>(this.pos + i)) != word.charCodeAt(i)) {
        this.fail("invalid literal (expected " + word + ")");
        return null;
      }
    }
    this.pos += n;
    const v = new JsonValue();
    v.kind = kind;
    v.bool = b;
    return v;
  }

  parseNumber(): JsonValue | null {
    const start = this.pos;
    let integer = true;
    if (this.peek() == 0x2d) this.pos++;
    if (this.pos >= this.len) {
      this.fail("invalid number");
      return null;
    }
    let c = this.peek();
    if (c == 0x30) {
      this.pos++;
      if (this.pos < this.len) {
        c = this.peek();
        if (c >= 0x30 && c <= 0x39) {
          this.fail("invalid number (leading zero)");
          return null;
        }
      }
    } else if (c >= 0x31 && c <= 0x39) {
      while (this.pos < this.len && isDigit(this.peek())) this.pos++;
    } else {
      this.fail("invalid number");
      return null;
    }
    if (this.pos < this.len && this.peek() == 0x2e) {
      integer = false;
      this.pos++;
      if (this.pos >= this.len || !isDigit(this.peek())) {
        this.fail("invalid number (digit expected after '.')");
        return null;
      }
      while (this.pos < this.len && isDigit(this.peek())) this.pos++;
    }
    if (this.pos < this.len && (this.peek() | 0x20) == 0x65) {
      integer = false;
      this.pos++;
      if (this.pos < this.len && (this.peek() == 0x2b || this.peek() == 0x2d)) this.pos++;
      if (this.pos >= this.len || !isDigit(this.peek())) {
        this.fail("invalid number (digit expected in exponent)");
        return null;
      }
      while (this.pos < this.len && isDigit(this.peek())) this.pos++;
    }
    const text = String.UTF8.decodeUnsafe(this.base + <usize>start, <usize>(this.pos - start));
    const v = new JsonValue();
    v.kind = JsonKind.Number;
    v.num = parseFloat(text);
    v.isInteger = integer;
    return v;
  }

  /** Parses a string starting at the opening quote; returns null (and sets error) on failure. */
  parseString(): string | null {
    this.pos++; // opening quote
    let out = "";
    let runStart = this.pos;
    while (true) {
      if (this.pos >= this.len) {
        this.fail("unterminated string");
        return null;
      }
      const c = this.peek();
      if (c == 0x22) {
        if (this.pos > runStart) {
          const run = this.decodeRun(runStart, this.pos);
          if (run == null) return null;
          out += run;
        }
        this.pos++;
        return out;
      }
      if (c < 0x20) {
        this.fail("control character " + describeByte(c) + " in string (must be escaped)");
        return null;
      }
      if (c == 0x5c) {
        if (this.pos > runStart) {
          const run = this.decodeRun(runStart, this.pos);
          if (run == null) return null;
          out += run;
        }
        this.pos++;
        if (this.pos >= this.len) {
          this.fail("unterminated escape");
          return null;
        }
        const e = this.peek();
        this.pos++;
        if (e == 0x22) out += "\"";
        else if (e == 0x5c) out += "\\";
        else if (e == 0x2f) out += "/";
        else if (e == 0x62) out += "\b";
        else if (e == 0x66) out += "\f";
        else if (e == 0x6e) out += "\n";
        else if (e == 0x72) out += "\r";
        else if (e == 0x74) out += "\t";
        else if (e == 0x75) {
          const hi = this.hex4();
          if (hi < 0) return null;
          if (hi >= 0xd800 && hi <= 0xdbff) {
            if (this.pos + 1 < this.len && this.peek() == 0x5c &&
                <i32>load<u8>(this.base + <usize>(this.pos + 1)) == 0x75) {
              this.pos += 2;
              const lo = this.hex4();
              if (lo < 0) return null;
              if (lo < 0xdc00 || lo > 0xdfff) {
                this.fail("invalid surrogate pair in \\u escape");
                return null;
              }
              out += String.fromCharCodes([hi, lo]);
            } else {
              this.fail("lone high surrogate in \\u escape");
              return null;
            }
          } else if (hi >= 0xdc00 && hi <= 0xdfff) {
            this.fail("lone low surrogate in \\u escape");
            return null;
          } else {
            out += String.fromCharCode(hi);
          }
        } else {
          this.pos--;
          this.fail("invalid escape \\" + String.fromCharCode(e));
          return null;
        }
        runStart = this.pos;
        continue;
      }
      this.pos++;
    }
  }

  hex4(): i32 {
    if (this.pos + 4 > this.len) {
      this.fail("truncated \\u escape");
      return -1;
    }
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const h = hexValue(<i32>load<u8>(this.base + <usize>(this.pos + i)));
      if (h < 0) {
        this.fail("invalid hex digit in \\u escape");
        return -1;
      }
      v = (v << 4) | h;
    }
    this.pos += 4;
    return v;
  }

  /** Decodes raw UTF-8 bytes [start, end) after validating them. */
  decodeRun(start: i32, end: i32): string | null {
    let i = start;
    while (i < end) {
      const b0 = <i32>load<u8>(this.base + <usize>i);
      if (b0 < 0x80) { i++; continue; }
      let need = 0;
      let min = 0;
      if ((b0 & 0xe0) == 0xc0) { need = 1; min = 0x80; }
      else if ((b0 & 0xf0) == 0xe0) { need = 2; min = 0x800; }
      else if ((b0 & 0xf8) == 0xf0) { need = 3; min = 0x10000; }
      else {
        this.pos = i;
        this.fail("invalid UTF-8");
        return null;
      }
      if (i + need >= end) {
        this.pos = i;
        this.fail("invalid UTF-8 (truncated sequence)");
        return null;
      }
      let cp = b0 & (0x3f >> need);
      for (let k = 1; k <= need; k++) {
        const b = <i32>load<u8>(this.base + <usize>(i + k));
        if ((b & 0xc0) != 0x80) {
          this.pos = i;
          this.fail("invalid UTF-8");
          return null;
        }
        cp = (cp << 6) | (b & 0x3f);
      }
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        this.pos = i;
        this.fail("invalid UTF-8 (overlong or surrogate)");
        return null;
      }
      i += need + 1;
    }
    return String.UTF8.decodeUnsafe(this.base + <usize>start, <usize>(end - start));
  }

  parseArray(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Array;
    this.skipWs();
    if (this.pos < this.len && this.peek() == 0x5d) {
      this.pos++;
      return v;
    }
    const level = this.pathKeys.length;
    this.pathKeys.push("");
    this.pathIndex.push(0);
    while (true) {
      this.pathIndex[level] = v.items.length;
      this.skipWs();
      const item = this.parseValue(depth + 1);
      if (item == null) return null;
      v.items.push(item);
      this.skipWs();
      if (this.pos >= this.len) {
        this.fail("unterminated array");
        return null;
      }
      const c = this.peek();
      if (c == 0x2c) {
        this.pos++;
        this.skipWs();
        if (this.pos < this.len && this.peek() == 0x5d) {
          this.fail("trailing comma in array");
          return null;
        }
        continue;
      }
      if (c == 0x5d) {
        this.pos++;
        break;
      }
      this.fail("expected ',' or ']' in array, got " + describeByte(c));
      return null;
    }
    this.pathKeys.pop();
    this.pathIndex.pop();
    return v;
  }

  parseObject(depth: i32): JsonValue | null {
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Object;
    this.skipWs();
    if (this.pos < this.len && this.peek() == 0x7d) {
      this.pos++;
      return v;
    }
    const level = this.pathKeys.length;
    this.pathKeys.push("");
    this.pathIndex.push(-2);
    while (true) {
      this.skipWs();
      if (this.pos >= this.len || this.peek() != 0x22) {
        if (this.pos < this.len && this.peek() == 0x7d) this.fail("trailing comma in object");
        else this.fail("expected a string key in object");
        return null;
      }
      const key = this.parseString();
      if (key == null) return null;
      this.pathKeys[level] = key;
      this.pathIndex[level] = -1;
      for (let i = 0; i < v.keys.length; i++) {
        if (v.keys[i] == key) {
          this.fail("duplicate key");
          return null;
        }
      }
      this.skipWs();
      if (this.pos >= this.len || this.peek() != 0x3a) {
        this.fail("expected ':' after key");
        return null;
      }
      this.pos++;
      this.skipWs();
      const item = this.parseValue(depth + 1);
      if (item == null) return null;
      v.keys.push(key);
      v.values.push(item);
      this.skipWs();
      if (this.pos >= this.len) {
        this.fail("unterminated object");
        return null;
      }
      const c = this.peek();
      if (c == 0x2c) {
        this.pos++;
        continue;
      }
      if (c == 0x7d) {
        this.pos++;
        break;
      }
      this.fail("expected ',' or '}' in object, got " + describeByte(c));
      return null;
    }
    this.pathKeys.pop();
    this.pathIndex.pop();
    return v;
  }
}

@inline function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

export function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

function describeByte(c: i32): string {
  if (c >= 0x21 && c < 0x7f) return "'" + String.fromCharCode(c) + "'";
  return "0x" + c.toString(16);
}
