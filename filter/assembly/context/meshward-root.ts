/**
 * The meshward root context: one per plugin configuration per VM (Envoy worker thread).
 *
 * Lifecycle: onVmStart reads the VM configuration (hash key); onConfigure parses the plugin
 * configuration with the one pure parser and, when valid, builds an immutable snapshot (config,
 * scanner, redactor) that new HTTP contexts use. An invalid configuration fails plugin start:
 * onConfigure returns false and logs `meshward: invalid plugin configuration: <path>: <reason>`;
 * Envoy then keeps the previous plugin serving. Streams keep the snapshot they started with.
 */
import { parseConfig, PluginConfig } from "../config/plugin-config";
import { parseVmConfig } from "../config/vm-config";
import { getPluginConfiguration, getVmConfiguration } from "../host/body";
import { logError, logInfo, logEnabled } from "../host/log";
import { LogLevel } from "../abi/types";
import { BodyInspector } from "../policy/body-inspector";
import { Redactor } from "../policy/redaction";
import { PolicySet } from "../policy/principal-policy";
import { ContentScanner } from "../policy/scan";
import { ByteBuffer } from "../inspect/byte-buffer";
import { FilterMetrics } from "./filter-metrics";
import { HttpContext, RootContext } from "./base";
import { MeshwardHttpContext } from "./meshward-http";
import { onBudgetTick, onLeaseResponse, setBudgetConfig, syncBudgetTick } from "../budget/budget-gate";

/** Everything a stream needs from one configuration; never mutated after publication. */
export class Snapshot {
  constructor(
    public config: PluginConfig,
    public scanner: ContentScanner,
    public redactor: Redactor,
    public version: i32,
    public policies: PolicySet,
  ) {}
}

export class MeshwardRoot extends RootContext {
  vmHashKey: string = "";
  snapshot: Snapshot | null = null;
  readonly metrics: FilterMetrics = new FilterMetrics();
  /** Shared by this VM's HTTP contexts (callbacks of one VM never interleave). */
  readonly bodies: BodyInspector = new BodyInspector();
  readonly logBuffer: ByteBuffer = new ByteBuffer(512);
  /** Reused copy of large buffered bodies (see readBody in meshward-http.ts). */
  readonly rawBody: ByteBuffer = new ByteBuffer(1024);
  private versions: i32 = 0;

  override onVmStart(vmConfigurationSize: u32): bool {
    if (vmConfigurationSize == 0) return true;
    const buf = getVmConfiguration();
    if (buf == null) return true;
    const vm = parseVmConfig(Uint8Array.wrap(buf));
    if (vm.error.length > 0) {
      logError("meshward: invalid VM configuration: " + vm.error);
      return false;
    }
    this.vmHashKey = vm.hashKey;
    return true;
  }

  override onConfigure(pluginConfigurationSize: u32): bool {
    let bytes = new Uint8Array(0);
    if (pluginConfigurationSize > 0) {
      const buf = getPluginConfiguration();
      if (buf != null) bytes = Uint8Array.wrap(buf);
    }
    const result = parseConfig(bytes, this.vmHashKey);
    if (!result.ok) {
      logError("meshward: invalid plugin configuration: " + result.message);
      this.metrics.configLoaded(false);
      return false;
    }
    const cfg = result.config!;
    const scanner = new ContentScanner(cfg);
    if (scanner.error.length > 0) {
      logError("meshward: invalid plugin configuration: " + scanner.error);
      this.metrics.configLoaded(false);
      return false;
    }
    this.versions++;
    this.snapshot = new Snapshot(cfg, scanner, new Redactor(cfg.redactionStyle, cfg.hashKey), this.versions, new PolicySet(cfg));
    this.metrics.configLoaded(true);
    setBudgetConfig(cfg.budgets.enabled ? cfg.budgets : null);
    // Leases with release_after_ms: a coarse tick gives idle grants back (budget/budget-gate.ts).
    syncBudgetTick(true);
    if (logEnabled(LogLevel.Info)) {
      logInfo("meshward: configuration " + this.versions.toString() + " loaded (" +
        cfg.detectorCount.toString() + " detectors, " + cfg.principals.length.toString() + " principal rules)");
    }
    return true;
  }

  /** Budget lease answers (budget/budget-gate.ts): HTTP calls are answered to the root context. */
  override onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    onLeaseResponse(token, bodySize);
  }

  /** The budgets' idle release and parked lease requests (budget/budget-gate.ts onBudgetTick). */
  override onTick(): void {
    onBudgetTick();
  }

  override createHttpContext(contextId: u32): HttpContext | null {
    const snap = this.snapshot;
    if (snap == null) return null; // not configured: pass-through
    return new MeshwardHttpContext(contextId, this, snap);
  }
}
