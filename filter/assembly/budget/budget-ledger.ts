/**
 * One budget counter per (limit, caller key) per Envoy, kept in shared data so every worker
 * thread's VM charges the same count; updates are compare-and-swap loops (re-read and retry on
 * CasMismatch), so two streams of one identity on two workers never both spend the last tokens.
 *
 * Value (40 bytes, little-endian): window index u64 (fixed UTC window = now / window length),
 * spent i64 (cost units, never below 0), granted i64 (lease mode: this Envoy's total grant for the
 * window from the control plane), lease-pending-until u64 (ns; a lease call is in flight until then,
 * so the workers do not all ask at once), spent-reported i64 (what the last lease call reported).
 * A value from an older window reads as a fresh window (spent 0, granted 0).
 *
 * Capacity: without a lease the capacity is the limit's tokens; with a lease it is the grant.
 */
import { WasmResult } from "../abi/types";
import { getSharedData, setSharedData } from "../host/shared-data";

export const LEDGER_BYTES: i32 = 40;
const CAS_ATTEMPTS: i32 = 32;
/**
 * The CAS used to CREATE a key. Envoy creates a missing key whatever the CAS, but a CAS of 0 would
 * also overwrite a key another worker created since our read (0 = unconditional), losing its
 * charge. Envoy's CAS values count up from 1 process-wide, so a key created by someone else almost
 * surely has a different CAS and the write fails with CasMismatch: we re-read and retry.
 */
export const CREATE_CAS: u32 = 0xffffffff;

/** Result codes of {@link BudgetLedger.charge}. */
export const CHARGE_OK: i32 = 0;
export const CHARGE_INSUFFICIENT: i32 = 1;
export const CHARGE_UNAVAILABLE: i32 = 2;

export class LedgerState {
  window: u64 = 0;
  spent: i64 = 0;
  granted: i64 = 0;
  pendingUntil: u64 = 0;
  reported: i64 = 0;

  /** Decodes `v` for window `window` (an older window reads as fresh). */
  load(v: Uint8Array | null, window: u64): void {
    this.window = window;
    this.spent = 0;
    this.granted = 0;
    this.pendingUntil = 0;
    this.reported = 0;
    if (v == null || v.length < LEDGER_BYTES) return;
    const p = v.dataStart;
    if (load<u64>(p) != window) return;
    this.spent = load<i64>(p, 8);
    this.granted = load<i64>(p, 16);
    this.pendingUntil = load<u64>(p, 24);
    this.reported = load<i64>(p, 32);
  }

  store(out: Uint8Array): void {
    const p = out.dataStart;
    store<u64>(p, this.window);
    store<i64>(p, this.spent, 8);
    store<i64>(p, this.granted, 16);
    store<u64>(p, this.pendingUntil, 24);
    store<i64>(p, this.reported, 32);
  }

  /** Units left: capacity (limit tokens, or the grant when `leased`) minus spent. */
  remaining(limitTokens: i64, leased: bool): i64 {
    return (leased ? this.granted : limitTokens) - this.spent;
  }
}

/** The fixed window index of `nowNs` for windows of `seconds`. */
export function windowIndex(nowNs: u64, seconds: i64): u64 {
  return nowNs / (<u64>seconds * 1_000_000_000);
}

/** Nanoseconds until the window containing `nowNs` ends. */
export function windowRemainingNs(nowNs: u64, seconds: i64): u64 {
  const len = <u64>seconds * 1_000_000_000;
  return len - nowNs % len;
}

/** CAS loops over shared data. One per VM (reuses its buffers). */
export class BudgetLedger {
  readonly state: LedgerState = new LedgerState();
  private buf: Uint8Array = new Uint8Array(LEDGER_BYTES);

  /** Reads the counter (no write); false when shared data is unavailable. */
  read(key: string, window: u64): bool {
    const cur = getSharedData(key);
    this.state.load(cur == null ? null : Uint8Array.wrap(cur.value), window);
    return true;
  }

  /**
   * Adds `amount` (may be negative: a refund; spent never goes below 0). With `requireRoom`, the
   * charge happens only if remaining ≥ amount (else CHARGE_INSUFFICIENT and nothing changes).
   * After the call `state` holds the value written (or read).
   */
  charge(key: string, window: u64, limitTokens: i64, leased: bool, amount: i64, requireRoom: bool): i32 {
    const st = this.state;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const cur = getSharedData(key);
      st.load(cur == null ? null : Uint8Array.wrap(cur.value), window);
      if (requireRoom && amount > 0 && st.remaining(limitTokens, leased) < amount) return CHARGE_INSUFFICIENT;
      st.spent += amount;
      if (st.spent < 0) st.spent = 0;
      st.store(this.buf);
      const r = setSharedData(key, this.buf, cur == null ? CREATE_CAS : cur.cas);
      if (r == WasmResult.Ok) return CHARGE_OK;
      if (r != WasmResult.CasMismatch) return CHARGE_UNAVAILABLE;
    }
    return CHARGE_UNAVAILABLE;
  }

  /** Raises the grant to `granted` (grants only grow within a window) and clears the pending mark. */
  grant(key: string, window: u64, granted: i64): bool {
    const st = this.state;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const cur = getSharedData(key);
      st.load(cur == null ? null : Uint8Array.wrap(cur.value), window);
      if (granted > st.granted) st.granted = granted;
      st.pendingUntil = 0;
      st.store(this.buf);
      const r = setSharedData(key, this.buf, cur == null ? CREATE_CAS : cur.cas);
      if (r == WasmResult.Ok) return true;
      if (r != WasmResult.CasMismatch) return false;
    }
    return false;
  }

  /**
   * Marks a lease call in flight until `untilNs` unless another worker already did (then false:
   * that worker's call will raise the grant for everyone). Records `spent` as reported.
   */
  claimLeaseCall(key: string, window: u64, nowNs: u64, untilNs: u64): bool {
    const st = this.state;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const cur = getSharedData(key);
      st.load(cur == null ? null : Uint8Array.wrap(cur.value), window);
      if (st.pendingUntil > nowNs) return false;
      st.pendingUntil = untilNs;
      st.reported = st.spent;
      st.store(this.buf);
      const r = setSharedData(key, this.buf, cur == null ? CREATE_CAS : cur.cas);
      if (r == WasmResult.Ok) return true;
      if (r != WasmResult.CasMismatch) return false;
    }
    return false;
  }
}
