/**
 * Findings -> verdict for one inspected message (one request body, one response body, or the
 * whole of one response stream).
 *
 * Per finding the effective action is the caller's policy for that detector and direction. The
 * message's outcome is the most severe action in enforce mode; in monitor mode nothing is changed
 * and the outcome is `alert` whenever something was found with an action other than `off`, while
 * `would` keeps what enforce mode would have done (for metrics and the audit log).
 */
import { Action, Mode } from "../config/enums";
import { PluginConfig } from "../config/plugin-config";
import { Findings } from "./findings";
import { EffectivePolicy } from "./principal-policy";

export class Verdict {
  /** What happens to the message: Off = allow unchanged. */
  outcome: Action = Action.Off;
  /** What enforce mode would do (== outcome in enforce mode). */
  would: Action = Action.Off;
  /** The first detector (by position) whose action is block, or -1. */
  blockDetector: i32 = -1;
  /** Findings per detector index. */
  counts: StaticArray<i32> = new StaticArray<i32>(0);
  /** Effective action per detector index (valid where counts > 0). */
  actions: StaticArray<u8> = new StaticArray<u8>(0);
  /** Findings whose action is not off. */
  total: i32 = 0;
  mode: Mode = Mode.Enforce;

  reset(detectorCount: i32): void {
    if (this.counts.length != detectorCount) {
      this.counts = new StaticArray<i32>(detectorCount);
      this.actions = new StaticArray<u8>(detectorCount);
    } else {
      for (let i = 0; i < detectorCount; i++) {
        unchecked(this.counts[i] = 0);
        unchecked(this.actions[i] = 0);
      }
    }
    this.outcome = Action.Off;
    this.would = Action.Off;
    this.blockDetector = -1;
    this.total = 0;
  }

  /** Folds findings [from, to) into the verdict. */
  add(findings: Findings, from: i32, to: i32, cfg: PluginConfig, policy: EffectivePolicy, direction: i32): void {
    this.mode = policy.mode;
    for (let i = from; i < to; i++) {
      const d = unchecked(findings.detector[i]);
      const a = policy.actionFor(cfg, d, direction);
      if (a == Action.Off) continue;
      unchecked(this.counts[d] = this.counts[d] + 1);
      unchecked(this.actions[d] = <u8>a);
      this.total++;
      if (a > this.would) this.would = a;
      if (a == Action.Block && this.blockDetector < 0) this.blockDetector = d;
    }
    if (policy.mode == Mode.Enforce) this.outcome = this.would;
    else this.outcome = this.would != Action.Off ? Action.Alert : Action.Off;
  }

  /** Merges another verdict (e.g. a stream's batches) into this one. */
  merge(other: Verdict): void {
    for (let i = 0; i < this.counts.length && i < other.counts.length; i++) {
      const c = unchecked(other.counts[i]);
      if (c == 0) continue;
      unchecked(this.counts[i] = this.counts[i] + c);
      unchecked(this.actions[i] = other.actions[i]);
    }
    this.total += other.total;
    if (other.would > this.would) this.would = other.would;
    if (other.outcome > this.outcome) this.outcome = other.outcome;
    if (this.blockDetector < 0) this.blockDetector = other.blockDetector;
    this.mode = other.mode;
  }
}

/** Public name of an outcome in metrics, logs and filter state. */
export function outcomeName(a: Action): string {
  switch (a) {
    case Action.Off: return "allow";
    case Action.Alert: return "alert";
    case Action.Redact: return "redact";
    default: return "block";
  }
}
