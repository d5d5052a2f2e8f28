/**
 * The filter's Envoy stats. Names are dot-separated with `<tag>.<value>` pairs so Envoy's
 * stats_config tag extraction can split them (regexes in docs/filter.md); Envoy shows wasm metrics
 * under the `wasmcustom.` prefix.
 *
 *   meshward.detector.<id>.direction.<dir>.action.<action>.mode.<mode>.findings   counter (+= findings)
 *   meshward.direction.<dir>.outcome.<allow|alert|redact|block>.messages           counter (+1 per message)
 *   meshward.direction.<dir>.error.<reason>.errors                                counter
 *   meshward.direction.<dir>.inspected_bytes                                      counter
 *   meshward.config.loads / meshward.config.rejections                             counter
 *
 * Metrics are defined lazily on first use and their ids cached per VM (ids are per VM; values are
 * shared by name across all worker VMs).
 */
import { Action, Mode, actionName, directionName, modeName, Direction } from "../config/enums";
import { PluginConfig } from "../config/plugin-config";
import { Verdict, outcomeName } from "../policy/verdict";
import { defineMetric, incrementMetric, MetricType } from "../host/metrics";

export class FilterMetrics {
  private ids: Map<i32, u32> = new Map<i32, u32>();
  private named: Map<string, u32> = new Map<string, u32>();

  private counter(name: string): u32 {
    if (this.named.has(name)) return this.named.get(name);
    const id = defineMetric(MetricType.Counter, name);
    this.named.set(name, id);
    return id;
  }

  /** Counts a message's verdict: findings per detector, and the message's outcome. */
  recordVerdict(cfg: PluginConfig, v: Verdict, direction: Direction): void {
    const dir = direction == Direction.Request ? 0 : 1;
    for (let d = 0; d < v.counts.length; d++) {
      const c = unchecked(v.counts[d]);
      if (c == 0) continue;
      const a = <i32>unchecked(v.actions[d]);
      const m = v.mode == Mode.Enforce ? 1 : 0;
      const key = (((d << 1) | dir) << 3 | a << 1 | m) + 1000;
      let id: u32;
      if (this.ids.has(key)) {
        id = this.ids.get(key);
      } else {
        id = defineMetric(MetricType.Counter,
          "meshward.detector." + cfg.idOf(d) + ".direction." + directionName(direction) + ".action." +
          actionName(<Action>a) + ".mode." + modeName(v.mode) + ".findings");
        this.ids.set(key, id);
      }
      if (id != 0) incrementMetric(id, c);
    }
    const okey = (dir << 3) | <i32>v.outcome;
    let oid: u32;
    if (this.ids.has(okey)) {
      oid = this.ids.get(okey);
    } else {
      oid = defineMetric(MetricType.Counter,
        "meshward.direction." + directionName(direction) + ".outcome." + outcomeName(v.outcome) + ".messages");
      this.ids.set(okey, oid);
    }
    if (oid != 0) incrementMetric(oid, 1);
  }

  inspectedBytes(direction: Direction, n: i32): void {
    if (n <= 0) return;
    const key = 900 + <i32>direction;
    let id: u32;
    if (this.ids.has(key)) {
      id = this.ids.get(key);
    } else {
      id = defineMetric(MetricType.Counter, "meshward.direction." + directionName(direction) + ".inspected_bytes");
      this.ids.set(key, id);
    }
    if (id != 0) incrementMetric(id, n);
  }

  error(direction: Direction, reason: string): void {
    const id = this.counter("meshward.direction." + directionName(direction) + ".error." + reason + ".errors");
    if (id != 0) incrementMetric(id, 1);
  }

  configLoaded(ok: bool): void {
    const id = this.counter(ok ? "meshward.config.loads" : "meshward.config.rejections");
    if (id != 0) incrementMetric(id, 1);
  }
}
