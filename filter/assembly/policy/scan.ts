/**
 * The filter's view of the detectors (detect/Scanner): scan a text for what a caller's policy
 * enables in one direction, and say where a stream's text must be held back.
 *
 * Built once per configuration (root context, configure time). A detect Scanner narrows its
 * detectors per call (the `mask` of Scanner.scan / holdBack), with results identical to a
 * scanner built for exactly that mask as long as both hold the same keyword terms. The terms a
 * scanner holds depend only on whether prompt_injection (its phrase anchors) and
 * aws_access_key (its secret-key context words) are on, besides the custom keywords every
 * scanner holds. So the distinct enabled sets of the global policy and each principal rule,
 * per direction, are grouped by those two bits, and one scanner per group (at most
 * {@link MAX_SCANNERS}) is built with the union of the group's sets; each call passes its own
 * set as the mask. Custom keyword lists are compiled into each scanner once, whatever
 * principal rules disable (those findings are filtered out). Findings come back in the
 * config's numbering (built-ins 0..14, custom detectors DETECTOR_COUNT + position).
 */
import { Action } from "../config/enums";
import { CONTENT_DETECTOR_COUNT, DETECTOR_COUNT } from "../config/detector-ids";
import { PluginConfig } from "../config/plugin-config";
import {
  DETECTOR_AWS_ACCESS_KEY, DETECTOR_CUSTOM, DETECTOR_PROMPT_INJECTION, FindingList, KW_CASE_INSENSITIVE, KW_WORD_BOUNDARY,
  ScanOptions, Scanner, caseHeadVariantCount, customTermLimit,
} from "../detect";
import { Findings } from "./findings";
import { EffectivePolicy, buildPolicy } from "./principal-policy";

/** At most one scanner per keyword-term set (prompt_injection on/off x aws_access_key on/off). */
export const MAX_SCANNERS: i32 = 4;

/** The enabled-set bits that change a scanner's keyword terms. */
const TERM_BITS: u32 = (1 << DETECTOR_PROMPT_INJECTION) | (1 << DETECTOR_AWS_ACCESS_KEY);
/** Mask bit that keeps the custom keywords on in Scanner.scan / holdBack. */
const CUSTOM_BIT: u32 = 1 << DETECTOR_CUSTOM;

export class ContentScanner {
  /** Per scanner: its group key (mask & TERM_BITS). */
  private groups: Array<u32> = [];
  private scanners: Array<Scanner> = [];
  private hits: FindingList = new FindingList(64);
  private anyCustom: bool = false;
  /** Non-empty when a keyword was refused: "<JSON path>: <reason>". */
  error: string = "";

  constructor(public cfg: PluginConfig) {
    const termsOk = this.checkKeywordTerms();
    // Collect the distinct masks the config can produce.
    const wanted: Array<u32> = [];
    this.addMasks(policyForRule(cfg, -1), wanted);
    for (let r = 0; r < cfg.principals.length; r++) {
      const p = policyForRule(cfg, r);
      this.addMasks(p, wanted);
    }
    for (let i = 0; i < cfg.custom.length && !this.anyCustom; i++) this.anyCustom = true;
    // One scanner per keyword-term group, enabled for the union of the group's masks.
    const unions: Array<u32> = [];
    for (let i = 0; i < wanted.length; i++) {
      const m = wanted[i];
      const g = this.groups.indexOf(m & TERM_BITS);
      if (g < 0) {
        this.groups.push(m & TERM_BITS);
        unions.push(m);
      } else unions[g] |= m;
    }
    for (let g = 0; termsOk && g < unions.length; g++) {
      const sc = this.build(unions[g]);
      if (sc == null) {
        this.groups.length = this.scanners.length;
        break;
      }
      this.scanners.push(sc);
    }
    if (!termsOk) this.groups.length = 0;
  }

  /**
   * Case-insensitive keywords become one matcher term per case variant of the non-ASCII letters
   * in their first 4 bytes (at most 9; detect/unicode-case.ts, Scanner.addKeyword; later letters
   * are folded at match time and cost no terms). Refuses (sets `error`, returns false) a keyword
   * set whose terms exceed the matcher's budget.
   */
  private checkKeywordTerms(): bool {
    const cfg = this.cfg;
    let total: i64 = 0;
    let expanded = false;
    for (let g = 0; g < cfg.custom.length; g++) {
      const cd = cfg.custom[g];
      for (let k = 0; k < cd.keywords.length; k++) {
        let n = 1;
        if (!cd.caseSensitive) {
          const b = String.UTF8.encode(cd.keywords[k], false);
          const p = changetype<usize>(b);
          n = caseHeadVariantCount(p, b.byteLength);
          if (n > 1) expanded = true;
        }
        total += n;
      }
    }
    const limit = customTermLimit();
    if (total > <i64>limit) {
      this.error = "$.custom_detectors: the keywords need " + total.toString() + " matcher terms" +
        (expanded ? " (a case-insensitive keyword counts once per case variant of the non-ASCII letters in its first 4 bytes, at most 9)" : "") +
        ", at most " + limit.toString() + " are available — use fewer keywords" +
        (expanded ? " or set case_sensitive: true on lists with non-ASCII letters" : "");
      return false;
    }
    return true;
  }

  private addMasks(p: EffectivePolicy, wanted: Array<u32>): void {
    for (let d = 1; d <= 2; d++) {
      const m = maskFor(this.cfg, p, d);
      if (!wanted.includes(m)) wanted.push(m);
    }
  }

  private build(mask: u32): Scanner | null {
    const opts = new ScanOptions();
    opts.enabled = mask;
    const sc = new Scanner(opts);
    const cfg = this.cfg;
    for (let g = 0; g < cfg.custom.length; g++) {
      const cd = cfg.custom[g];
      let flags = 0;
      if (!cd.caseSensitive) flags |= KW_CASE_INSENSITIVE;
      if (cd.wholeWord) flags |= KW_WORD_BOUNDARY;
      for (let k = 0; k < cd.keywords.length; k++) {
        const r = sc.addKeywordString(cd.keywords[k], g, flags);
        if (r < 0) {
          this.error = "$.custom_detectors[" + g.toString() + "].keywords[" + k.toString() + "]: " + keywordError(r);
          return null;
        }
      }
    }
    sc.build();
    return sc;
  }

  private scannerFor(mask: u32): Scanner | null {
    const key = mask & TERM_BITS;
    for (let i = 0; i < this.scanners.length; i++) {
      if (unchecked(this.groups[i]) == key) return unchecked(this.scanners[i]);
    }
    return null;
  }

  /**
   * Appends to `out` the findings in text [ptr, ptr+len) that `policy` enables for `direction`,
   * sorted by start and non-overlapping. Findings before `reportFrom` are look-behind context
   * (already reported) and are dropped; ones crossing it are clipped.
   */
  scan(ptr: usize, len: i32, policy: EffectivePolicy, direction: i32, out: Findings, reportFrom: i32 = 0): void {
    const cfg = this.cfg;
    const mask = maskFor(cfg, policy, direction);
    const customOn = this.anyCustom && customEnabled(cfg, policy, direction);
    if (mask == 0 && !customOn) return;
    const sc = this.scannerFor(mask);
    if (sc == null) return;
    const hits = this.hits;
    sc.scan(ptr, len, hits, reportFrom, mask | CUSTOM_BIT);
    for (let i = 0; i < hits.count; i++) {
      let d = hits.detector(i);
      if (d == DETECTOR_CUSTOM) d = DETECTOR_COUNT + hits.aux(i);
      else if (d >= CONTENT_DETECTOR_COUNT) continue;
      if (policy.actionFor(cfg, d, direction) == Action.Off) continue;
      out.add(d, hits.start(i), hits.end(i));
    }
  }

  /**
   * Offset in [ptr, ptr+len) from which a still-incomplete match could start (len when nothing
   * is open): bytes from there on must be held back in a stream.
   */
  holdBackPoint(ptr: usize, len: i32, policy: EffectivePolicy, direction: i32): i32 {
    const mask = maskFor(this.cfg, policy, direction);
    const customOn = this.anyCustom && customEnabled(this.cfg, policy, direction);
    if (mask == 0 && !customOn) return len;
    const sc = this.scannerFor(mask);
    if (sc == null) return len;
    return sc.holdBack(ptr, len, mask | CUSTOM_BIT);
  }
}

/** Bit i set when built-in content detector i is not off for `direction` under `policy`. */
function maskFor(cfg: PluginConfig, p: EffectivePolicy, direction: i32): u32 {
  let m: u32 = 0;
  for (let i = 0; i < CONTENT_DETECTOR_COUNT; i++) {
    if (p.actionFor(cfg, i, direction) != Action.Off) m |= (<u32>1) << i;
  }
  return m;
}

function customEnabled(cfg: PluginConfig, p: EffectivePolicy, direction: i32): bool {
  for (let i = DETECTOR_COUNT; i < cfg.detectorCount; i++) {
    if (p.actionFor(cfg, i, direction) != Action.Off) return true;
  }
  return false;
}

/** The policy a principal rule produces (as if a caller matched rule `r`; -1 = no rule). */
function policyForRule(cfg: PluginConfig, r: i32): EffectivePolicy {
  return buildPolicy(cfg, r);
}

function keywordError(code: i32): string {
  if (code == -1) return "too short (at least 2 bytes)";
  if (code == -2) return "too long (at most 256 bytes)";
  if (code == -4) return "too many keywords in total";
  if (code == -5) return "must not start or end with whitespace, nor contain a NUL byte";
  return "refused by the keyword matcher (code " + code.toString() + ")";
}
