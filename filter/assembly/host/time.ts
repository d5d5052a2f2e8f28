// Clock and timer.
import * as calls from "../abi/calls";
import { WasmResult } from "../abi/types";

/** Wall-clock time in nanoseconds since the Unix epoch, from the host (0 if refused). */
export function getCurrentTimeNanoseconds(): u64 {
  return calls.getCurrentTimeNanoseconds();
}

/** Calls the root context's onTick every `periodMs` ms (0 stops it). Call from a root context. */
export function setTickPeriodMilliseconds(periodMs: u32): WasmResult {
  return calls.setTickPeriodMilliseconds(periodMs);
}
