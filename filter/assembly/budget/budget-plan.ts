/**
 * The budget accounting of one HTTP stream: which limits apply (caller identity × body model ×
 * route), admission before the model, output charged as it arrives, and the settlement from the
 * provider's `usage`.
 *
 * Lifecycle: `select()` once the body's model is known → `admit()` at the end of the request body
 * (may clamp or reject; in lease mode may ask for a lease first) → `chargeOutput()` per streamed
 * event / `settle()` with usage or at the end. `dry_run` limits are charged and reported, never
 * enforced.
 *
 * Costs are integer: cost = ceil((input × wi + cached × wc + output × wo) / 1000) with weights in
 * thousandths; output is charged incrementally so the running total always equals the cost of
 * the tokens counted so far (per limit, as each limit may weigh the model differently).
 */
import { BudgetConfig, BudgetLimit, ModelCost, globMatch, principalMatch, windowSeconds } from "./budget-config";
import { BudgetLedger, CHARGE_INSUFFICIENT, CHARGE_OK, windowIndex, windowRemainingNs } from "./budget-ledger";

export const ADMIT: i32 = 0;
export const ADMIT_CLAMPED: i32 = 1;
export const REJECT: i32 = 2;
/** Lease mode: the local grant is short; ask the control plane, then admit() again. */
export const NEED_LEASE: i32 = 3;
/** Shared data failed: follow failure_mode. */
export const UNAVAILABLE: i32 = 4;

/** One applicable limit and what this stream charged to it. */
export class PlanEntry {
  key: string = "";
  /** The counter key sent to the lease service: identity, or `*` for a shared limit. */
  counterKey: string = "";
  window: u64 = 0;
  /** Cost units charged so far by this stream. */
  charged: i64 = 0;
  /** Reserved at admission beyond the prompt (non-streamed: output allowance). */
  reserved: i64 = 0;
  /** Remaining after the last charge (for the gauge and the filter state). */
  remaining: i64 = 0;
  constructor(public limit: BudgetLimit, public cost: ModelCost) {}
}

/** Cost in units of input/cached/output tokens under `c` (ceil of thousandths). */
export function costUnits(c: ModelCost, input: i64, cached: i64, output: i64): i64 {
  const milli = input * c.input + cached * c.cached + output * c.output;
  return (milli + 999) / 1000;
}

export class BudgetPlan {
  entries: Array<PlanEntry> = [];
  /** Tokens counted: prompt (estimate, then usage), cached, output (estimate, then usage). */
  promptTokens: i64 = 0;
  cachedTokens: i64 = 0;
  outputTokens: i64 = 0;
  /** Non-streamed reservation of output tokens made at admission. */
  reservedOutput: i64 = 0;
  /** The limit that rejected, clamped or cut (index into entries), or -1. */
  decisive: i32 = -1;
  clampedTo: i64 = -1;
  retryAfterSeconds: i64 = 0;
  /** Output is being charged from estimates (no usage seen yet). */
  settled: bool = false;
  streaming: bool = false;
  leased: bool = false;

  constructor(public cfg: BudgetConfig, public ledger: BudgetLedger) {
    this.leased = cfg.lease != null;
  }

  /** Picks the limits that apply. Returns the number of entries. */
  select(identity: string, model: string, route: string, nowNs: u64): i32 {
    this.entries.length = 0;
    const limits = this.cfg.limits;
    for (let i = 0; i < limits.length; i++) {
      const l = limits[i];
      if (!matchesAny(l.principals, identity, true)) continue;
      if (l.models.length > 0 && !matchesAny(l.models, model, false)) continue;
      if (l.routes.length > 0 && !routeMatches(l.routes, route)) continue;
      const e = new PlanEntry(l, l.costFor(model));
      e.counterKey = l.shared ? "*" : identity;
      e.window = windowIndex(nowNs, windowSeconds(l.window));
      e.key = "meshward.budget." + l.name + "|" + e.counterKey;
      this.entries.push(e);
    }
    return this.entries.length;
  }

  get active(): bool {
    return this.entries.length > 0;
  }

  /** Remaining units of an entry (reads shared data). */
  remainingOf(e: PlanEntry): i64 {
    this.ledger.read(e.key, e.window);
    e.remaining = this.ledger.state.remaining(e.limit.tokens, this.leased);
    return e.remaining;
  }

  /**
   * Admission for a prompt of `prompt` estimated tokens asking for `maxOut` output tokens (-1 = not
   * given). `canClamp`: the body has a max field that can be rewritten. On ADMIT / ADMIT_CLAMPED
   * the prompt (and, non-streamed, the output allowance) is charged. In lease mode a shortfall
   * returns NEED_LEASE while `allowLease`; otherwise clamp/reject decide on the local grant.
   */
  admit(prompt: i64, maxOut: i64, streaming: bool, canClamp: bool, nowNs: u64, allowLease: bool = true): i32 {
    this.streaming = streaming;
    this.promptTokens = prompt;
    this.decisive = -1;
    this.clampedTo = -1;
    const assumed = maxOut >= 0 ? maxOut : (streaming ? 1 : this.cfg.defaultOutputTokens);
    let allowedOut: i64 = assumed;
    let needClamp = false;
    // Check every enforced limit; find how much output fits.
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      const remaining = this.remainingOf(e);
      const need = costUnits(e.cost, prompt, 0, assumed);
      if (remaining >= need) continue;
      if (e.limit.dryRun) continue;
      if (this.leased && allowLease && this.cfg.lease != null) {
        this.decisive = i;
        this.retryAfterSeconds = <i64>((windowRemainingNs(nowNs, windowSeconds(e.limit.window)) + 999_999_999) / 1_000_000_000);
        return NEED_LEASE;
      }
      const fit = outputThatFits(e.cost, prompt, remaining);
      if (e.limit.clamp && canClamp && maxOut >= 0 && fit >= e.limit.minOutputTokens) {
        needClamp = true;
        if (fit < allowedOut) {
          allowedOut = fit;
          this.decisive = i;
        }
        continue;
      }
      this.decisive = i;
      this.retryAfterSeconds = <i64>((windowRemainingNs(nowNs, windowSeconds(e.limit.window)) + 999_999_999) / 1_000_000_000);
      return REJECT;
    }
    if (needClamp) this.clampedTo = allowedOut;
    // Charge: the prompt, plus the output allowance when the response will not stream.
    this.reservedOutput = streaming ? 0 : allowedOut;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      const amount = costUnits(e.cost, prompt, 0, this.reservedOutput);
      const enforce = !e.limit.dryRun;
      const r = this.ledger.charge(e.key, e.window, e.limit.tokens, this.leased, amount, enforce && !streaming);
      if (r == CHARGE_INSUFFICIENT) {
        // Another stream took the room between the check and the charge: undo and refuse.
        this.refundAll(i);
        this.decisive = i;
        this.retryAfterSeconds = <i64>((windowRemainingNs(nowNs, windowSeconds(e.limit.window)) + 999_999_999) / 1_000_000_000);
        return REJECT;
      }
      if (r != CHARGE_OK) {
        this.refundAll(i);
        return UNAVAILABLE;
      }
      e.charged = amount;
      e.reserved = amount - costUnits(e.cost, prompt, 0, 0);
      e.remaining = this.ledger.state.remaining(e.limit.tokens, this.leased);
    }
    return needClamp ? ADMIT_CLAMPED : ADMIT;
  }

  private refundAll(upTo: i32): void {
    for (let j = 0; j < upTo; j++) {
      const e = this.entries[j];
      if (e.charged > 0) this.ledger.charge(e.key, e.window, e.limit.tokens, this.leased, -e.charged, false);
      e.charged = 0;
    }
  }

  /**
   * Sets the running output count to `total` tokens (estimated or from usage) and charges the
   * difference. With `enforce`, refuses (returns false, charges nothing) when an enforced limit
   * lacks the room: the caller cuts the stream there.
   */
  chargeOutputTo(total: i64, enforce: bool): bool {
    if (total <= this.outputTokens) return true;
    // First pass: room everywhere (enforced limits).
    if (enforce) {
      for (let i = 0; i < this.entries.length; i++) {
        const e = this.entries[i];
        if (e.limit.dryRun) continue;
        const target = costUnits(e.cost, this.promptTokens - this.cachedTokens, this.cachedTokens, total);
        const delta = target - e.charged;
        if (delta > 0 && this.remainingOf(e) < delta) {
          this.decisive = i;
          return false;
        }
      }
    }
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      const target = costUnits(e.cost, this.promptTokens - this.cachedTokens, this.cachedTokens, total);
      const delta = target - e.charged;
      if (delta != 0) {
        const r = this.ledger.charge(e.key, e.window, e.limit.tokens, this.leased, delta, enforce && !e.limit.dryRun && delta > 0);
        if (r == CHARGE_INSUFFICIENT) {
          // Lost a race with another stream: stop here (earlier entries keep their charge; they
          // were delivered to nobody, so refund them).
          for (let j = 0; j < i; j++) {
            const f = this.entries[j];
            const back = costUnits(f.cost, this.promptTokens - this.cachedTokens, this.cachedTokens, this.outputTokens);
            this.ledger.charge(f.key, f.window, f.limit.tokens, this.leased, back - f.charged, false);
            f.charged = back;
          }
          this.decisive = i;
          return false;
        }
        if (r == CHARGE_OK) e.charged = target;
      }
      e.remaining = this.ledger.state.remaining(e.limit.tokens, this.leased);
    }
    this.outputTokens = total;
    return true;
  }

  /**
   * The provider's usage (authoritative): prompt, cached (-1 unknown) and output tokens. Charges
   * the difference to what was charged so far (a refund when the estimate was high); never refuses.
   */
  settle(prompt: i64, cached: i64, output: i64): void {
    if (prompt >= 0) this.promptTokens = prompt;
    if (cached >= 0) this.cachedTokens = cached > this.promptTokens ? this.promptTokens : cached;
    if (output >= 0) this.outputTokens = output;
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      const target = costUnits(e.cost, this.promptTokens - this.cachedTokens, this.cachedTokens, this.outputTokens);
      const delta = target - e.charged;
      if (delta != 0 && this.ledger.charge(e.key, e.window, e.limit.tokens, this.leased, delta, false) == CHARGE_OK) {
        e.charged = target;
      }
      e.reserved = 0;
      e.remaining = this.ledger.state.remaining(e.limit.tokens, this.leased);
    }
    this.settled = true;
  }

  /** Non-streamed response without usage: charge the estimate instead of the reservation. */
  settleEstimate(output: i64): void {
    this.settle(-1, -1, output);
  }

  /** The request never reached the model (local reply, reset): give the charge back. */
  refundUnused(): void {
    if (this.settled) return;
    this.settle(0, 0, 0);
  }

  /** The smallest remaining over the entries (for headers and the filter state); -1 without entries. */
  minRemaining(): i64 {
    let m: i64 = -1;
    for (let i = 0; i < this.entries.length; i++) {
      const r = this.entries[i].remaining;
      if (m < 0 || r < m) m = r < 0 ? 0 : r;
    }
    return m;
  }
}

/** Output tokens that fit in `remaining` units after the prompt (very large when output is free). */
export function outputThatFits(c: ModelCost, prompt: i64, remaining: i64): i64 {
  const left = remaining * 1000 - prompt * c.input;
  if (left <= 0) return 0;
  if (c.output == 0) return 1_000_000_000;
  return left / c.output;
}

function matchesAny(patterns: Array<string>, s: string, principal: bool): bool {
  for (let i = 0; i < patterns.length; i++) {
    if (principal ? principalMatch(patterns[i], s) : globMatch(patterns[i], s)) return true;
  }
  return false;
}

/** A budget's route `chat` matches Envoy route names `chat` and `chat|...` (translate's naming). */
function routeMatches(routes: Array<string>, route: string): bool {
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i];
    if (route == r) return true;
    if (route.length > r.length && route.startsWith(r) && route.charCodeAt(r.length) == 0x7c) return true;
  }
  return false;
}
