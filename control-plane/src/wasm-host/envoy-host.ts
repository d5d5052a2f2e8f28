// The emulated Envoy around one proxy-wasm HTTP filter plugin: a base VM, a configuration canary,
// N worker VMs (one per Envoy worker thread) sharing shared data, shared queues and stats, a
// controllable clock with ticks, HTTP callouts answered by the test, and plugin reconfiguration.
// See index.ts for the contract.
import { readFile } from 'node:fs/promises';
import { LOG_LEVEL_NAMES, LogLevel, type LogLevelName } from './abi-types.js';
import { toBytes, utf8, type BytesInput } from './bytes.js';
import { EmulatorError } from './errors.js';
import { HttpStream, type StreamOptions, type StreamPolicy } from './http-stream.js';
import type { HeaderPair } from './pairs.js';
import { mergeValues, propertyTree, type PropertyInput, type PropertyValue } from './properties.js';
import { RootContextState, type PluginIdentity } from './root-context.js';
import { MetricStore, SharedDataStore, SharedQueueStore, type MetricSnapshot } from './stores.js';
import { WasmVm, type ForeignFunction, type HttpCallRequest, type LogEntry, type VmEnvironment } from './vm.js';

export interface EnvoyHostOptions {
  /** The module: bytes or a file path. */
  readonly wasm: Uint8Array | string;
  /** Plugin configuration (Envoy `configuration`, Istio WasmPlugin `pluginConfig`). Default ''. */
  readonly pluginConfig?: BytesInput;
  /** VM configuration (vm_config.configuration). Default ''. */
  readonly vmConfig?: BytesInput;
  /** Plugin root_id (served as plugin_root_id). Default ''. */
  readonly rootId?: string;
  /** vm_id: shared data and queues are scoped by it. Default ''. */
  readonly vmId?: string;
  /** Plugin name (served as plugin_name). Default 'meshward'. */
  readonly pluginName?: string;
  /** Worker VMs (Envoy worker threads). Default 1. */
  readonly workers?: number;
  /** Envoy's log level (what proxy_get_log_level returns, and the emit threshold). Default 'info'. */
  readonly logLevel?: LogLevelName;
  /** Per-stream buffer limit (per_connection_buffer_limit_bytes). Default 1 MiB. */
  readonly bufferLimitBytes?: number;
  /** PluginConfig allow_on_headers_stop_iteration. Default false. */
  readonly allowOnHeadersStopIteration?: boolean;
  /** PluginConfig fail_open: traffic passes when the VM has failed. Default false (503). */
  readonly failOpen?: boolean;
  /**
   * PluginConfig failure_policy (newer Envoy): 'fail_closed' (503, the default), 'fail_open'
   * (same as failOpen: true) or 'fail_reload': after a runtime error the next stream on that worker
   * gets a fresh VM (instantiate, vm_start, configure) once `reloadBackoffMs` (default 1000, Envoy's
   * 1 s base interval) have passed since the failure; before that, and if the reload fails, streams
   * fail closed.
   */
  readonly failurePolicy?: 'fail_closed' | 'fail_open' | 'fail_reload';
  /** Backoff before a fail_reload VM reload. Default 1000 ms. */
  readonly reloadBackoffMs?: number;
  /**
   * HttpConnectionManager generate_request_id: the connection manager adds an x-request-id (UUID)
   * to requests without one before any filter runs. Default true, as in Envoy.
   */
  readonly generateRequestId?: boolean;
  /** Initial wall-clock time in ns since the epoch. Default: Date.now() at creation. */
  readonly startTimeNanos?: bigint;
  /** Clusters proxy_http_call may target (others are BadArgument). Default none. */
  readonly clusters?: readonly string[];
  /** Host-wide properties (xds.*, node, ...), dotted keys or nested objects. */
  readonly properties?: Readonly<Record<string, PropertyInput>>;
  /** Environment variables served through WASI environ_get. Default none. */
  readonly envs?: Readonly<Record<string, string>>;
  /** Foreign functions served through proxy_call_foreign_function. */
  readonly foreignFunctions?: Readonly<Record<string, ForeignFunction>>;
}

/** An outgoing proxy_http_call waiting for the test to answer it. */
export interface PendingHttpCall extends HttpCallRequest {
  /** Delivers a response to proxy_on_http_call_response. */
  respond(response: { headers: readonly HeaderPair[]; body?: BytesInput; trailers?: readonly HeaderPair[] }): void;
  /** Fails the call: proxy_on_http_call_response(token, 0, 0, 0) with status BrokenConnection "reset". */
  fail(): void;
  readonly answered: boolean;
}

export interface Worker {
  readonly index: number;
  /** Creates an HTTP stream on this worker (proxy_on_context_create(id, rootId)). */
  newStream(options?: StreamOptions): HttpStream;
  /** The root context currently serving new streams. */
  readonly rootContextId: number;
  /** The VM trapped; later streams follow the failure policy. */
  readonly failed: boolean;
  readonly failure: string | undefined;
  /** Current linear memory size of this worker's VM. */
  readonly memoryBytes: number;
  /** VMs this worker has run (1 + reloads after failures / reconfiguration of a failed VM). */
  readonly vmGeneration: number;
  /** Streams created on this worker that were not completed. */
  readonly openStreams: readonly HttpStream[];
  /** A copy of guest linear memory [ptr, ptr+length) (for tests of hand-written guests). */
  readGuestMemory(ptr: number, length: number): Uint8Array;
}

export interface MetricsView {
  /** Counter or gauge value by name (undefined when never defined). */
  get(name: string): bigint | undefined;
  /** Histogram samples by name. */
  samples(name: string): readonly bigint[];
  find(name: string): MetricSnapshot | undefined;
  all(): MetricSnapshot[];
}

export interface SharedDataView {
  get(key: string): { value: Uint8Array; text: string; cas: number } | undefined;
  /** Writes as another Envoy component would (CAS 0). */
  set(key: string, value: BytesInput): void;
  keys(): string[];
}

export interface ConfigureResult {
  readonly accepted: boolean;
  /** Why the canary rejected it (on_configure returned false, or the VM trapped). */
  readonly error?: string;
}

export interface EnvoyHost {
  readonly workers: readonly Worker[];
  worker(index: number): Worker;
  /** A stream on worker 0 (shorthand for worker(0).newStream). */
  newStream(options?: StreamOptions): HttpStream;
  /** The plugin configuration now serving. */
  readonly pluginConfig: string;
  /**
   * A config change, as Envoy applies it: a canary VM configures the new plugin first; if it is
   * rejected nothing changes. Otherwise every worker VM (same VM, same memory) gets a NEW root
   * context (context_create, vm_start, configure); open streams stay on the old root, which is
   * retired (on_done, on_delete) once its last stream completes.
   */
  reconfigure(pluginConfig: BytesInput): ConfigureResult;
  readonly metrics: MetricsView;
  readonly logs: readonly LogEntry[];
  /** Log messages at `level` or above (all sources). */
  logsAtLeast(level: LogLevelName): string[];
  clearLogs(): void;
  setLogLevel(level: LogLevelName): void;
  readonly sharedData: SharedDataView;
  readonly httpCalls: readonly PendingHttpCall[];
  /** Current host time (ns since epoch). */
  now(): bigint;
  /** Advances the clock, firing due proxy_on_tick callbacks in time order. */
  advanceTime(ms: number): void;
  /** Plugin shutdown: on_done then on_delete for every root context. */
  shutdown(): void;
}

const DEFAULT_BUFFER_LIMIT = 1024 * 1024;

class WorkerImpl implements Worker {
  root!: RootContextState;
  roots = new Map<number, { root: RootContextState; streams: Set<HttpStream>; retiring: boolean }>();
  private readonly streams = new Set<HttpStream>();
  vmGeneration = 1;
  failedAtNs: bigint | undefined;

  constructor(
    readonly index: number,
    public vm: WasmVm,
    private readonly host: Host,
  ) {}

  /** Switches to a fresh VM started with `configuration` (cpp-host recreates a failed local VM). */
  replaceVm(configuration: Uint8Array): boolean {
    let vm: WasmVm;
    try {
      vm = this.host.newVm(this.index);
    } catch {
      return false;
    }
    const started = this.host.startPlugin(vm, configuration);
    if (!started.root) return false;
    this.vm = vm;
    this.vmGeneration++;
    this.failedAtNs = undefined;
    this.root = started.root;
    this.roots = new Map([[started.root.id, { root: started.root, streams: new Set(), retiring: false }]]);
    return true;
  }

  get rootContextId(): number {
    return this.root.id;
  }
  get failed(): boolean {
    return this.vm.failed;
  }
  get failure(): string | undefined {
    return this.vm.failure;
  }
  get memoryBytes(): number {
    return this.vm.memoryBytes();
  }
  get openStreams(): readonly HttpStream[] {
    return [...this.streams].filter((s) => !s.isComplete);
  }

  readGuestMemory(ptr: number, length: number): Uint8Array {
    const bytes = this.vm.read(ptr, length);
    if (bytes === null) throw new EmulatorError('INVALID_USAGE', `guest memory [${ptr}, ${ptr + length}) is out of bounds`);
    return bytes;
  }

  newStream(options: StreamOptions = {}): HttpStream {
    this.host.maybeReload(this);
    const id = this.vm.allocContextId();
    const root = this.root;
    const props = new Map(this.host.hostProperties);
    for (const [k, v] of propertyTree(options.properties)) props.set(k, mergeValues(props.get(k), v));
    const entry = this.roots.get(root.id)!;
    const stream: HttpStream = new HttpStream(this.vm, id, root.id, root.plugin, this.host.policy, props, options.protocol ?? 'HTTP/1.1', () => {
      this.streams.delete(stream);
      entry.streams.delete(stream);
      if (entry.retiring && entry.streams.size === 0) this.host.retireRoot(this, root.id);
    });
    this.vm.registerContext(stream);
    entry.streams.add(stream);
    this.streams.add(stream);
    // Context::onCreate: proxy_on_context_create(stream, root) unless the VM has failed.
    if (!this.vm.failed) this.vm.invoke('proxy_on_context_create', stream, [id, root.id]);
    return stream;
  }
}

class Host implements EnvoyHost {
  readonly sharedStore = new SharedDataStore();
  readonly queues = new SharedQueueStore();
  readonly metricStore = new MetricStore();
  readonly logEntries: LogEntry[] = [];
  readonly calls: PendingHttpCall[] = [];
  readonly workerList: WorkerImpl[] = [];
  readonly hostProperties: ReadonlyMap<string, PropertyValue>;
  readonly policy: StreamPolicy;
  private level: number;
  private clock: bigint;
  private readonly monotonicStart: bigint;
  private readonly posted: (() => void)[] = [];
  private draining = false;
  private currentConfig: Uint8Array;
  private pluginSerial = 0;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly options: EnvoyHostOptions,
  ) {
    this.level = LOG_LEVEL_NAMES.indexOf(options.logLevel ?? 'info');
    this.clock = options.startTimeNanos ?? BigInt(Date.now()) * 1_000_000n;
    this.monotonicStart = this.clock;
    this.hostProperties = propertyTree(options.properties);
    this.policy = {
      allowOnHeadersStopIteration: options.allowOnHeadersStopIteration ?? false,
      failOpen: (options.failOpen ?? false) || options.failurePolicy === 'fail_open',
      bufferLimitBytes: options.bufferLimitBytes ?? DEFAULT_BUFFER_LIMIT,
      generateRequestId: options.generateRequestId ?? true,
    };
    this.currentConfig = toBytes(options.pluginConfig ?? '');
  }

  // VmEnvironment shared by all VMs -----------------------------------------------------------

  environment(): VmEnvironment {
    const host = this;
    return {
      vmId: this.options.vmId ?? '',
      vmConfiguration: toBytes(this.options.vmConfig ?? ''),
      sharedData: this.sharedStore,
      queues: this.queues,
      metrics: this.metricStore,
      envs: this.options.envs ?? {},
      nowNanos: () => host.clock,
      monotonicNanos: () => host.clock - host.monotonicStart,
      logLevel: () => host.level,
      emitLog: (entry) => host.logEntries.push(entry),
      isKnownCluster: (name) => (host.options.clusters ?? []).includes(name),
      onHttpCall: (call) => host.recordHttpCall(call),
      foreignFunction: (name) => host.options.foreignFunctions?.[name],
      post: (task) => host.posted.push(task),
      drainPosted: () => host.drain(),
    };
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.posted.length > 0) this.posted.shift()!();
    } finally {
      this.draining = false;
    }
  }

  private envoyLog(level: number, message: string, worker = -1): void {
    if (level < this.level) return;
    this.logEntries.push({ level, levelName: LOG_LEVEL_NAMES[level] ?? String(level), message, source: 'envoy', worker, contextId: 0 });
  }

  private plugin(configuration: Uint8Array): PluginIdentity {
    return {
      name: this.options.pluginName ?? 'meshward',
      rootId: this.options.rootId ?? '',
      vmId: this.options.vmId ?? '',
      configuration,
    };
  }

  /** A new VM clone: instantiate + _initialize. */
  newVm(worker: number): WasmVm {
    const vm = new WasmVm(worker, this.environment());
    if (!vm.instantiate(this.module)) {
      throw new EmulatorError('PLUGIN_START_FAILED', `Failed to initialize Wasm code: ${vm.failure ?? 'start-up trapped'}`);
    }
    return vm;
  }

  /** FAIL_RELOAD: a failed worker VM is replaced on the next stream after the backoff. */
  maybeReload(worker: WorkerImpl): void {
    if (!worker.vm.failed || this.options.failurePolicy !== 'fail_reload') return;
    worker.failedAtNs ??= this.clock;
    const backoff = BigInt(Math.round((this.options.reloadBackoffMs ?? 1000) * 1e6));
    if (this.clock - worker.failedAtNs < backoff) return;
    if (worker.replaceVm(this.currentConfig)) {
      this.envoyLog(LogLevel.Info, `wasm: reloaded the VM of worker ${worker.index} after a runtime error`, worker.index);
    } else {
      worker.failedAtNs = this.clock;
    }
  }

  /** WasmBase::start + configure on `vm`; returns the root or an error. */
  startPlugin(vm: WasmVm, configuration: Uint8Array): { root?: RootContextState; error?: string } {
    const root = new RootContextState(vm, vm.allocContextId(), this.plugin(configuration), this.hostProperties);
    vm.registerContext(root);
    vm.invoke('proxy_on_context_create', root, [root.id, 0]);
    if (vm.failed) return { error: `proxy_on_context_create trapped: ${vm.failure}` };
    const vmStart = vm.invoke('proxy_on_vm_start', root, [root.id, vm.env.vmConfiguration.length]);
    if (vm.failed) return { error: `proxy_on_vm_start trapped: ${vm.failure}` };
    if (vmStart.ran && vmStart.value === 0) return { error: 'Failed to start base Wasm (proxy_on_vm_start returned false)' };
    root.configuring = true;
    const configure = vm.invoke('proxy_on_configure', root, [root.id, configuration.length]);
    root.configuring = false;
    if (vm.failed) return { error: `proxy_on_configure trapped: ${vm.failure}` };
    if (configure.ran && configure.value === 0) return { error: 'Failed to configure base Wasm plugin (proxy_on_configure returned false)' };
    return { root };
  }

  start(): void {
    const workers = this.options.workers ?? 1;
    // Base VM (initialized, never gets contexts), then the canary, then one VM per worker.
    this.newVm(-1);
    const canary = this.newVm(-1);
    const result = this.startPlugin(canary, this.currentConfig);
    if (result.error) {
      this.envoyLog(LogLevel.Critical, `wasm: plugin start failed: ${result.error}`);
      const guestLogs = this.logEntries.filter((e) => e.level >= LogLevel.Warn).map((e) => `[${e.levelName}] ${e.message}`);
      const err = new EmulatorError('PLUGIN_START_FAILED', `${result.error}${guestLogs.length ? `\n${guestLogs.join('\n')}` : ''}`);
      (err as EmulatorError & { logs: readonly LogEntry[] }).logs = [...this.logEntries];
      throw err;
    }
    for (let i = 0; i < workers; i++) {
      const vm = this.newVm(i);
      const worker = new WorkerImpl(i, vm, this);
      const started = this.startPlugin(vm, this.currentConfig);
      if (!started.root) throw new EmulatorError('PLUGIN_START_FAILED', `worker ${i}: ${started.error}`);
      worker.root = started.root;
      worker.roots.set(started.root.id, { root: started.root, streams: new Set(), retiring: false });
      this.workerList.push(worker);
    }
  }

  // EnvoyHost ----------------------------------------------------------------------------------

  get workers(): readonly Worker[] {
    return this.workerList;
  }

  worker(index: number): Worker {
    const w = this.workerList[index];
    if (!w) throw new EmulatorError('INVALID_USAGE', `no worker ${index} (workers: ${this.workerList.length})`);
    return w;
  }

  newStream(options?: StreamOptions): HttpStream {
    return this.worker(0).newStream(options);
  }

  get pluginConfig(): string {
    return utf8(this.currentConfig);
  }

  reconfigure(pluginConfig: BytesInput): ConfigureResult {
    const configuration = toBytes(pluginConfig);
    this.pluginSerial++;
    let canary: WasmVm;
    try {
      canary = this.newVm(-1);
    } catch (e) {
      return { accepted: false, error: (e as Error).message };
    }
    const result = this.startPlugin(canary, configuration);
    if (result.error) {
      this.envoyLog(LogLevel.Warn, `wasm: configuration rejected: ${result.error}`);
      return { accepted: false, error: result.error };
    }
    this.currentConfig = configuration;
    for (const worker of this.workerList) {
      if (worker.vm.failed) {
        // cpp-host dropped the failed thread-local VM: the new plugin gets a fresh one.
        if (!worker.replaceVm(configuration)) {
          this.envoyLog(LogLevel.Critical, `wasm: Failed to start a new VM for worker ${worker.index}`);
        }
        continue;
      }
      const started = this.startPlugin(worker.vm, configuration);
      if (!started.root) {
        this.envoyLog(LogLevel.Critical, `wasm: Failed to configure thread-local Wasm plugin on worker ${worker.index}: ${started.error}`);
        continue;
      }
      const old = worker.root;
      worker.root = started.root;
      worker.roots.set(started.root.id, { root: started.root, streams: new Set(), retiring: false });
      const oldEntry = worker.roots.get(old.id);
      if (oldEntry) {
        oldEntry.retiring = true;
        if (oldEntry.streams.size === 0) this.retireRoot(worker, old.id);
      }
    }
    return { accepted: true };
  }

  /** WasmBase::startShutdown(plugin key): on_done, then on_delete now or after proxy_done. */
  retireRoot(worker: WorkerImpl, rootId: number): void {
    const entry = worker.roots.get(rootId);
    if (!entry) return;
    worker.roots.delete(rootId);
    const vm = worker.vm;
    const root = entry.root;
    const deleteRoot = (): void => {
      if (!vm.failed) vm.invoke('proxy_on_delete', root, [root.id]);
      vm.ticks.delete(root.id);
      vm.unregisterContext(root.id);
    };
    if (vm.failed) {
      deleteRoot();
      return;
    }
    const done = vm.invoke('proxy_on_done', root, [root.id]);
    if (!done.ran || done.value !== 0) deleteRoot();
    else vm.awaitDone(root.id, deleteRoot);
  }

  shutdown(): void {
    for (const worker of this.workerList) {
      for (const rootId of [...worker.roots.keys()]) this.retireRoot(worker, rootId);
    }
  }

  get metrics(): MetricsView {
    const store = this.metricStore;
    return {
      get: (name) => {
        const m = store.find(name);
        return m && m.kind !== 'histogram' ? m.value : undefined;
      },
      samples: (name) => store.find(name)?.samples ?? [],
      find: (name) => store.find(name),
      all: () => store.all(),
    };
  }

  get logs(): readonly LogEntry[] {
    return this.logEntries;
  }

  logsAtLeast(level: LogLevelName): string[] {
    const min = LOG_LEVEL_NAMES.indexOf(level);
    return this.logEntries.filter((e) => e.level >= min).map((e) => e.message);
  }

  clearLogs(): void {
    this.logEntries.length = 0;
  }

  setLogLevel(level: LogLevelName): void {
    this.level = LOG_LEVEL_NAMES.indexOf(level);
  }

  get sharedData(): SharedDataView {
    const vmId = this.options.vmId ?? '';
    const store = this.sharedStore;
    return {
      get: (key) => {
        const e = store.get(vmId, key);
        return e ? { value: e.value, text: utf8(e.value), cas: e.cas } : undefined;
      },
      set: (key, value) => {
        store.set(vmId, key, toBytes(value), 0);
      },
      keys: () => store.keys(vmId),
    };
  }

  get httpCalls(): readonly PendingHttpCall[] {
    return this.calls;
  }

  private recordHttpCall(call: HttpCallRequest): void {
    const host = this;
    let answered = false;
    const deliver = (response: { headers: HeaderPair[]; body: Uint8Array; trailers: HeaderPair[]; statusCode: number; statusMessage: string }, counts: [number, number, number]) => {
      if (answered) throw new EmulatorError('INVALID_USAGE', `HTTP call ${call.token} was already answered`);
      answered = true;
      const worker = host.workerList[call.worker];
      if (!worker) return;
      const vm = worker.vm;
      const rootId = vm.takeHttpCall(call.token);
      const root = rootId === undefined ? undefined : vm.getContext(rootId);
      if (!root || vm.failed) return;
      vm.httpCallResponse = response;
      try {
        vm.invoke('proxy_on_http_call_response', root, [root.id, call.token, ...counts]);
      } finally {
        vm.httpCallResponse = null;
      }
    };
    this.calls.push({
      ...call,
      get answered() {
        return answered;
      },
      respond(response) {
        const headers = response.headers.map(([k, v]) => [k.toLowerCase(), v] as const);
        const body = toBytes(response.body ?? '');
        const trailers = [...(response.trailers ?? [])];
        deliver({ headers, body, trailers, statusCode: 0, statusMessage: '' }, [headers.length, body.length, trailers.length]);
      },
      fail() {
        deliver({ headers: [], body: new Uint8Array(0), trailers: [], statusCode: 11, statusMessage: 'reset' }, [0, 0, 0]);
      },
    });
  }

  now(): bigint {
    return this.clock;
  }

  advanceTime(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new EmulatorError('INVALID_USAGE', `advanceTime(${ms}): milliseconds must be a finite number >= 0`);
    const target = this.clock + BigInt(Math.round(ms * 1e6));
    for (;;) {
      let next: { worker: WorkerImpl; rootId: number; at: bigint } | undefined;
      for (const worker of this.workerList) {
        for (const [rootId, tick] of worker.vm.ticks) {
          if (tick.nextNs <= target && (!next || tick.nextNs < next.at)) next = { worker, rootId, at: tick.nextNs };
        }
      }
      if (!next) break;
      this.clock = next.at;
      const tick = next.worker.vm.ticks.get(next.rootId)!;
      tick.nextNs = next.at + tick.periodNs;
      const root = next.worker.vm.getContext(next.rootId);
      if (root && !next.worker.vm.failed) next.worker.vm.invoke('proxy_on_tick', root, [next.rootId]);
    }
    this.clock = target;
  }
}

/**
 * Compiles the module and starts the plugin the way Envoy does (base VM, canary configure, then
 * every worker). Rejects with EmulatorError LINK_FAILED (module would not link in Envoy) or
 * PLUGIN_START_FAILED (vm_start/configure returned false or trapped; the message carries the
 * guest's warn+ log lines and `error.logs` all of them).
 */
export async function createEnvoyHost(options: EnvoyHostOptions): Promise<EnvoyHost> {
  if (options.workers !== undefined && (!Number.isInteger(options.workers) || options.workers < 1)) {
    throw new EmulatorError('INVALID_OPTION', `workers: must be an integer >= 1, got ${String(options.workers)}`);
  }
  if (options.bufferLimitBytes !== undefined && (!Number.isInteger(options.bufferLimitBytes) || options.bufferLimitBytes < 0)) {
    throw new EmulatorError('INVALID_OPTION', `bufferLimitBytes: must be an integer >= 0, got ${String(options.bufferLimitBytes)}`);
  }
  if (options.failurePolicy !== undefined && !['fail_closed', 'fail_open', 'fail_reload'].includes(options.failurePolicy)) {
    throw new EmulatorError('INVALID_OPTION', `failurePolicy: must be fail_closed, fail_open or fail_reload, got ${String(options.failurePolicy)}`);
  }
  if (options.logLevel !== undefined && !LOG_LEVEL_NAMES.includes(options.logLevel)) {
    throw new EmulatorError('INVALID_OPTION', `logLevel: must be one of ${LOG_LEVEL_NAMES.join(', ')}, got ${String(options.logLevel)}`);
  }
  const bytes = typeof options.wasm === 'string' ? new Uint8Array(await readFile(options.wasm)) : options.wasm;
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes);
  } catch (e) {
    throw new EmulatorError('LINK_FAILED', `Failed to load Wasm module: ${(e as Error).message}`, { cause: e });
  }
  const host = new Host(module, options);
  host.start();
  return host;
}
