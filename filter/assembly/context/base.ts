// Root and HTTP context base classes and the registry that routes every proxy_on_* callback to
// the context object with that id.
//
// Lifecycle (Envoy's order, see test/host/index.ts):
//   VM:     _initialize (top-level code: registerRootContext) -> root onContextCreate(root, 0)
//           -> RootContext.onVmStart(vmConfigSize) -> RootContext.onConfigure(pluginConfigSize)
//           (false = plugin start failure; on a config change Envoy creates a NEW root context in the
//           same VM and configures it, then retires the old root with onDone/onDelete).
//   Stream: onContextCreate(id, rootId) -> RootContext.createHttpContext(id)
//           -> onRequestHeaders / onRequestBody* / onRequestTrailers
//           -> onResponseHeaders / onResponseBody* / onResponseTrailers
//           -> onLog -> onDone -> onDelete (the registry forgets the context after onDelete).
// A stream whose root returned null from createHttpContext gets a pass-through HttpContext.
// The host's log level is refreshed before onVmStart and before every onConfigure.
import { Dispatcher, setDispatcher } from "../abi/exports";
import { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus } from "../abi/types";
import { refreshLogLevel } from "../host/log";
import { getPluginRootId } from "../host/properties";

export { FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus };

/**
 * One per plugin configuration per VM: holds parsed configuration, metrics, and creates the HTTP
 * contexts. Override what you need; defaults accept everything and pass traffic through.
 */
export class RootContext {
  constructor(public readonly contextId: u32) {}

  /** VM start; read the VM configuration with host getVmConfiguration(). False fails the VM. */
  onVmStart(vmConfigurationSize: u32): bool {
    return true;
  }

  /** Plugin (re)configuration; read it with host getPluginConfiguration(). False rejects it. */
  onConfigure(pluginConfigurationSize: u32): bool {
    return true;
  }

  /** Timer set with setTickPeriodMilliseconds(). */
  onTick(): void {}

  /** An item was enqueued on a queue this root registered. */
  onQueueReady(queueId: u32): void {}

  /** Response to httpCall(); headers/body readable during this call only. */
  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {}

  /** The host called a foreign function into the module. */
  onForeignFunction(functionId: u32, argumentsSize: u32): void {}

  /** Creates the per-stream context; null = pass-through stream. */
  createHttpContext(contextId: u32): HttpContext | null {
    return null;
  }

  /** Shutdown request; return false to finish later with host done(). */
  onDone(): bool {
    return true;
  }

  onLog(): void {}

  onDelete(): void {}
}

/** One per HTTP stream. Return values are the proxy-wasm action enums. */
export class HttpContext {
  constructor(public readonly contextId: u32, public readonly root: RootContext) {}

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }

  /** bodySize is the buffered total when the previous body callback returned StopIterationAndBuffer. */
  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }

  onRequestTrailers(numTrailers: u32): FilterTrailersStatus {
    return FilterTrailersStatus.Continue;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    return FilterHeadersStatus.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return FilterDataStatus.Continue;
  }

  onResponseTrailers(numTrailers: u32): FilterTrailersStatus {
    return FilterTrailersStatus.Continue;
  }

  /** Access-log phase: headers readable, not writable. */
  onLog(): void {}

  onDone(): bool {
    return true;
  }

  onDelete(): void {}
}

/** Creates the root context for a root context id. Must not capture variables (AS function). */
export type RootContextFactory = (contextId: u32) => RootContext;

class RootRegistration {
  constructor(public rootId: string, public factory: RootContextFactory) {}
}

class ContextRegistry extends Dispatcher {
  registrations: Array<RootRegistration> = new Array<RootRegistration>();
  roots: Map<u32, RootContext> = new Map<u32, RootContext>();
  streams: Map<u32, HttpContext> = new Map<u32, HttpContext>();

  private createRoot(contextId: u32): RootContext {
    const n = this.registrations.length;
    if (n == 0) return new RootContext(contextId);
    if (n == 1 && this.registrations[0].rootId == "") return this.registrations[0].factory(contextId);
    // Several roots in one module: pick by Envoy's root_id, "" registration as the fallback.
    const rootId = getPluginRootId();
    let fallback: RootRegistration | null = null;
    for (let i = 0; i < n; i++) {
      const r = unchecked(this.registrations[i]);
      if (r.rootId == rootId) return r.factory(contextId);
      if (r.rootId == "") fallback = r;
    }
    return fallback !== null ? fallback.factory(contextId) : new RootContext(contextId);
  }

  onContextCreate(contextId: u32, parentContextId: u32): void {
    if (parentContextId == 0) {
      this.roots.set(contextId, this.createRoot(contextId));
      return;
    }
    if (!this.roots.has(parentContextId)) return;
    const root = this.roots.get(parentContextId);
    const stream = root.createHttpContext(contextId);
    this.streams.set(contextId, stream !== null ? stream : new HttpContext(contextId, root));
  }

  onVmStart(contextId: u32, vmConfigurationSize: u32): bool {
    refreshLogLevel();
    if (!this.roots.has(contextId)) return true;
    return this.roots.get(contextId).onVmStart(vmConfigurationSize);
  }

  onConfigure(contextId: u32, pluginConfigurationSize: u32): bool {
    refreshLogLevel();
    if (!this.roots.has(contextId)) return true;
    return this.roots.get(contextId).onConfigure(pluginConfigurationSize);
  }

  onTick(contextId: u32): void {
    if (this.roots.has(contextId)) this.roots.get(contextId).onTick();
  }

  onQueueReady(contextId: u32, queueId: u32): void {
    if (this.roots.has(contextId)) this.roots.get(contextId).onQueueReady(queueId);
  }

  onHttpCallResponse(contextId: u32, token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    if (this.roots.has(contextId)) this.roots.get(contextId).onHttpCallResponse(token, numHeaders, bodySize, numTrailers);
  }

  onForeignFunction(contextId: u32, functionId: u32, argumentsSize: u32): void {
    if (this.roots.has(contextId)) this.roots.get(contextId).onForeignFunction(functionId, argumentsSize);
  }

  onRequestHeaders(contextId: u32, numHeaders: u32, endOfStream: bool): u32 {
    if (!this.streams.has(contextId)) return FilterHeadersStatus.Continue;
    return <u32>this.streams.get(contextId).onRequestHeaders(numHeaders, endOfStream);
  }

  onRequestBody(contextId: u32, bodySize: u32, endOfStream: bool): u32 {
    if (!this.streams.has(contextId)) return FilterDataStatus.Continue;
    return <u32>this.streams.get(contextId).onRequestBody(bodySize, endOfStream);
  }

  onRequestTrailers(contextId: u32, numTrailers: u32): u32 {
    if (!this.streams.has(contextId)) return FilterTrailersStatus.Continue;
    return <u32>this.streams.get(contextId).onRequestTrailers(numTrailers);
  }

  onResponseHeaders(contextId: u32, numHeaders: u32, endOfStream: bool): u32 {
    if (!this.streams.has(contextId)) return FilterHeadersStatus.Continue;
    return <u32>this.streams.get(contextId).onResponseHeaders(numHeaders, endOfStream);
  }

  onResponseBody(contextId: u32, bodySize: u32, endOfStream: bool): u32 {
    if (!this.streams.has(contextId)) return FilterDataStatus.Continue;
    return <u32>this.streams.get(contextId).onResponseBody(bodySize, endOfStream);
  }

  onResponseTrailers(contextId: u32, numTrailers: u32): u32 {
    if (!this.streams.has(contextId)) return FilterTrailersStatus.Continue;
    return <u32>this.streams.get(contextId).onResponseTrailers(numTrailers);
  }

  onDone(contextId: u32): bool {
    if (this.streams.has(contextId)) return this.streams.get(contextId).onDone();
    if (this.roots.has(contextId)) return this.roots.get(contextId).onDone();
    return true;
  }

  onLog(contextId: u32): void {
    if (this.streams.has(contextId)) {
      this.streams.get(contextId).onLog();
    } else if (this.roots.has(contextId)) {
      this.roots.get(contextId).onLog();
    }
  }

  onDelete(contextId: u32): void {
    if (this.streams.has(contextId)) {
      this.streams.get(contextId).onDelete();
      this.streams.delete(contextId);
    } else if (this.roots.has(contextId)) {
      this.roots.get(contextId).onDelete();
      this.roots.delete(contextId);
    }
  }
}

let registry: ContextRegistry | null = null;

function installedRegistry(): ContextRegistry {
  let r = registry;
  if (r === null) {
    r = new ContextRegistry();
    registry = r;
    setDispatcher(r);
  }
  return r;
}

/**
 * Registers the factory of the root context for Envoy root_id `rootId` ("" = any root id). Call it
 * from the entry file's top level (it runs in _initialize, before any context exists).
 */
export function registerRootContext(factory: RootContextFactory, rootId: string = ""): void {
  installedRegistry().registrations.push(new RootRegistration(rootId, factory));
}

/** Number of live root and HTTP contexts (for leak checks in tests). */
export function liveContextCount(): i32 {
  const r = registry;
  return r === null ? 0 : r.roots.size + r.streams.size;
}
