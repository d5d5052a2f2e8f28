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
import { Action, FailureMode, Mode, Shape } from "../config/enums";
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

/**
 * Strings at least this long without escapes are scanned where they lie in the body instead of
 * being copied into the text, so a large prompt costs no second copy in linear memory.
 */
export const DIRECT_SCAN_MIN_BYTES: i32 = 4096;

/** Bodies from this size on trigger a full collection before they are read (see prepare). */
export const LARGE_BODY_BYTES: i32 = 256 * 1024;

export const BODY_OK: i32 = 0;
/** JSON was malformed and failure_mode is closed: reject the message. */
export const BODY_MALFORMED_REJECT: i32 = 1;

export class BodyInspector {
  readonly map: TextMap = new TextMap();
  readonly reader: JsonReader = new JsonReader();
  readonly findings: Findings = new Findings();
  /** Findings in long strings scanned in place, offsets relative to their string. */
  private directFindings: Findings = new Findings();
  private regionOf: Array<i32> = [];
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
      this.reader.directMin = DIRECT_SCAN_MIN_BYTES;
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
    // Long unescaped strings were left in place by the reader: scan each where it lies.
    const direct = this.reader.direct;
    const directFindings = this.directFindings;
    directFindings.reset();
    const regionOf = this.regionOf;
    regionOf.length = 0;
    if (jsonText && !this.malformed) {
      for (let i = 0; i < direct.length; i += 2) {
        const rs = unchecked(direct[i]);
        const before = directFindings.count;
        scanner.scan(ptr + <usize>rs, unchecked(direct[i + 1]) - rs, policy, direction, directFindings);
        for (let k = before; k < directFindings.count; k++) regionOf.push(rs);
      }
      verdict.add(directFindings, 0, directFindings.count, cfg, policy, direction);
    }
    if (policy.mode != Mode.Enforce || verdict.outcome != Action.Redact) return BODY_OK;
    const edits = this.edits;
    edits.reset();
    edits.addRedactions(map, findings, 0, findings.count, cfg, policy, direction, redactor,
      jsonText && !this.malformed);
    for (let k = 0; k < directFindings.count; k++) {
      edits.addRawRedactions(ptr, unchecked(regionOf[k]), directFindings, k, k + 1, cfg, policy, direction, redactor, true);
    }
    edits.sortByStart();
    if (edits.count == 0) return BODY_OK;
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

  /**
   * Gets ready for a body of `len` bytes before the body itself is read: the decoded text is never
   * longer than the raw body, so its buffer is sized once, exactly (no doubling copies). For large
   * bodies a full collection first returns the previous large bodies' memory to the allocator
   * (which grows linear memory by doubling it) before new large blocks are needed.
   */
  prepare(len: i32): void {
    if (len >= LARGE_BODY_BYTES) __collect();
    if (this.map.text.data.length < len) this.map.text.ensure(len - this.map.text.length);
  }
}
