/**
 * Inspects one whole message body (a buffered request, or a non-streamed response): read the
 * shape's text (JSON strings decoded, or the plain text as is), scan, decide, and build the
 * redacted body when the verdict says so.
 *
 * Malformed JSON never traps: with failure_mode open the raw body is scanned as text (and the
 * error recorded); with failure_mode closed the caller rejects the message.
 *
 * Ownership: one per root context (HTTP callbacks of one VM never run concurrently), so the text
 * and output buffers are reused across requests and a warm VM does not grow.
 */
import { Action, Direction, FailureMode, Mode, Shape } from "../config/enums";
import { PluginConfig } from "../config/plugin-config";
import { ByteBuffer } from "../inspect/byte-buffer";
import { JsonReader } from "../inspect/json-reader";
import { TextMap } from "../inspect/text-map";
import { Edits } from "./edits";
import { Findings } from "./findings";
import { EffectivePolicy } from "./principal-policy";
import { Redactor } from "./redaction";
import { ContentScanner } from "./scan";
import { Verdict } from "./verdict";

export const BODY_OK: i32 = 0;
/** JSON was malformed and failure_mode is closed: reject the message. */
export const BODY_MALFORMED_REJECT: i32 = 1;

export class BodyInspector {
  readonly map: TextMap = new TextMap();
  readonly reader: JsonReader = new JsonReader();
  readonly findings: Findings = new Findings();
  readonly edits: Edits = new Edits();
  /** The rewritten body, after buildOut(). */
  readonly out: ByteBuffer = new ByteBuffer(1024);
  /** The body must be rewritten with `edits` (see buildOut / the context's piecewise write). */
  rewritten: bool = false;
  /** The JSON could not be read (it was scanned as text, or rejected). */
  malformed: bool = false;
  malformedReason: string = "";
  /** Raw range of the top-level `model` string, when present. */
  modelStart: i32 = -1;
  modelEnd: i32 = -1;

  /**
   * Inspects raw bytes [ptr, ptr+len) of `shape` in `direction`, folding findings into `verdict`
   * (which the caller reset). Returns BODY_OK or BODY_MALFORMED_REJECT.
   */
  inspect(
    ptr: usize, len: i32, shape: Shape, direction: i32, cfg: PluginConfig, policy: EffectivePolicy,
    scanner: ContentScanner, redactor: Redactor, verdict: Verdict,
  ): i32 {
    this.rewritten = false;
    this.malformed = false;
    this.malformedReason = "";
    this.modelStart = -1;
    this.modelEnd = -1;
    const map = this.map;
    const jsonText = shape != Shape.Text;
    if (!jsonText) {
      map.setIdentity(ptr, len);
    } else {
      map.reset(ptr);
      // The decoded text is never longer than the raw body: allocate it once, exactly.
      if (map.text.data.length < len) map.text.ensure(len);
      const r = this.reader.read(map, 0, len, shape);
      if (!r.ok) {
        this.malformed = true;
        this.malformedReason = r.error + " at byte " + r.errorOffset.toString();
        if (cfg.failureMode == FailureMode.Closed) return BODY_MALFORMED_REJECT;
        map.setIdentity(ptr, len);
      } else {
        this.modelStart = this.reader.fields.modelStart;
        this.modelEnd = this.reader.fields.modelEnd;
      }
    }
    const findings = this.findings;
    findings.reset();
    scanner.scan(map.textPtr, map.textLength, policy, direction, findings);
    verdict.add(findings, 0, findings.count, cfg, policy, direction);
    if (policy.mode != Mode.Enforce || verdict.outcome != Action.Redact) return BODY_OK;
    this.edits.reset();
    this.edits.addRedactions(map, findings, 0, findings.count, cfg, policy, direction, redactor,
      jsonText && !this.malformed);
    if (this.edits.count == 0) return BODY_OK;
    this.rewritten = true;
    return BODY_OK;
  }

  /**
   * Builds the whole rewritten body in `out` (for hosts writes that need one buffer). The caller
   * may instead stream the pieces (raw runs and tokens) from `edits` without this copy.
   */
  buildOut(ptr: usize, len: i32): void {
    this.out.reset();
    this.out.ensure(len + this.edits.tokens.length);
    this.edits.apply(ptr, 0, len, this.out);
  }

  /** Releases buffers that grew past `limit` bytes (bounds a VM's memory after a huge body). */
  trim(limit: i32): void {
    this.map.text.shrinkTo(limit);
    this.out.shrinkTo(limit);
  }
}
