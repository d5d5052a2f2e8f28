/**
 * The text a message's detectors scan, and the map from that text back to the raw bytes it came
 * from, so a finding in decoded text can be rewritten in the raw JSON (or SSE, or plain text).
 *
 * The text is a concatenation of segments. A segment is the decoded content of one JSON string
 * (or a run of plain text). Segments that must not join with their neighbours are separated by a
 * NUL byte, which no detector matches across; streamed deltas are concatenated without one so a
 * value split across events is seen whole.
 *
 * No per-byte offset table is kept (it would cost 4 bytes per text byte): a segment without
 * escapes maps linearly; a segment with escapes is re-walked on demand, from a forward cursor,
 * which is linear over findings sorted by position.
 */
import { ByteBuffer } from "./byte-buffer";
import { hexValue } from "../config/json-value";

export const SEPARATOR: u8 = 0;

export class TextMap {
  text: ByteBuffer = new ByteBuffer(1024);
  /** Raw bytes the segments point into. Set by the reader; owned by the caller. */
  rawBase: usize = 0;
  rawStart: Array<i32> = [];
  rawEnd: Array<i32> = [];
  textStart: Array<i32> = [];
  textEnd: Array<i32> = [];
  escaped: Array<bool> = [];
  /** Per segment: the raw offset of the SSE event it came from (0 for whole bodies). */
  group: Array<i32> = [];
  /** Group recorded for segments added from now on. */
  currentGroup: i32 = 0;
  /**
   * Identity mode (plain text): the text is the raw bytes themselves, one segment, no copy.
   */
  identity: bool = false;
  identityLength: i32 = 0;
  /**
   * Streams: the first `contextLength` text bytes are look-behind context kept from text already
   * reported and forwarded (word boundaries, context keywords); no segment covers them.
   */
  contextLength: i32 = 0;
  // Forward cursor for escaped segments.
  private curSeg: i32 = -1;
  private curRaw: i32 = 0;
  private curText: i32 = 0;

  reset(rawBase: usize): void {
    this.text.reset();
    this.rawBase = rawBase;
    this.rawStart.length = 0;
    this.rawEnd.length = 0;
    this.textStart.length = 0;
    this.textEnd.length = 0;
    this.escaped.length = 0;
    this.group.length = 0;
    this.currentGroup = 0;
    this.identity = false;
    this.identityLength = 0;
    this.contextLength = 0;
    this.firstConcat = false;
    this.curSeg = -1;
  }

  /** Makes the text the raw bytes [0, length) themselves (plain text): no copy, one segment. */
  setIdentity(rawBase: usize, length: i32): void {
    this.reset(rawBase);
    this.identity = true;
    this.identityLength = length;
    this.addSegment(0, length, 0, length, false);
  }

  /** Start of the text detectors scan. */
  @inline get textPtr(): usize {
    return this.identity ? this.rawBase : this.text.ptr;
  }

  @inline get textLength(): i32 {
    return this.identity ? this.identityLength : this.text.length;
  }

  /**
   * Appends the text and segments of `other` (same raw buffer), separated from what is here unless
   * `other` starts with a stream delta.
   */
  appendFrom(other: TextMap): void {
    const n = other.rawStart.length;
    if (n == 0) return;
    if (!other.firstConcat) this.separate();
    const shift = this.text.length;
    this.text.pushBytes(other.text.ptr, other.text.length);
    for (let i = 0; i < n; i++) {
      this.rawStart.push(unchecked(other.rawStart[i]));
      this.rawEnd.push(unchecked(other.rawEnd[i]));
      this.textStart.push(unchecked(other.textStart[i]) + shift);
      this.textEnd.push(unchecked(other.textEnd[i]) + shift);
      this.escaped.push(unchecked(other.escaped[i]));
      this.group.push(unchecked(other.group[i]));
    }
  }

  /** Truncates the segment list to `n` entries (undo after a failed read). */
  truncateSegments(n: i32): void {
    this.rawStart.length = n;
    this.rawEnd.length = n;
    this.textStart.length = n;
    this.textEnd.length = n;
    this.escaped.length = n;
    this.group.length = n;
  }

  /**
   * Drops text before `keepFrom` (keeping up to `context` bytes before it as look-behind context)
   * and raw bytes before `rawCut`, rebasing what is left (streams: after the prefix was
   * forwarded). A segment cut by keepFrom keeps its tail.
   */
  rebase(keepFrom: i32, rawCut: i32, context: i32): void {
    const ctxStart = keepFrom > context ? keepFrom - context : 0;
    let w = 0;
    const n = this.rawStart.length;
    for (let i = 0; i < n; i++) {
      let ts = unchecked(this.textStart[i]);
      const te = unchecked(this.textEnd[i]);
      if (te <= keepFrom) continue;
      let rs = unchecked(this.rawStart[i]);
      if (ts < keepFrom) {
        rs = this.rawOf(i, keepFrom, false);
        ts = keepFrom;
      }
      const g = unchecked(this.group[i]);
      unchecked(this.rawStart[w] = rs - rawCut);
      unchecked(this.rawEnd[w] = this.rawEnd[i] - rawCut);
      unchecked(this.textStart[w] = ts - ctxStart);
      unchecked(this.textEnd[w] = te - ctxStart);
      unchecked(this.escaped[w] = this.escaped[i]);
      unchecked(this.group[w] = g > rawCut ? g - rawCut : 0);
      w++;
    }
    this.truncateSegments(w);
    this.text.consume(ctxStart);
    this.contextLength = keepFrom - ctxStart;
    this.currentGroup = this.currentGroup > rawCut ? this.currentGroup - rawCut : 0;
    this.curSeg = -1;
  }

  /** Raw offset where text position t starts (t in a gap maps to the next segment's start). */
  rawStartOf(t: i32, fallback: i32): i32 {
    const n = this.rawStart.length;
    let seg = this.segmentAt(t);
    if (seg < 0) seg = 0;
    while (seg < n && unchecked(this.textEnd[seg]) <= t) seg++;
    if (seg >= n) return fallback;
    const ts = unchecked(this.textStart[seg]);
    return this.rawOf(seg, t > ts ? t : ts, false);
  }

  get segmentCount(): i32 {
    return this.rawStart.length;
  }

  /** Whether the first segment added since reset() joins the text before it (a stream delta). */
  firstConcat: bool = false;

  /** Appends a segment record; the caller has already appended its text. */
  addSegment(rawStart: i32, rawEnd: i32, textStart: i32, textEnd: i32, escaped: bool, concat: bool = false): void {
    if (this.rawStart.length == 0) this.firstConcat = concat;
    this.rawStart.push(rawStart);
    this.rawEnd.push(rawEnd);
    this.textStart.push(textStart);
    this.textEnd.push(textEnd);
    this.escaped.push(escaped);
    this.group.push(this.currentGroup);
  }

  /** Appends a separator unless the text is empty or already ends with one. */
  separate(): void {
    const n = this.text.length;
    if (n > 0 && load<u8>(this.text.ptr + <usize>(n - 1)) != SEPARATOR) this.text.pushByte(SEPARATOR);
  }

  /** Index of the last segment whose textStart <= t, or -1. */
  segmentAt(t: i32): i32 {
    let lo = 0;
    let hi = this.rawStart.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (unchecked(this.textStart[mid]) <= t) {
        ans = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return ans;
  }

  /**
   * Raw offset where the bytes producing text byte `t` of segment `seg` start (`after` false), or
   * end (`after` true). `t` must lie inside the segment.
   */
  rawOf(seg: i32, t: i32, after: bool): i32 {
    const ts = unchecked(this.textStart[seg]);
    const rs = unchecked(this.rawStart[seg]);
    if (!unchecked(this.escaped[seg])) return rs + (t - ts) + (after ? 1 : 0);
    let r: i32;
    let x: i32;
    if (this.curSeg == seg && this.curText <= t) {
      r = this.curRaw;
      x = this.curText;
    } else {
      r = rs;
      x = ts;
    }
    const end = unchecked(this.rawEnd[seg]);
    const base = this.rawBase;
    while (r < end) {
      let rawLen = 1;
      let textLen = 1;
      if (load<u8>(base + <usize>r) == 0x5c) {
        const info = escapeInfo(base, r, end);
        rawLen = <i32>(info >> 8);
        textLen = <i32>(info & 0xff);
      }
      if (x + textLen > t) {
        this.curSeg = seg;
        this.curRaw = r;
        this.curText = x;
        return after ? r + rawLen : r;
      }
      r += rawLen;
      x += textLen;
    }
    return end;
  }
}

/**
 * Length in raw bytes (high bits) and in decoded UTF-8 bytes (low 8 bits) of the escape sequence
 * at `r` (which holds a backslash). Mirrors the decoding done by the JSON reader.
 */
export function escapeInfo(base: usize, r: i32, end: i32): i32 {
  if (r + 1 >= end) return (1 << 8) | 0;
  const e = <i32>load<u8>(base + <usize>(r + 1));
  if (e != 0x75) return (2 << 8) | 1;
  if (r + 6 > end) return ((end - r) << 8) | 0;
  const cp = hex4At(base, r + 2);
  if (cp < 0) return (2 << 8) | 1;
  if (cp < 0x80) return (6 << 8) | 1;
  if (cp < 0x800) return (6 << 8) | 2;
  if (cp >= 0xd800 && cp <= 0xdbff && r + 12 <= end &&
      load<u8>(base + <usize>(r + 6)) == 0x5c && load<u8>(base + <usize>(r + 7)) == 0x75) {
    const lo = hex4At(base, r + 8);
    if (lo >= 0xdc00 && lo <= 0xdfff) return (12 << 8) | 4;
  }
  return (6 << 8) | 3;
}

export function hex4At(base: usize, at: i32): i32 {
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const h = hexValue(<i32>load<u8>(base + <usize>(at + i)));
    if (h < 0) return -1;
    v = (v << 4) | h;
  }
  return v;
}
