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

export class StreamInspector {
  readonly pending: ByteBuffer = new ByteBuffer(4096);
  readonly map: TextMap = new TextMap();
  readonly sse: SseReader = new SseReader();
  readonly findings: Findings = new Findings();
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
  /** The hold-back limit was hit and held text was released unscanned for a complete match. */
  holdOverflows: i32 = 0;

  constructor(
    public cfg: PluginConfig, public policy: EffectivePolicy, public scanner: ContentScanner,
    public redactor: Redactor, public shape: Shape,
  ) {
    this.verdict.reset(cfg.detectorCount);
    this.verdict.mode = policy.mode;
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
    const map = this.map;
    map.rawBase = this.pending.ptr;
    const lenient = cfg.failureMode == 0; // open: malformed event data is read as text
    this.parsed = this.sse.parse(this.pending, this.parsed, map, this.shape, lenient, end);

    const findings = this.findings;
    findings.reset();
    const textPtr = map.textPtr;
    const textLen = map.textLength;
    // Text before ctxLen was reported already; it is kept as look-behind context only.
    const ctxLen = map.contextLength;
    this.scanner.scan(textPtr, textLen, policy, Direction.Response, findings, ctxLen);

    // What must stay held: the tail that could start a match, and any finding that could grow.
    let keepFrom = textLen;
    if (!end) {
      keepFrom = this.scanner.holdBackPoint(textPtr, textLen, policy, Direction.Response);
      if (keepFrom < ctxLen) keepFrom = ctxLen;
      // Bound what one stream may hold (a never-ending PEM block, say): beyond max_body_bytes the
      // held text is released and scanned as it stands.
      if (this.pending.length > cfg.maxBodyBytes) {
        keepFrom = textLen;
        this.holdOverflows++;
      }
      for (let i = 0; i < findings.count; i++) {
        if (unchecked(findings.end[i]) > keepFrom) {
          const s = unchecked(findings.start[i]);
          if (s < keepFrom) keepFrom = s;
        }
      }
    }
    let reported = 0;
    while (reported < findings.count && unchecked(findings.end[reported]) <= keepFrom) reported++;

    const batch = this.batch;
    batch.reset(cfg.detectorCount);
    batch.add(findings, 0, reported, cfg, policy, Direction.Response);
    batch.mode = policy.mode;
    this.verdict.merge(batch);

    let emitEnd = map.rawStartOf(keepFrom, this.parsed);
    if (emitEnd > this.parsed) emitEnd = this.parsed;
    if (end) emitEnd = this.pending.length;

    // failure_mode closed: an event that could not be read ends the stream like a block.
    const malformedAt = this.sse.firstMalformedAt;
    if (malformedAt >= 0) {
      this.edits.reset();
      if (policy.mode == Mode.Enforce) {
        // The stream ends here: everything before the bad event is final, held findings included.
        let upTo = 0;
        while (upTo < findings.count && map.rawStartOf(unchecked(findings.start[upTo]), this.parsed) < malformedAt) upTo++;
        if (upTo > reported) {
          batch.reset(cfg.detectorCount);
          batch.add(findings, reported, upTo, cfg, policy, Direction.Response);
          this.verdict.merge(batch);
        }
        // Blocked values before the bad event are redacted (the stream is being cut anyway).
        this.edits.addRedactions(map, findings, 0, upTo, cfg, policy, Direction.Response, this.redactor, true, true);
      }
      this.edits.apply(this.pending.ptr, 0, malformedAt, this.out);
      this.out.pushString("data: ");
      this.out.pushString(blockBody("malformed_json", "response",
        "A streamed event is not valid JSON; meshward failure_mode is closed."));
      this.out.pushString("\n\ndata: [DONE]\n\n");
      this.blocked = true;
      this.pending.reset();
      this.map.reset(this.pending.ptr);
      this.parsed = 0;
      return STREAM_BLOCKED;
    }

    if (policy.mode == Mode.Enforce && batch.blockDetector >= 0) {
      // Cut before the event where the first blocked value starts.
      let cut = 0;
      for (let i = 0; i < reported; i++) {
        const d = unchecked(findings.detector[i]);
        if (policy.actionFor(cfg, d, Direction.Response) != Action.Block) continue;
        const seg = map.segmentAt(unchecked(findings.start[i]));
        cut = seg >= 0 ? unchecked(map.group[seg]) : 0;
        break;
      }
      this.edits.reset();
      if (cut == 0 && this.partialEvent) {
        // The value's event was partly forwarded already: finish that event (and the complete
        // ones after it) with the blocked values redacted, so the stream stays valid SSE/JSON.
        this.edits.addRedactions(map, findings, 0, reported, cfg, policy, Direction.Response, this.redactor, true, true);
        this.edits.apply(this.pending.ptr, 0, this.parsed, this.out);
      } else {
        this.edits.addRedactions(map, findings, 0, reported, cfg, policy, Direction.Response, this.redactor, true);
        this.edits.apply(this.pending.ptr, 0, cut, this.out);
      }
      const id = cfg.idOf(batch.blockDetector);
      this.out.pushString("data: ");
      this.out.pushString(blockBody(id, "response", blockMessage(id, "response")));
      this.out.pushString("\n\ndata: [DONE]\n\n");
      this.blocked = true;
      this.pending.reset();
      this.map.reset(this.pending.ptr);
      this.parsed = 0;
      return STREAM_BLOCKED;
    }

    this.edits.reset();
    if (policy.mode == Mode.Enforce) {
      this.edits.addRedactions(map, findings, 0, reported, cfg, policy, Direction.Response, this.redactor, true);
    }
    this.edits.apply(this.pending.ptr, 0, emitEnd, this.out);
    // Keep the tail.
    if (end) {
      this.pending.reset();
      map.reset(this.pending.ptr);
      this.parsed = 0;
    } else {
      if (emitEnd > 0) this.partialEvent = emitEnd < this.parsed;
      map.rebase(keepFrom, emitEnd, LOOKBEHIND_BYTES);
      this.pending.consume(emitEnd);
      this.parsed -= emitEnd;
      map.rawBase = this.pending.ptr;
    }
    return STREAM_CONTINUE;
  }

  /** Bytes currently held back (not yet forwarded). */
  get held(): i32 {
    return this.pending.length;
  }
}
