/**
 * One budget counter per (limit, caller key) per Envoy, kept in shared data so every worker
 * thread's VM charges the same count; updates are compare-and-swap loops (re-read and retry on
 * CasMismatch), so two streams of one identity on two workers never both spend the last tokens.
 *
 * Value (56 bytes, little-endian): window index u64 (fixed UTC window = now / window length),
 * spent i64 (cost units, never below 0), granted i64 (lease mode: this Envoy's total grant for the
 * window from the control plane), lease-pending-until u64 (ns; some lease call may be in flight
 * until then: the latest send + its timeout), spent-reported i64 (what the last lease call
 * reported), last-activity u64 (ns of the last charge, refund or lease call; lease mode only),
 * release-until u64 (ns; a release call is in flight until then: no other lease call may be sent,
 * since the lease service applies a release and a grant in whatever order they arrive).
 * A value from an older window reads as a fresh window (spent 0, granted 0). A 40-byte value (an
 * earlier filter version) reads with the two last fields 0.
 *
 * Capacity: without a lease the capacity is the limit's tokens; with a lease it is the grant.
 */
import { WasmResult } from "../abi/types";
import { getSharedData, setSharedData } from "../host/shared-data";
import { getCurrentTimeNanoseconds } from "../host/time";

export const LEDGER_BYTES: i32 = 56;
/** The value size of filter versions before release (read compatibly). */
const LEDGER_BYTES_V1: i32 = 40;
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

/** Result codes of {@link BudgetLedger.release}. */
/** Nothing to give back (no grant above spent in this window): forget the counter. */
export const RELEASE_NONE: i32 = 0;
/** Not now (recent activity, a lease call in flight, or shared data busy): ask again later. */
export const RELEASE_LATER: i32 = 1;
/** The local grant was lowered to spent: send the release call (this worker alone won the CAS). */
export const RELEASE_DONE: i32 = 2;

export class LedgerState {
  window: u64 = 0;
  spent: i64 = 0;
  granted: i64 = 0;
  pendingUntil: u64 = 0;
  reported: i64 = 0;
  lastActivity: u64 = 0;
  releaseUntil: u64 = 0;

  /** Decodes `v` for window `window` (an older window reads as fresh). */
  load(v: Uint8Array | null, window: u64): void {
    this.window = window;
    this.spent = 0;
    this.granted = 0;
    this.pendingUntil = 0;
    this.reported = 0;
    this.lastActivity = 0;
    this.releaseUntil = 0;
    if (v == null || v.length < LEDGER_BYTES_V1) return;
    const p = v.dataStart;
    if (load<u64>(p) != window) return;
    this.spent = load<i64>(p, 8);
    this.granted = load<i64>(p, 16);
    this.pendingUntil = load<u64>(p, 24);
    this.reported = load<i64>(p, 32);
    if (v.length < LEDGER_BYTES) return;
    this.lastActivity = load<u64>(p, 40);
    this.releaseUntil = load<u64>(p, 48);
  }

  store(out: Uint8Array): void {
    const p = out.dataStart;
    store<u64>(p, this.window);
    store<i64>(p, this.spent, 8);
    store<i64>(p, this.granted, 16);
    store<u64>(p, this.pendingUntil, 24);
    store<i64>(p, this.reported, 32);
    store<u64>(p, this.lastActivity, 40);
    store<u64>(p, this.releaseUntil, 48);
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
   * After the call `state` holds the value written (or read). In lease mode the write also stamps
   * last-activity (what the idle release looks at).
   */
  charge(key: string, window: u64, limitTokens: i64, leased: bool, amount: i64, requireRoom: bool): i32 {
    const st = this.state;
    const now: u64 = leased ? getCurrentTimeNanoseconds() : 0;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const cur = getSharedData(key);
      st.load(cur == null ? null : Uint8Array.wrap(cur.value), window);
      if (requireRoom && amount > 0 && st.remaining(limitTokens, leased) < amount) return CHARGE_INSUFFICIENT;
      st.spent += amount;
      if (st.spent < 0) st.spent = 0;
      if (leased) st.lastActivity = now;
      st.store(this.buf);
      const r = setSharedData(key, this.buf, cur == null ? CREATE_CAS : cur.cas);
      if (r == WasmResult.Ok) return CHARGE_OK;
      if (r != WasmResult.CasMismatch) return CHARGE_UNAVAILABLE;
    }
    return CHARGE_UNAVAILABLE;
  }

  /**
   * Raises the grant to `granted` (an answer never lowers it: only {@link release} does, before
   * its call). `releaseAnswered`: the answer is the release call's, which ends the release mark.
   * The pending mark stays: another worker's call may still be in flight.
   */
  grant(key: string, window: u64, granted: i64, releaseAnswered: bool = false): bool {
    const st = this.state;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const cur = getSharedData(key);
      st.load(cur == null ? null : Uint8Array.wrap(cur.value), window);
      if (granted > st.granted) st.granted = granted;
      if (releaseAnswered) st.releaseUntil = 0;
      st.store(this.buf);
      const r = setSharedData(key, this.buf, cur == null ? CREATE_CAS : cur.cas);
      if (r == WasmResult.Ok) return true;
      if (r != WasmResult.CasMismatch) return false;
    }
    return false;
  }

  /**
   * Before a lease call (asking for more): false when a release call is in flight (the caller
   * must wait: see the module comment), else marks a call in flight until at least `untilNs`,
   * stamps last-activity and records `spent` as reported (then `state.spent` is what to report).
   */
  claimLeaseCall(key: string, window: u64, nowNs: u64, untilNs: u64): bool {
    const st = this.state;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const cur = getSharedData(key);
      st.load(cur == null ? null : Uint8Array.wrap(cur.value), window);
      if (st.releaseUntil > nowNs) return false;
      if (untilNs > st.pendingUntil) st.pendingUntil = untilNs;
      st.lastActivity = nowNs;
      st.reported = st.spent;
      st.store(this.buf);
      const r = setSharedData(key, this.buf, cur == null ? CREATE_CAS : cur.cas);
      if (r == WasmResult.Ok) return true;
      if (r != WasmResult.CasMismatch) return false;
    }
    return false;
  }

  /**
   * The idle release, step 1 (before the call): when the counter had no activity for `idleNs`, no
   * lease call may be in flight and the grant exceeds what was spent, lowers the grant to spent
   * with CAS and marks a release in flight until `untilNs`. Every charge is a CAS on the same
   * value, so a charge that slips in makes the write fail: the loop re-reads, sees the activity
   * and backs off (RELEASE_LATER). Only the worker whose write succeeds gets RELEASE_DONE (then
   * `releasedUnits` is what it gave back and `state.spent` is what to report).
   */
  release(key: string, window: u64, nowNs: u64, idleNs: u64, untilNs: u64): i32 {
    const st = this.state;
    this.releasedUnits = 0;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const cur = getSharedData(key);
      if (cur == null) return RELEASE_NONE;
      st.load(Uint8Array.wrap(cur.value), window);
      if (st.granted <= st.spent) return RELEASE_NONE;
      if (st.releaseUntil > nowNs || st.pendingUntil > nowNs) return RELEASE_LATER;
      if (st.lastActivity + idleNs > nowNs) return RELEASE_LATER;
      const back = st.granted - st.spent;
      st.granted = st.spent;
      st.reported = st.spent;
      st.releaseUntil = untilNs;
      st.store(this.buf);
      const r = setSharedData(key, this.buf, cur.cas);
      if (r == WasmResult.Ok) {
        this.releasedUnits = back;
        return RELEASE_DONE;
      }
      if (r != WasmResult.CasMismatch) return RELEASE_LATER;
    }
    return RELEASE_LATER;
  }

  /** Units the last successful {@link release} gave back. */
  releasedUnits: i64 = 0;

  /**
   * Marks activity now without charging (a stream of this VM is still open on the counter), so
   * the idle release leaves a counter alone while a slow stream waits for its next event.
   */
  touch(key: string, window: u64, nowNs: u64): void {
    const st = this.state;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const cur = getSharedData(key);
      if (cur == null) return;
      st.load(Uint8Array.wrap(cur.value), window);
      if (st.lastActivity >= nowNs) return;
      st.lastActivity = nowNs;
      st.store(this.buf);
      const r = setSharedData(key, this.buf, cur.cas);
      if (r != WasmResult.CasMismatch) return;
    }
  }
}
