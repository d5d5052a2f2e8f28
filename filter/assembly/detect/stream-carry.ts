import { FindingList } from "./finding-list";
import { Scanner } from "./scanner";
import { LOOKBEHIND_BYTES, MAX_HOLD_BACK } from "./hold-back";

/**
 * The carry loop for streamed text (SSE deltas, chunked bodies): feeds pieces to a Scanner so
 * that a value split across pieces is found exactly once, holding back only what could still
 * be the start of a match.
 *
 * Per `push` (not at end of stream): the held bytes plus the new piece are scanned; the
 * hold-back point h is computed (Scanner.holdBack, then moved back to the start of a finding
 * that crosses it, as long as the hold stays <= MAX_HOLD_BACK); findings ending at or before h
 * are final and appended to `out` with *stream* offsets (bytes since the first push); bytes
 * [h, end) are kept, together with up to LOOKBEHIND_BYTES before h as look-behind context
 * (never reported again). At end of stream everything is scanned and reported.
 *
 * The return value is the stream offset up to which the text is final: an integrator that
 * redacts may release bytes before it and must keep the rest until a later push. Offsets are
 * i32: a stream is limited to 2 GiB. One StreamCarry per stream (per HTTP context and
 * direction); it owns a growable copy of the held bytes.
 */
@final export class StreamCarry {
  private scanner: Scanner;
  private buf: StaticArray<u8> = new StaticArray<u8>(1024);
  private n: i32 = 0;
  private ctx: i32 = 0;
  private base: i32 = 0;
  private tmp: FindingList = new FindingList(16);
  /** Detector mask applied to every scan and hold-back of this stream (see Scanner.scan). */
  mask: u32;

  constructor(scanner: Scanner, mask: u32 = 0xffffffff) {
    this.scanner = scanner;
    this.mask = mask;
  }

  /** Stream offset of the first held byte that is not look-behind context (= the last returned final offset). */
  get finalOffset(): i32 {
    return this.base + this.ctx;
  }
  /** Number of bytes currently held (excluding look-behind context). */
  get heldBytes(): i32 {
    return this.n - this.ctx;
  }

  /** Forgets all state (a new stream). */
  reset(): void {
    this.n = 0;
    this.ctx = 0;
    this.base = 0;
  }

  /**
   * Appends `len` bytes at `ptr`; appends the findings that became final to `out` (which is
   * not reset) with stream offsets; returns the stream offset up to which text is final.
   */
  push(ptr: usize, len: i32, endOfStream: bool, out: FindingList): i32 {
    this.append(ptr, len);
    const b = changetype<usize>(this.buf);
    const n = this.n;
    const rf = this.ctx;
    const tmp = this.tmp;
    if (endOfStream) {
      this.scanner.scan(b, n, tmp, rf, this.mask);
      for (let i = 0; i < tmp.count; i++) out.push(tmp.detector(i), tmp.start(i) + this.base, tmp.end(i) + this.base, tmp.aux(i));
      this.base += n;
      this.n = 0;
      this.ctx = 0;
      return this.base;
    }
    let h = max(this.scanner.holdBack(b, n, this.mask), rf);
    this.scanner.scan(b, n, tmp, rf, this.mask);
    for (let i = tmp.count - 1; i >= 0; i--) {
      const s = tmp.start(i);
      const e = tmp.end(i);
      if (e <= h) break;
      if (s < h && n - s <= MAX_HOLD_BACK) h = max(s, rf);
    }
    for (let i = 0; i < tmp.count; i++) {
      const s = tmp.start(i);
      if (s >= h) break;
      out.push(tmp.detector(i), s + this.base, min(tmp.end(i), h) + this.base, tmp.aux(i));
    }
    const k = max(0, h - LOOKBEHIND_BYTES);
    if (k > 0) {
      memory.copy(b, b + <usize>k, <usize>(n - k));
      this.n = n - k;
      this.base += k;
    }
    this.ctx = h - k;
    return this.base + this.ctx;
  }

  private append(ptr: usize, len: i32): void {
    if (len <= 0) return;
    const need = this.n + len;
    if (need > this.buf.length) {
      let cap = this.buf.length << 1;
      while (cap < need) cap <<= 1;
      const nb = new StaticArray<u8>(cap);
      memory.copy(changetype<usize>(nb), changetype<usize>(this.buf), <usize>this.n);
      this.buf = nb;
    }
    memory.copy(changetype<usize>(this.buf) + <usize>this.n, ptr, <usize>len);
    this.n = need;
  }
}
