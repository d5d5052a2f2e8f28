/**
 * Sliding-window request rate per identity, as a pure state transition over the 24-byte value kept
 * in Envoy shared data (so every worker thread's VM sees one count).
 *
 * State: window index (u64), requests in the current window (u64), requests in the previous window
 * (u64), little-endian. The rate estimate is previous * (1 - elapsed fraction of the current window)
 * + current, the usual sliding-window approximation; every request is counted (blocked ones too, so
 * a client that keeps hammering stays limited).
 */
export const RATE_STATE_BYTES: i32 = 24;

export class RateStep {
  /** The new state to write back (24 bytes). */
  next: Uint8Array = new Uint8Array(RATE_STATE_BYTES);
  /** The estimate including this request. */
  estimate: f64 = 0;
  exceeded: bool = false;
  /** Seconds until the current window ends (a Retry-After hint). */
  retryAfterSeconds: i32 = 0;
}

/**
 * Counts one request at `nowNs` against `maxRequests` per `windowSeconds`, from `prev` (null or
 * shorter than 24 bytes = no state yet).
 */
export function rateStep(prev: Uint8Array | null, nowNs: u64, windowSeconds: i32, maxRequests: i32, out: RateStep): void {
  const windowNs: u64 = <u64>windowSeconds * 1_000_000_000;
  const idx: u64 = nowNs / windowNs;
  let cur: u64 = 0;
  let before: u64 = 0;
  if (prev != null && prev.length >= RATE_STATE_BYTES) {
    const p = prev.dataStart;
    const oldIdx = load<u64>(p);
    const oldCur = load<u64>(p, 8);
    const oldPrev = load<u64>(p, 16);
    if (oldIdx == idx) {
      cur = oldCur;
      before = oldPrev;
    } else if (oldIdx + 1 == idx) {
      before = oldCur;
    }
  }
  cur += 1;
  const elapsed = <f64>(nowNs % windowNs) / <f64>windowNs;
  out.estimate = <f64>before * (1.0 - elapsed) + <f64>cur;
  out.exceeded = out.estimate > <f64>maxRequests;
  out.retryAfterSeconds = <i32>((windowNs - nowNs % windowNs + 999_999_999) / 1_000_000_000);
  const q = out.next.dataStart;
  store<u64>(q, idx);
  store<u64>(q, cur, 8);
  store<u64>(q, before, 16);
}
