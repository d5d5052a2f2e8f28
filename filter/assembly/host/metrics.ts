// Envoy stats through proxy_define_metric & co. Define metrics once (in onConfigure or onVmStart)
// and keep the objects: ids are per VM, values are shared by name across all worker VMs.
// Envoy semantics: counters only grow (increment <= 0 is BadArgument); record adds to a counter,
// sets a gauge, records a histogram sample; reading a histogram is BadArgument.
import * as calls from "../abi/calls";
import { MetricType, WasmResult } from "../abi/types";

export { MetricType };

/** Defines a metric; returns its id, or 0 when the host refused. */
export function defineMetric(type: MetricType, name: string): u32 {
  return calls.defineMetric(<u32>type, String.UTF8.encode(name));
}

export function incrementMetric(id: u32, delta: i64): WasmResult {
  return calls.incrementMetric(id, delta);
}

export function recordMetric(id: u32, value: u64): WasmResult {
  return calls.recordMetric(id, value);
}

/** Current value, 0 when refused (check lastStatus() from abi/calls via metricStatus()). */
export function getMetric(id: u32): u64 {
  return calls.getMetric(id);
}

/** Status of the last metric call. */
export function metricStatus(): WasmResult {
  return calls.lastStatus();
}

/** A monotonically increasing counter. */
export class Counter {
  readonly id: u32;
  constructor(readonly name: string) {
    this.id = defineMetric(MetricType.Counter, name);
  }
  /** Adds `delta` (> 0). */
  increment(delta: i64 = 1): WasmResult {
    return calls.incrementMetric(this.id, delta);
  }
  get(): u64 {
    return calls.getMetric(this.id);
  }
}

/** A value that goes up and down. */
export class Gauge {
  readonly id: u32;
  constructor(readonly name: string) {
    this.id = defineMetric(MetricType.Gauge, name);
  }
  set(value: u64): WasmResult {
    return calls.recordMetric(this.id, value);
  }
  /** Adds `delta` (may be negative). */
  add(delta: i64): WasmResult {
    return calls.incrementMetric(this.id, delta);
  }
  get(): u64 {
    return calls.getMetric(this.id);
  }
}

/** A distribution of recorded values. */
export class Histogram {
  readonly id: u32;
  constructor(readonly name: string) {
    this.id = defineMetric(MetricType.Histogram, name);
  }
  record(value: u64): WasmResult {
    return calls.recordMetric(this.id, value);
  }
}
