/**
 * Inspects a `text/event-stream` response as it flows, without buffering the whole stream.
 *
 * Per chunk: append it to the bytes not yet forwarded, parse the events that are complete, add
 * their text (deltas joined) to the carried text, scan, and forward everything except the minimal
 * tail: the text the detectors say could still be the start of a match (holdBack), any finding
 * that could still grow, and an incomplete event. Redactions are applied in the forwarded bytes,
 * inside the JSON of the events the value came from (a value split across events is rewritten in
 * each of them). Held bytes go out with the next chunk, or at end of stream.
 *
 * Each stream channel (`choices[].index`, Anthropic content block `index`) has its own text, so
 * deltas of different choices never join, and values interleaved across channels are each seen
 * whole. The forwarding point is the earliest point any channel still holds; redactions decided
 * for bytes beyond it wait (as raw-offset edits) until those bytes go out.
 *
 * A block (enforce mode) cuts the stream before the event where the blocked value starts, then
 * ends it cleanly with an error event in the OpenAI error shape and `data: [DONE]`; later chunks
 * are dropped. Response headers are already out at that point, so the status stays as sent.
 *
 * Ownership: one per HTTP context; buffers are reused across chunks.
 */
import { Action, Direction, Mode, Shape } from "../config/enums";
import { PluginConfig } from "../config/plugin-config";
import { ByteBuffer } from "../inspect/byte-buffer";
import { SseReader } from "../inspect/sse-reader";
import { TextMap } from "../inspect/text-map";
import { blockBody, blockMessage } from "./audit";
import { Edits } from "./edits";
import { Findings } from "./findings";
import { EffectivePolicy } from "./principal-policy";
import { Redactor } from "./redaction";
import { ContentScanner } from "./scan";
import { Verdict } from "./verdict";
import { LOOKBEHIND_BYTES } from "../detect";

export const STREAM_CONTINUE: i32 = 0;
/** The stream was cut by a block; later chunks must be dropped. */
export const STREAM_BLOCKED: i32 = 1;

export const STREAM_CHANNELS: i32 = 8;

export class StreamInspector {
  readonly pending: ByteBuffer = new ByteBuffer(4096);
  /** One text per channel; the last one is shared by channels past it. */
  readonly maps: Array<TextMap> = [];
  readonly sse: SseReader = new SseReader();
  /** Findings of the current push, per channel. */
  private found: Array<Findings> = [];
  /** Per channel: text offset from which the text is held, and how many findings are final. */
  private keepFrom: StaticArray<i32> = new StaticArray<i32>(STREAM_CHANNELS);
  private reported: StaticArray<i32> = new StaticArray<i32>(STREAM_CHANNELS);
  /** Redactions decided but not forwarded yet (raw offsets into `pending`). */
  readonly edits: Edits = new Edits();
  /** Bytes to forward for the current chunk (valid after push). */
  readonly out: ByteBuffer = new ByteBuffer(4096);
  /** Everything found in the stream so far. */
  readonly verdict: Verdict = new Verdict();
  private batch: Verdict = new Verdict();
  /** Offset in `pending` up to which complete events were parsed. */
  private parsed: i32 = 0;
  blocked: bool = false;
  /** The bytes forwarded so far end inside an event (a held tail cut it). */
  private partialEvent: bool = false;
  /** Total raw bytes received. */
  received: i32 = 0;
  /** The hold-back limit was hit and held text was released and scanned as it stood. */
  holdOverflows: i32 = 0;

  constructor(
    public cfg: PluginConfig, public policy: EffectivePolicy, public scanner: ContentScanner,
    public redactor: Redactor, public shape: Shape,
  ) {
    this.verdict.reset(cfg.detectorCount);
    this.verdict.mode = policy.mode;
    this.sse.maxChannels = STREAM_CHANNELS;
    this.maps.push(new TextMap());
  }

  /**
   * Feeds one chunk ([ptr, ptr+len)); afterwards `out` holds the bytes to forward in its place.
   * Returns STREAM_BLOCKED once the stream was cut.
   */
  push(ptr: usize, len: i32, end: bool): i32 {
    this.out.reset();
    if (this.blocked) return STREAM_BLOCKED;
    const cfg = this.cfg;
    const policy = this.policy;
    this.received += len;
    this.pending.pushBytes(ptr, len);
    const maps = this.maps;
    const rawBase = this.pending.ptr;
    for (let c = 0; c < maps.length; c++) unchecked(maps[c]).rawBase = rawBase;
    const lenient = cfg.failureMode == 0; // open: malformed event data is read as text
    this.parsed = this.sse.parse(this.pending, this.parsed, maps, this.shape, lenient, end);
    const channels = maps.length;
    while (this.found.length < channels) this.found.push(new Findings());
    // Bound what one stream may hold (a never-ending PEM block, say): beyond max_body_bytes the
    // held text is released and scanned as it stands.
    const overflow = !end && this.pending.length > cfg.maxBodyBytes;
    if (overflow) this.holdOverflows++;

    // Scan each channel; decide what is final and what stays held.
    const batch = this.batch;
    batch.reset(cfg.detectorCount);
    let emitEnd = this.parsed;
    for (let c = 0; c < channels; c++) {
      const map = unchecked(maps[c]);
      const findings = unchecked(this.found[c]);
      findings.reset();
      const textLen = map.textLength;
      const ctxLen = map.contextLength;
      if (textLen <= ctxLen) {
        unchecked(this.keepFrom[c] = textLen);
        unchecked(this.reported[c] = 0);
        continue;
      }
      const textPtr = map.textPtr;
      // Text before ctxLen was reported already; it is kept as look-behind context only.
      this.scanner.scan(textPtr, textLen, policy, Direction.Response, findings, ctxLen);
      let keepFrom = textLen;
      if (!end && !overflow) {
        keepFrom = this.scanner.holdBackPoint(textPtr, textLen, policy, Direction.Response);
        if (keepFrom < ctxLen) keepFrom = ctxLen;
        for (let i = 0; i < findings.count; i++) {
          if (unchecked(findings.end[i]) > keepFrom) {
            const st = unchecked(findings.start[i]);
            if (st < keepFrom) keepFrom = st;
          }
        }
      }
      let reported = 0;
      while (reported < findings.count && unchecked(findings.end[reported]) <= keepFrom) reported++;
      unchecked(this.keepFrom[c] = keepFrom);
      unchecked(this.reported[c] = reported);
      batch.add(findings, 0, reported, cfg, policy, Direction.Response);
      const at = map.rawStartOf(keepFrom, this.parsed);
      if (at < emitEnd) emitEnd = at;
    }
    if (end) emitEnd = this.pending.length;
    batch.mode = policy.mode;
    this.verdict.merge(batch);

    // failure_mode closed: an event that could not be read ends the stream like a block.
    const malformedAt = this.sse.firstMalformedAt;
    if (malformedAt >= 0) {
      if (policy.mode == Mode.Enforce) {
        // The stream ends here: everything before the bad event is final, held findings included;
        // blocked values there are redacted (the stream is being cut anyway).
        for (let c = 0; c < channels; c++) {
          const map = unchecked(maps[c]);
          const findings = unchecked(this.found[c]);
          const reported = unchecked(this.reported[c]);
          let upTo = 0;
          while (upTo < findings.count && map.rawStartOf(unchecked(findings.start[upTo]), this.parsed) < malformedAt) upTo++;
          if (upTo > reported) {
            batch.reset(cfg.detectorCount);
            batch.add(findings, reported, upTo, cfg, policy, Direction.Response);
            this.verdict.merge(batch);
          }
          this.edits.addRedactions(map, findings, 0, upTo, cfg, policy, Direction.Response, this.redactor, true, true);
        }
        this.edits.sortByStart();
      }
      this.edits.apply(this.pending.ptr, 0, malformedAt, this.out);
      this.out.pushString("data: ");
      this.out.pushString(blockBody("malformed_json", "response",
        "A streamed event is not valid JSON; meshward failure_mode is closed."));
      this.out.pushString("\n\ndata: [DONE]\n\n");
      this.finishBlocked();
      return STREAM_BLOCKED;
    }

    if (policy.mode == Mode.Enforce && batch.blockDetector >= 0) {
      // Cut before the earliest event where a blocked value starts.
      let cut = i32.MAX_VALUE;
      for (let c = 0; c < channels; c++) {
        const map = unchecked(maps[c]);
        const findings = unchecked(this.found[c]);
        const reported = unchecked(this.reported[c]);
        for (let i = 0; i < reported; i++) {
          const d = unchecked(findings.detector[i]);
          if (policy.actionFor(cfg, d, Direction.Response) != Action.Block) continue;
          const seg = map.segmentAt(unchecked(findings.start[i]));
          const g = seg >= 0 ? unchecked(map.group[seg]) : 0;
          if (g < cut) cut = g;
          break;
        }
      }
      if (cut == i32.MAX_VALUE) cut = 0;
      const partial = cut == 0 && this.partialEvent;
      for (let c = 0; c < channels; c++) {
        const findings = unchecked(this.found[c]);
        // When the value's event was partly forwarded already, finish that event (and the
        // complete ones after it) with the blocked values redacted, so the stream stays valid.
        this.edits.addRedactions(unchecked(maps[c]), findings, 0, unchecked(this.reported[c]), cfg, policy,
          Direction.Response, this.redactor, true, partial);
      }
      this.edits.sortByStart();
      this.edits.apply(this.pending.ptr, 0, partial ? this.parsed : cut, this.out);
      const id = cfg.idOf(batch.blockDetector);
      this.out.pushString("data: ");
      this.out.pushString(blockBody(id, "response", blockMessage(id, "response")));
      this.out.pushString("\n\ndata: [DONE]\n\n");
      this.finishBlocked();
      return STREAM_BLOCKED;
    }

    if (policy.mode == Mode.Enforce) {
      for (let c = 0; c < channels; c++) {
        const reported = unchecked(this.reported[c]);
        if (reported == 0) continue;
        this.edits.addRedactions(unchecked(maps[c]), unchecked(this.found[c]), 0, reported, cfg, policy,
          Direction.Response, this.redactor, true);
      }
      this.edits.sortByStart();
    }
    this.edits.apply(this.pending.ptr, 0, emitEnd, this.out);
    if (end) {
      this.pending.reset();
      for (let c = 0; c < channels; c++) unchecked(maps[c]).reset(this.pending.ptr);
      this.edits.reset();
      this.parsed = 0;
      return STREAM_CONTINUE;
    }
    // Keep the tail: edits not forwarded yet move with it.
    if (emitEnd > 0) this.partialEvent = emitEnd < this.parsed;
    this.edits.shift(emitEnd);
    if (this.edits.count == 0) this.edits.reset();
    for (let c = 0; c < channels; c++) {
      unchecked(maps[c]).rebase(unchecked(this.keepFrom[c]), emitEnd, LOOKBEHIND_BYTES);
    }
    this.pending.consume(emitEnd);
    this.parsed -= emitEnd;
    for (let c = 0; c < channels; c++) unchecked(maps[c]).rawBase = this.pending.ptr;
    return STREAM_CONTINUE;
  }

  private finishBlocked(): void {
    this.blocked = true;
    this.pending.reset();
    for (let c = 0; c < this.maps.length; c++) unchecked(this.maps[c]).reset(this.pending.ptr);
    this.edits.reset();
    this.parsed = 0;
  }

  /** Bytes currently held back (not yet forwarded). */
  get held(): i32 {
    return this.pending.length;
  }
}
