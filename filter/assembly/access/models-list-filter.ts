/**
 * Filters a `GET /v1/models` response (`{"object":"list","data":[{"id":"gpt-4o",...},...]}`) to
 * the models the caller may use: elements of the top-level `data` array whose `id` the access
 * lists deny are removed; everything else (other fields, element bodies, whitespace) is kept byte
 * for byte, and the result is valid JSON whenever the input was. A body that is not such a list is
 * left alone (returns false).
 */
import { ByteBuffer } from "../inspect/byte-buffer";
import { AccessConfig } from "../budget/budget-config";
import { JsonWalker, WalkVisitor, K_DATA, K_ELEMENT, K_ID, V_STRING } from "../budget/json-walk";
import { ACCESS_DENIED, checkModelAccess } from "./model-access";

class ListScan extends WalkVisitor {
  /** Pairs (start, end) of every `data` element (value range), and its id range. */
  elemStart: Array<i32> = [];
  idStart: Array<i32> = [];
  idEnd: Array<i32> = [];
  found: bool = false;

  reset(): void {
    this.elemStart.length = 0;
    this.idStart.length = 0;
    this.idEnd.length = 0;
    this.found = false;
  }

  override enter(w: JsonWalker, isArray: bool): void {
    if (w.depth == 1 && w.keyAt(1) == K_DATA && isArray) this.found = true;
  }

  override scalar(w: JsonWalker, kind: i32, start: i32, end: i32): void {
    if (w.depth == 3 && w.keyAt(1) == K_DATA && w.keyAt(2) == K_ELEMENT && w.keyAt(3) == K_ID && kind == V_STRING) {
      this.idStart.push(start);
      this.idEnd.push(end);
    }
  }
}

const scan = new ListScan();

/**
 * Writes the filtered body to `out`; returns the number of removed models, or -1 when the body is
 * not a model list (then `out` is untouched).
 */
export function filterModelsList(cfg: AccessConfig, identity: string, walker: JsonWalker, base: usize, len: i32, out: ByteBuffer): i32 {
  scan.reset();
  if (!walker.walk(base, 0, len, scan) || !scan.found) return -1;
  // Find element boundaries by a second, light pass over the `data` array: for each id, its
  // enclosing object is the element. Locate the array start first.
  const arrStart = findDataArray(base, len);
  if (arrStart < 0) return -1;
  out.reset();
  out.pushBytes(base, arrStart + 1); // through '['
  let pos = arrStart + 1;
  let removed = 0;
  let kept = 0;
  while (true) {
    pos = skipWs(base, pos, len);
    if (pos >= len) return -1;
    const c = load<u8>(base + <usize>pos);
    if (c == 0x5d) break;
    const elemEnd = skipValue(base, pos, len);
    if (elemEnd < 0) return -1;
    // The element's id (if any) lies inside [pos, elemEnd).
    let allowed = true;
    for (let k = 0; k < scan.idStart.length; k++) {
      const s = scan.idStart[k];
      if (s > pos && s < elemEnd) {
        const id = String.UTF8.decodeUnsafe(base + <usize>s, <usize>(scan.idEnd[k] - s));
        allowed = checkModelAccess(cfg, identity, id) != ACCESS_DENIED;
        break;
      }
    }
    if (allowed) {
      if (kept > 0) out.pushByte(0x2c);
      out.pushBytes(base + <usize>pos, elemEnd - pos);
      kept++;
    } else {
      removed++;
    }
    pos = skipWs(base, elemEnd, len);
    if (pos < len && load<u8>(base + <usize>pos) == 0x2c) pos++;
  }
  out.pushBytes(base + <usize>pos, len - pos); // from ']' to the end
  return removed;
}

/** Offset of the `[` of the top-level "data" array, or -1. */
function findDataArray(base: usize, len: i32): i32 {
  let pos = skipWs(base, 0, len);
  if (pos >= len || load<u8>(base + <usize>pos) != 0x7b) return -1;
  pos++;
  while (pos < len) {
    pos = skipWs(base, pos, len);
    if (pos >= len || load<u8>(base + <usize>pos) != 0x22) return -1;
    const keyEnd = skipString(base, pos, len);
    if (keyEnd < 0) return -1;
    const isData = keyEnd - pos == 6 && load<u32>(base + <usize>(pos + 1)) == 0x61746164; // "data"
    pos = skipWs(base, keyEnd, len);
    if (pos >= len || load<u8>(base + <usize>pos) != 0x3a) return -1;
    pos = skipWs(base, pos + 1, len);
    if (isData) return pos < len && load<u8>(base + <usize>pos) == 0x5b ? pos : -1;
    pos = skipValue(base, pos, len);
    if (pos < 0) return -1;
    pos = skipWs(base, pos, len);
    if (pos < len && load<u8>(base + <usize>pos) == 0x2c) pos++;
    else return -1;
  }
  return -1;
}

/** End offset (exclusive) of the string starting with the quote at `q`, or -1. */
function skipString(base: usize, q: i32, len: i32): i32 {
  let i = q + 1;
  while (i < len) {
    const c = load<u8>(base + <usize>i);
    if (c == 0x5c) { i += 2; continue; }
    if (c == 0x22) return i + 1;
    i++;
  }
  return -1;
}

/** End offset (exclusive) of the JSON value at `pos`, or -1. */
function skipValue(base: usize, pos: i32, len: i32): i32 {
  const c = load<u8>(base + <usize>pos);
  if (c == 0x22) return skipString(base, pos, len);
  if (c == 0x7b || c == 0x5b) {
    let depth = 0;
    let i = pos;
    while (i < len) {
      const d = load<u8>(base + <usize>i);
      if (d == 0x22) {
        i = skipString(base, i, len);
        if (i < 0) return -1;
        continue;
      }
      if (d == 0x7b || d == 0x5b) depth++;
      else if (d == 0x7d || d == 0x5d) {
        depth--;
        if (depth == 0) return i + 1;
      }
      i++;
    }
    return -1;
  }
  let i = pos;
  while (i < len) {
    const d = load<u8>(base + <usize>i);
    if (d == 0x2c || d == 0x7d || d == 0x5d || d == 0x20 || d == 0x0a || d == 0x0d || d == 0x09) break;
    i++;
  }
  return i > pos ? i : -1;
}

@inline function skipWs(base: usize, i: i32, len: i32): i32 {
  while (i < len) {
    const c = load<u8>(base + <usize>i);
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
    i++;
  }
  return i;
}
