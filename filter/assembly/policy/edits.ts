/**
 * Raw-byte edits that redact findings, computed from a {@link TextMap} so they land inside the JSON
 * strings (or SSE events, or plain text) the text came from, and applied in one copy.
 *
 * A finding whose text spans several segments (a value split across streamed deltas) becomes one
 * edit per segment: the first carries the token, the others become empty strings; every edit stays
 * inside its own JSON string, so the document stays valid JSON. Tokens are JSON-escaped when the
 * raw bytes are JSON.
 */
import { Action } from "../config/enums";
import { PluginConfig } from "../config/plugin-config";
import { ByteBuffer } from "../inspect/byte-buffer";
import { TextMap } from "../inspect/text-map";
import { Findings } from "./findings";
import { EffectivePolicy } from "./principal-policy";
import { Redactor } from "./redaction";

export class Edits {
  start: Array<i32> = [];
  end: Array<i32> = [];
  tokStart: Array<i32> = [];
  tokEnd: Array<i32> = [];
  tokens: ByteBuffer = new ByteBuffer(256);
  private scratch: ByteBuffer = new ByteBuffer(64);

  get count(): i32 {
    return this.start.length;
  }

  reset(): void {
    this.start.length = 0;
    this.end.length = 0;
    this.tokStart.length = 0;
    this.tokEnd.length = 0;
    this.tokens.reset();
  }

  private push(s: i32, e: i32, ts: i32, te: i32): void {
    this.start.push(s);
    this.end.push(e);
    this.tokStart.push(ts);
    this.tokEnd.push(te);
  }

  /**
   * Adds edits for findings [from, to) whose action is `redact` (or `block` too, with `blockToo`:
   * a stream cut after part of the value's event was forwarded). Findings must be
   * sorted by start and not overlap (the scanner guarantees it); ones without a range are skipped.
   */
  addRedactions(
    map: TextMap, findings: Findings, from: i32, to: i32, cfg: PluginConfig, policy: EffectivePolicy,
    direction: i32, redactor: Redactor, json: bool, blockToo: bool = false,
  ): void {
    for (let i = from; i < to; i++) {
      const d = unchecked(findings.detector[i]);
      const a = policy.actionFor(cfg, d, direction);
      if (a != Action.Redact && !(blockToo && a == Action.Block)) continue;
      const s = unchecked(findings.start[i]);
      const e = unchecked(findings.end[i]);
      if (s < 0 || e <= s) continue;
      // Token from the decoded value.
      const sc = this.scratch;
      sc.reset();
      redactor.token(cfg.idOf(d), map.text.ptr + <usize>s, e - s, isNumeric(d), sc);
      let first = true;
      let seg = map.segmentAt(s);
      if (seg < 0) seg = 0;
      const nseg = map.segmentCount;
      while (seg < nseg) {
        const ts = unchecked(map.textStart[seg]);
        const te = unchecked(map.textEnd[seg]);
        if (ts >= e) break;
        if (te > s) {
          const ps = s > ts ? s : ts;
          const pe = e < te ? e : te;
          const rs = map.rawOf(seg, ps, false);
          const re = map.rawOf(seg, pe - 1, true);
          const tokS = this.tokens.length;
          if (first) {
            if (json) this.tokens.pushJsonEscapedBytes(sc.ptr, sc.length);
            else this.tokens.pushBytes(sc.ptr, sc.length);
            first = false;
          }
          this.push(rs, re, tokS, this.tokens.length);
        }
        seg++;
      }
    }
  }

  /**
   * Adds edits for findings [from, to) of a raw, unescaped region starting at raw offset `rawStart`
   * (finding offsets are relative to it); tokens are computed from the raw bytes at `rawBase`.
   * Call sortByStart() after mixing with addRedactions.
   */
  addRawRedactions(
    rawBase: usize, rawStart: i32, findings: Findings, from: i32, to: i32, cfg: PluginConfig,
    policy: EffectivePolicy, direction: i32, redactor: Redactor, json: bool,
  ): void {
    for (let i = from; i < to; i++) {
      const d = unchecked(findings.detector[i]);
      if (policy.actionFor(cfg, d, direction) != Action.Redact) continue;
      const s = unchecked(findings.start[i]);
      const e = unchecked(findings.end[i]);
      if (s < 0 || e <= s) continue;
      const sc = this.scratch;
      sc.reset();
      redactor.token(cfg.idOf(d), rawBase + <usize>(rawStart + s), e - s, isNumeric(d), sc);
      const tokS = this.tokens.length;
      if (json) this.tokens.pushJsonEscapedBytes(sc.ptr, sc.length);
      else this.tokens.pushBytes(sc.ptr, sc.length);
      this.push(rawStart + s, rawStart + e, tokS, this.tokens.length);
    }
  }

  /**
   * Orders edits by raw start and merges overlapping ones (two findings sharing the raw bytes of
   * one escape sequence): the earlier edit's token stays and its range grows. Call after adding.
   */
  sortByStart(): void {
    this.sortOnly();
    let w = 0;
    const n = this.start.length;
    for (let i = 0; i < n; i++) {
      const s = unchecked(this.start[i]);
      const e = unchecked(this.end[i]);
      if (w > 0 && s < unchecked(this.end[w - 1])) {
        if (e > unchecked(this.end[w - 1])) unchecked(this.end[w - 1] = e);
        continue;
      }
      unchecked(this.start[w] = s);
      unchecked(this.end[w] = e);
      unchecked(this.tokStart[w] = this.tokStart[i]);
      unchecked(this.tokEnd[w] = this.tokEnd[i]);
      w++;
    }
    this.start.length = w;
    this.end.length = w;
    this.tokStart.length = w;
    this.tokEnd.length = w;
  }

  private sortOnly(): void {
    const n = this.start.length;
    for (let i = 1; i < n; i++) {
      const s = unchecked(this.start[i]);
      const e = unchecked(this.end[i]);
      const ts = unchecked(this.tokStart[i]);
      const te = unchecked(this.tokEnd[i]);
      let j = i - 1;
      while (j >= 0 && unchecked(this.start[j]) > s) {
        unchecked(this.start[j + 1] = this.start[j]);
        unchecked(this.end[j + 1] = this.end[j]);
        unchecked(this.tokStart[j + 1] = this.tokStart[j]);
        unchecked(this.tokEnd[j + 1] = this.tokEnd[j]);
        j--;
      }
      unchecked(this.start[j + 1] = s);
      unchecked(this.end[j + 1] = e);
      unchecked(this.tokStart[j + 1] = ts);
      unchecked(this.tokEnd[j + 1] = te);
    }
  }

  /**
   * Writes raw bytes [from, to) with the edits that fall inside that range applied to `out`
   * (appended). Edits must lie entirely inside or outside the range.
   */
  apply(raw: usize, from: i32, to: i32, out: ByteBuffer): void {
    let cursor = from;
    for (let i = 0; i < this.start.length; i++) {
      const s = unchecked(this.start[i]);
      if (s < from || s >= to) continue;
      if (s > cursor) out.pushBytes(raw + <usize>cursor, s - cursor);
      const ts = unchecked(this.tokStart[i]);
      out.pushBytes(this.tokens.ptr + <usize>ts, unchecked(this.tokEnd[i]) - ts);
      cursor = unchecked(this.end[i]);
    }
    if (to > cursor) out.pushBytes(raw + <usize>cursor, to - cursor);
  }

  /**
   * Applies all edits to raw bytes [raw, raw+len) in place, left to right, when the output never
   * overtakes the input (each token fits in the bytes freed so far). Returns the new length, or -1
   * (and leaves the bytes untouched) when that is not possible.
   */
  compactInPlace(raw: usize, len: i32): i32 {
    // Check first: the write position must never pass the read position.
    let slack = 0;
    for (let i = 0; i < this.start.length; i++) {
      slack += (unchecked(this.end[i]) - unchecked(this.start[i])) - (unchecked(this.tokEnd[i]) - unchecked(this.tokStart[i]));
      if (slack < 0) return -1;
    }
    let w = 0;
    let cursor = 0;
    for (let i = 0; i < this.start.length; i++) {
      const s = unchecked(this.start[i]);
      const run = s - cursor;
      if (run > 0) memory.copy(raw + <usize>w, raw + <usize>cursor, <usize>run);
      w += run;
      const ts = unchecked(this.tokStart[i]);
      const tn = unchecked(this.tokEnd[i]) - ts;
      memory.copy(raw + <usize>w, this.tokens.ptr + <usize>ts, <usize>tn);
      w += tn;
      cursor = unchecked(this.end[i]);
    }
    const rest = len - cursor;
    if (rest > 0) memory.copy(raw + <usize>w, raw + <usize>cursor, <usize>rest);
    return w + rest;
  }

  /** Drops edits that start before `offset` and shifts the rest left by `offset`. */
  shift(offset: i32): void {
    let w = 0;
    for (let i = 0; i < this.start.length; i++) {
      const s = unchecked(this.start[i]);
      if (s < offset) continue;
      unchecked(this.start[w] = s - offset);
      unchecked(this.end[w] = this.end[i] - offset);
      unchecked(this.tokStart[w] = this.tokStart[i]);
      unchecked(this.tokEnd[w] = this.tokEnd[i]);
      w++;
    }
    this.start.length = w;
    this.end.length = w;
    this.tokStart.length = w;
    this.tokEnd.length = w;
  }
}

/** Detectors whose values are numbers with separators (hash normalisation keeps alphanumerics). */
function isNumeric(d: i32): bool {
  return d == 1 || d == 2 || d == 3 || d == 4; // phone, credit_card, us_ssn, iban
}
