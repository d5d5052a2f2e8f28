// One Wasm VM (one Envoy worker thread's instance of the plugin module) and the host functions it
// imports. Semantics follow proxy-wasm-cpp-host src/exports.cc, src/wasm.cc and Envoy's
// source/extensions/common/wasm/context.cc; each deviation is named in the doc comments.
//
// Calls into the guest go through `invoke`, which models cpp-host's DeferAfterCallActions: actions
// a host call defers (local replies, continue/close stream) run when the outermost guest call
// returns, and a send_local_response makes the callback's own return value "stop".
import {
  BUFFER_TYPE_MAX,
  LogLevel,
  MAP_TYPE_MAX,
  METRIC_ID_INCREMENT,
  METRIC_TYPE_MASK,
  METRIC_TYPE_MAX,
  MetricType,
  STREAM_TYPE_MAX,
  WasiErrno,
  WasmResult,
  type WasmResultCode,
} from './abi-types.js';
import { EMPTY_BYTES, concatBytes, encodeUtf8, utf8 } from './bytes.js';
import type { HostContext } from './context.js';
import { EmulatorError } from './errors.js';
import { decodePairs, encodePairs, type HeaderPair } from './pairs.js';
import { splitPath } from './properties.js';
import type { MetricKind, MetricStore, QueueOwner, SharedDataStore, SharedQueueStore } from './stores.js';

/** Envoy's cap on a Wasm VM's linear memory (PROXY_WASM_HOST_MAX_WASM_MEMORY_SIZE_BYTES). */
export const MAX_WASM_MEMORY_BYTES = 1024 * 1024 * 1024;
/** Largest random_get request Envoy serves. */
export const RANDOM_GET_MAX_BYTES = 64 * 1024;

export interface LogEntry {
  readonly level: number;
  readonly levelName: string;
  readonly message: string;
  /** proxy_log, stdout/stderr through fd_write, or the emulated Envoy itself. */
  readonly source: 'proxy_log' | 'stdout' | 'stderr' | 'envoy';
  readonly worker: number;
  readonly contextId: number;
}

export interface HttpCallRequest {
  readonly worker: number;
  readonly rootContextId: number;
  readonly token: number;
  readonly cluster: string;
  readonly headers: readonly HeaderPair[];
  readonly body: Uint8Array;
  readonly trailers: readonly HeaderPair[];
  readonly timeoutMs: number;
}

export type ForeignFunction = (args: Uint8Array) => { status?: WasmResultCode; result?: Uint8Array };

/** What a VM needs from the emulated Envoy around it. */
export interface VmEnvironment {
  readonly vmId: string;
  readonly vmConfiguration: Uint8Array;
  readonly sharedData: SharedDataStore;
  readonly queues: SharedQueueStore;
  readonly metrics: MetricStore;
  readonly envs: Readonly<Record<string, string>>;
  nowNanos(): bigint;
  monotonicNanos(): bigint;
  logLevel(): number;
  emitLog(entry: LogEntry): void;
  isKnownCluster(name: string): boolean;
  onHttpCall(call: HttpCallRequest): void;
  foreignFunction(name: string): ForeignFunction | undefined;
  /** Schedules work that Envoy would post to a thread's dispatcher (run after the current call). */
  post(task: () => void): void;
  /** Runs posted work (called when an outermost guest call returns). */
  drainPosted(): void;
}

export interface InvokeResult {
  /** The callback's return value (undefined when the export is missing, the VM failed or trapped). */
  readonly value: number | undefined;
  /** The export exists and ran to completion. */
  readonly ran: boolean;
  /** A send_local_response during the call forces the callback's status to "stop". */
  readonly stopIteration: boolean;
  /** The VM was already failed or failed during this call. */
  readonly failed: boolean;
}

const ALLOWED_DURING_START = new Set([
  'proxy_log',
  'emscripten_notify_memory_growth',
  // every WASI function is allowed while _initialize / main run (wasm.cc startVm)
]);

type AnyFn = (...args: never[]) => unknown;

/** The VM context (id 0) that host calls made during _initialize run against. */
class VmContext implements HostContext {
  readonly id = 0;
  readonly kind = 'root' as const;
  readonly rootContextId = 0;
  readonly accessLogPhase = false;
  mutableMap(): null {
    return null;
  }
  constMap(): null {
    return null;
  }
  buffer(): null {
    return null;
  }
  getProperty(): { status: WasmResultCode } {
    return { status: WasmResult.NotFound };
  }
  setProperty(): WasmResultCode {
    return WasmResult.NotFound;
  }
  sendLocalResponse(): WasmResultCode {
    return WasmResult.Ok;
  }
  continueStream(): WasmResultCode {
    return WasmResult.Ok;
  }
  closeStream(): WasmResultCode {
    return WasmResult.Ok;
  }
}

export class WasmVm {
  readonly worker: number;
  readonly env: VmEnvironment;
  private instance!: WebAssembly.Instance;
  private memory!: WebAssembly.Memory;
  private readonly contexts = new Map<number, HostContext>();
  private readonly vmContext = new VmContext();
  private nextContextId = 1;
  private current: HostContext | null = null;
  private effectiveContextId = 0;
  private depth = 0;
  private starting = false;
  private stopIteration = false;
  private readonly afterCall: (() => void)[] = [];
  private readonly metricIds = new Map<number, { name: string; kind: MetricKind }>();
  private nextMetricId = {
    counter: MetricType.Counter as number,
    gauge: MetricType.Gauge as number,
    histogram: MetricType.Histogram as number,
  };
  private nextHttpCallToken = 0;
  /** Root context id -> tick timer (period and next firing time, in ns of the host clock). */
  readonly ticks = new Map<number, { periodNs: bigint; nextNs: bigint }>();
  /** Root context id -> HTTP call tokens it owns. */
  private readonly pendingHttpCalls = new Map<number, number>();
  /** Set while proxy_on_http_call_response runs: what get_status and the call maps/buffer return. */
  httpCallResponse: { headers: HeaderPair[]; body: Uint8Array; trailers: HeaderPair[]; statusCode: number; statusMessage: string } | null =
    null;
  /** Foreign-function arguments while proxy_on_foreign_function runs (CallData buffer). */
  callData: Uint8Array | null = null;
  failed = false;
  failure: string | undefined;

  constructor(worker: number, env: VmEnvironment) {
    this.worker = worker;
    this.env = env;
  }

  /**
   * Instantiates the module with Envoy's imports and runs _initialize (then main/__main_void) or
   * _start. Throws LINK_FAILED when Envoy would refuse the module; returns false when start-up
   * trapped (the VM is then failed).
   */
  instantiate(module: WebAssembly.Module): boolean {
    const exportNames = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    if (!exportNames.has('proxy_abi_version_0_2_1') && !exportNames.has('proxy_abi_version_0_2_0')) {
      throw new EmulatorError(
        'LINK_FAILED',
        exportNames.has('proxy_abi_version_0_1_0')
          ? 'ABI 0.1.0 modules are not supported by this emulator'
          : 'Missing or unknown Proxy-Wasm ABI version (no proxy_abi_version_0_2_1 export)',
      );
    }
    if (!exportNames.has('malloc') && !exportNames.has('proxy_on_memory_allocate')) {
      throw new EmulatorError('LINK_FAILED', 'Wasm module is missing malloc function (no malloc or proxy_on_memory_allocate export)');
    }
    const abi021 = exportNames.has('proxy_abi_version_0_2_1');
    const imports = this.buildImports(abi021);
    for (const imp of WebAssembly.Module.imports(module)) {
      const ns = imports[imp.module];
      if (!ns || !(imp.name in ns)) {
        throw new EmulatorError('LINK_FAILED', `Envoy does not provide import ${imp.module}.${imp.name} (${imp.kind})`);
      }
    }
    try {
      this.instance = new WebAssembly.Instance(module, imports as WebAssembly.Imports);
    } catch (e) {
      throw new EmulatorError('LINK_FAILED', `instantiation failed: ${(e as Error).message}`, { cause: e });
    }
    const mem = this.instance.exports['memory'];
    if (!(mem instanceof WebAssembly.Memory)) throw new EmulatorError('LINK_FAILED', 'module exports no memory');
    this.memory = mem;
    this.starting = true;
    try {
      const ex = this.instance.exports as Record<string, AnyFn | undefined>;
      if (ex['_initialize']) {
        if (!this.invoke('_initialize', this.vmContext, []).ran) return false;
        if (ex['main']) {
          if (!this.invoke('main', this.vmContext, [0, 0]).ran) return false;
        } else if (ex['__main_void']) {
          if (!this.invoke('__main_void', this.vmContext, []).ran) return false;
        }
      } else if (ex['_start']) {
        if (!this.invoke('_start', this.vmContext, []).ran) return false;
      }
    } finally {
      this.starting = false;
    }
    return true;
  }

  hasExport(name: string): boolean {
    return typeof (this.instance.exports as Record<string, unknown>)[name] === 'function';
  }

  /** Envoy's allocContextId: ids start at 1 and are never reused. */
  allocContextId(): number {
    while (this.contexts.has(this.nextContextId) || this.nextContextId === 0) this.nextContextId++;
    return this.nextContextId++;
  }

  registerContext(context: HostContext): void {
    this.contexts.set(context.id, context);
  }

  unregisterContext(id: number): void {
    this.contexts.delete(id);
  }

  getContext(id: number): HostContext | undefined {
    return this.contexts.get(id);
  }

  /** Calls a guest export as a callback of `context`. */
  invoke(name: string, context: HostContext, args: readonly (number | bigint)[]): InvokeResult {
    if (this.failed) return { value: undefined, ran: false, stopIteration: false, failed: true };
    const fn = (this.instance.exports as Record<string, AnyFn | undefined>)[name];
    if (typeof fn !== 'function') return { value: undefined, ran: false, stopIteration: false, failed: false };
    const savedCurrent = this.current;
    const savedEffective = this.effectiveContextId;
    this.current = context;
    this.effectiveContextId = 0;
    this.depth++;
    let value: number | undefined;
    let ran = false;
    try {
      const raw = (fn as (...a: (number | bigint)[]) => unknown)(...args);
      value = typeof raw === 'number' ? raw >>> 0 : typeof raw === 'bigint' ? Number(BigInt.asUintN(32, raw)) : undefined;
      ran = true;
      if (this.memory.buffer.byteLength > MAX_WASM_MEMORY_BYTES) {
        this.fail(`${name}: linear memory exceeds Envoy's 1 GiB limit`);
        ran = false;
      }
    } catch (e) {
      if (e instanceof EmulatorError) throw e;
      if (!(e instanceof WebAssembly.RuntimeError) && !(e instanceof RangeError) && !(e instanceof GuestTrap)) throw e;
      this.fail(`Function: ${name} failed: ${(e as Error).message}`);
    } finally {
      this.depth--;
      this.current = savedCurrent;
      this.effectiveContextId = savedEffective;
    }
    const stopIteration = this.stopIteration;
    if (this.depth === 0) {
      this.stopIteration = false;
      this.runAfterCallActions();
      this.env.drainPosted();
    }
    return { value: ran ? value : undefined, ran, stopIteration, failed: this.failed };
  }

  private runAfterCallActions(): void {
    while (this.afterCall.length > 0) {
      const action = this.afterCall.shift()!;
      action();
    }
  }

  /** Defers `action` until the outermost guest call returns (cpp-host addAfterVmCallAction). */
  deferAfterCall(action: () => void): void {
    if (this.depth === 0) action();
    else this.afterCall.push(action);
  }

  fail(message: string): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = message;
    this.env.emitLog({ level: LogLevel.Critical, levelName: 'critical', message, source: 'envoy', worker: this.worker, contextId: this.current?.id ?? 0 });
  }

  // --------------------------------------------------------------------------------------------
  // Memory

  private view(): DataView {
    return new DataView(this.memory.buffer);
  }

  private inBounds(ptr: number, size: number): boolean {
    return ptr + size <= this.memory.buffer.byteLength;
  }

  /** Guest bytes (a copy), or null when out of bounds. */
  read(ptr: number, size: number): Uint8Array | null {
    ptr >>>= 0;
    size >>>= 0;
    if (!this.inBounds(ptr, size)) return null;
    return new Uint8Array(this.memory.buffer, ptr, size).slice();
  }

  readString(ptr: number, size: number): string | null {
    ptr >>>= 0;
    size >>>= 0;
    if (!this.inBounds(ptr, size)) return null;
    return size === 0 ? '' : utf8(new Uint8Array(this.memory.buffer, ptr, size));
  }

  setU32(ptr: number, value: number): boolean {
    ptr >>>= 0;
    if (!this.inBounds(ptr, 4)) return false;
    this.view().setUint32(ptr, value >>> 0, true);
    return true;
  }

  setU64(ptr: number, value: bigint): boolean {
    ptr >>>= 0;
    if (!this.inBounds(ptr, 8)) return false;
    this.view().setBigUint64(ptr, BigInt.asUintN(64, value), true);
    return true;
  }

  /** Allocates in the guest through malloc / proxy_on_memory_allocate; 0 on failure. */
  allocate(size: number): number {
    const ex = this.instance.exports as Record<string, AnyFn | undefined>;
    const fn = (ex['malloc'] ?? ex['proxy_on_memory_allocate']) as ((n: number) => number) | undefined;
    if (!fn) return 0;
    const ptr = fn(size) >>> 0;
    if (ptr === 0 || !this.inBounds(ptr, size)) return 0;
    return ptr;
  }

  /** Writes a returned value the way WasmBase::copyToPointerSize does (nothing allocated when empty). */
  copyToPointerSize(data: Uint8Array, ptrPtr: number, sizePtr: number): boolean {
    let pointer = 0;
    if (data.length > 0) {
      pointer = this.allocate(data.length);
      if (pointer === 0) return false;
      new Uint8Array(this.memory.buffer, pointer, data.length).set(data);
    }
    return this.setU32(ptrPtr, pointer) && this.setU32(sizePtr, data.length);
  }

  /** Guest memory size in bytes. */
  memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  // --------------------------------------------------------------------------------------------
  // Contexts

  /** Envoy's contextOrEffectiveContext(). */
  private ctx(): HostContext {
    const cur = this.current ?? this.vmContext;
    if (this.effectiveContextId === 0) return cur;
    return this.contexts.get(this.effectiveContextId) ?? cur;
  }

  private rootOf(context: HostContext): HostContext {
    return this.contexts.get(context.rootContextId) ?? context;
  }

  // --------------------------------------------------------------------------------------------
  // Imports

  private guard<F extends AnyFn>(module: string, name: string, fn: F): F {
    const vm = this;
    return function (this: unknown, ...args: never[]) {
      if (vm.starting && module === 'env' && !ALLOWED_DURING_START.has(name)) {
        throw new GuestTrap(`restricted_callback: ${name} called during VM start (_initialize/main)`);
      }
      return fn(...args);
    } as F;
  }

  private buildImports(abi021: boolean): Record<string, Record<string, AnyFn>> {
    const env: Record<string, AnyFn> = {};
    const add = (name: string, fn: AnyFn): void => {
      env[name] = this.guard('env', name, fn);
    };
    const p = this.proxyFunctions();
    for (const [name, fn] of Object.entries(p)) {
      if (name === 'proxy_get_log_level' && !abi021) continue;
      add(name, fn);
    }
    add('pthread_equal', (a: number, b: number) => (a === b ? 1 : 0));
    add('emscripten_notify_memory_growth', () => undefined);
    const wasi = this.wasiFunctions();
    return { env, wasi_snapshot_preview1: wasi, wasi_unstable: wasi };
  }

  private proxyFunctions(): Record<string, AnyFn> {
    const vm = this;
    const R = WasmResult;
    const u = (n: number): number => n >>> 0;
    return {
      proxy_log(level: number, ptr: number, size: number): number {
        level = u(level);
        if (level > LogLevel.Critical) return R.BadArgument;
        const message = vm.readString(ptr, size);
        if (message === null) return R.InvalidMemoryAccess;
        vm.log(level, message, 'proxy_log');
        return R.Ok;
      },
      proxy_get_log_level(out: number): number {
        return vm.setU32(out, vm.env.logLevel()) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_get_status(codeOut: number, ptrPtr: number, sizePtr: number): number {
        const call = vm.httpCallResponse;
        const code = call?.statusCode ?? 0;
        const message = call?.statusMessage ?? '';
        if (!vm.setU32(codeOut, code)) return R.InvalidMemoryAccess;
        return vm.copyToPointerSize(encodeUtf8(message), ptrPtr, sizePtr) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_set_property(pathPtr: number, pathSize: number, valuePtr: number, valueSize: number): number {
        const path = vm.readString(pathPtr, pathSize);
        const value = vm.read(valuePtr, valueSize);
        if (path === null || value === null) return R.InvalidMemoryAccess;
        return vm.ctx().setProperty(path, value);
      },
      proxy_get_property(pathPtr: number, pathSize: number, ptrPtr: number, sizePtr: number): number {
        const path = vm.readString(pathPtr, pathSize);
        if (path === null) return R.InvalidMemoryAccess;
        const segments = splitPath(path);
        if (segments.length === 0) return R.SerializationFailure;
        const result = vm.ctx().getProperty(segments);
        if (result.status !== R.Ok) return result.status;
        return vm.copyToPointerSize(result.value ?? EMPTY_BYTES, ptrPtr, sizePtr) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_send_local_response(
        status: number,
        detailsPtr: number,
        detailsSize: number,
        bodyPtr: number,
        bodySize: number,
        headersPtr: number,
        headersSize: number,
        grpcStatus: number,
      ): number {
        const details = vm.readString(detailsPtr, detailsSize);
        const body = vm.read(bodyPtr, bodySize);
        const headerBytes = vm.read(headersPtr, headersSize);
        if (details === null || body === null || headerBytes === null) return R.InvalidMemoryAccess;
        const context = vm.ctx();
        context.sendLocalResponse({ status: u(status), details, body, headers: decodePairs(headerBytes), grpcStatus: grpcStatus | 0 });
        vm.stopIteration = true;
        return R.Ok;
      },
      proxy_continue_stream(type: number): number {
        if (u(type) > STREAM_TYPE_MAX) return R.BadArgument;
        return vm.ctx().continueStream(u(type));
      },
      proxy_close_stream(type: number): number {
        if (u(type) > STREAM_TYPE_MAX) return R.BadArgument;
        return vm.ctx().closeStream(u(type));
      },
      proxy_set_effective_context(contextId: number): number {
        const id = u(contextId);
        if (!vm.contexts.has(id)) return R.BadArgument;
        vm.effectiveContextId = id;
        return R.Ok;
      },
      proxy_done(): number {
        return vm.rootDone(vm.ctx());
      },
      proxy_call_foreign_function(namePtr: number, nameSize: number, argsPtr: number, argsSize: number, resPtrPtr: number, resSizePtr: number): number {
        const name = vm.readString(namePtr, nameSize);
        if (name === null) return R.InvalidMemoryAccess;
        const args = vm.read(argsPtr, argsSize);
        if (args === null) return R.InvalidMemoryAccess;
        const fn = vm.env.foreignFunction(name);
        if (!fn) return R.NotFound;
        const out = fn(args);
        const result = out.result ?? EMPTY_BYTES;
        if (u(resPtrPtr) !== 0) {
          if (!vm.copyToPointerSize(result, resPtrPtr, resSizePtr)) return R.InvalidMemoryAccess;
        } else if (u(resSizePtr) !== 0 && !vm.setU32(resSizePtr, result.length)) {
          return R.InvalidMemoryAccess;
        }
        return out.status ?? R.Ok;
      },
      proxy_get_shared_data(keyPtr: number, keySize: number, ptrPtr: number, sizePtr: number, casPtr: number): number {
        const key = vm.readString(keyPtr, keySize);
        if (key === null) return R.InvalidMemoryAccess;
        const entry = vm.env.sharedData.get(vm.env.vmId, key);
        if (!entry) return R.NotFound;
        if (!vm.copyToPointerSize(entry.value, ptrPtr, sizePtr)) return R.InvalidMemoryAccess;
        return vm.setU32(casPtr, entry.cas) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_set_shared_data(keyPtr: number, keySize: number, valuePtr: number, valueSize: number, cas: number): number {
        const key = vm.readString(keyPtr, keySize);
        const value = vm.read(valuePtr, valueSize);
        if (key === null || value === null) return R.InvalidMemoryAccess;
        return vm.env.sharedData.set(vm.env.vmId, key, value, u(cas));
      },
      proxy_register_shared_queue(namePtr: number, nameSize: number, tokenPtr: number): number {
        const name = vm.readString(namePtr, nameSize);
        if (name === null) return R.InvalidMemoryAccess;
        const context = vm.ctx();
        const owner: QueueOwner = { notify: (token) => vm.queueReady(context.rootContextId, token) };
        const token = vm.env.queues.register(vm.env.vmId, name, owner);
        return vm.setU32(tokenPtr, token) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_resolve_shared_queue(vmIdPtr: number, vmIdSize: number, namePtr: number, nameSize: number, tokenPtr: number): number {
        const vmId = vm.readString(vmIdPtr, vmIdSize);
        const name = vm.readString(namePtr, nameSize);
        if (vmId === null || name === null) return R.InvalidMemoryAccess;
        const token = vm.env.queues.resolve(vmId === '' ? vm.env.vmId : vmId, name);
        if (token === undefined || vm.failed) return R.NotFound;
        return vm.setU32(tokenPtr, token) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_enqueue_shared_queue(token: number, valuePtr: number, valueSize: number): number {
        const value = vm.read(valuePtr, valueSize);
        if (value === null) return R.InvalidMemoryAccess;
        return vm.env.queues.enqueue(u(token), value);
      },
      proxy_dequeue_shared_queue(token: number, ptrPtr: number, sizePtr: number): number {
        const result = vm.env.queues.dequeue(u(token));
        if (result.status !== R.Ok) return result.status;
        return vm.copyToPointerSize(result.value!, ptrPtr, sizePtr) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_get_header_map_value(type: number, keyPtr: number, keySize: number, ptrPtr: number, sizePtr: number): number {
        if (u(type) > MAP_TYPE_MAX) return R.BadArgument;
        const key = vm.readString(keyPtr, keySize);
        if (key === null) return R.InvalidMemoryAccess;
        const context = vm.ctx();
        const map = context.constMap(u(type));
        if (!map) return context.accessLogPhase ? R.NotFound : R.BadArgument;
        const value = map.get(key);
        if (value === undefined) return R.NotFound;
        return vm.copyToPointerSize(encodeUtf8(value), ptrPtr, sizePtr) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_add_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
        if (u(type) > MAP_TYPE_MAX) return R.BadArgument;
        const key = vm.readString(keyPtr, keySize);
        const value = vm.readString(valuePtr, valueSize);
        if (key === null || value === null) return R.InvalidMemoryAccess;
        const map = vm.ctx().mutableMap(u(type));
        if (!map) return R.BadArgument;
        map.add(key, value);
        return R.Ok;
      },
      proxy_replace_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
        if (u(type) > MAP_TYPE_MAX) return R.BadArgument;
        const key = vm.readString(keyPtr, keySize);
        const value = vm.readString(valuePtr, valueSize);
        if (key === null || value === null) return R.InvalidMemoryAccess;
        const map = vm.ctx().mutableMap(u(type));
        if (!map) return R.BadArgument;
        map.set(key, value);
        return R.Ok;
      },
      proxy_remove_header_map_value(type: number, keyPtr: number, keySize: number): number {
        if (u(type) > MAP_TYPE_MAX) return R.BadArgument;
        const key = vm.readString(keyPtr, keySize);
        if (key === null) return R.InvalidMemoryAccess;
        const map = vm.ctx().mutableMap(u(type));
        if (!map) return R.BadArgument;
        map.remove(key);
        return R.Ok;
      },
      proxy_get_header_map_pairs(type: number, ptrPtr: number, sizePtr: number): number {
        if (u(type) > MAP_TYPE_MAX) return R.BadArgument;
        const map = vm.ctx().constMap(u(type));
        const pairs = map ? map.pairs() : [];
        if (pairs.length === 0) return vm.copyToPointerSize(EMPTY_BYTES, ptrPtr, sizePtr) ? R.Ok : R.InvalidMemoryAccess;
        return vm.copyToPointerSize(encodePairs(pairs), ptrPtr, sizePtr) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_set_header_map_pairs(type: number, ptr: number, size: number): number {
        if (u(type) > MAP_TYPE_MAX) return R.BadArgument;
        const data = vm.read(ptr, size);
        if (data === null) return R.InvalidMemoryAccess;
        const map = vm.ctx().mutableMap(u(type));
        if (!map) return R.BadArgument;
        map.replaceAll(decodePairs(data));
        return R.Ok;
      },
      proxy_get_header_map_size(type: number, out: number): number {
        if (u(type) > MAP_TYPE_MAX) return R.BadArgument;
        const map = vm.ctx().mutableMap(u(type));
        if (!map) return R.BadArgument;
        return vm.setU32(out, map.byteSize()) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_get_buffer_bytes(type: number, start: number, length: number, ptrPtr: number, sizePtr: number): number {
        if (u(type) > BUFFER_TYPE_MAX) return R.BadArgument;
        const buffer = vm.ctx().buffer(u(type));
        if (!buffer) return R.NotFound;
        let s = u(start);
        let n = u(length);
        // Word arithmetic is 64-bit in cpp-host: start + length cannot overflow here.
        const size = buffer.size();
        if (s > size) n = 0;
        else if (s + n > size) n = size - s;
        if (n === 0) return vm.setU32(ptrPtr, 0) && vm.setU32(sizePtr, 0) ? R.Ok : R.InvalidMemoryAccess;
        return vm.copyToPointerSize(buffer.read(s, n), ptrPtr, sizePtr) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_get_buffer_status(type: number, lengthPtr: number, flagsPtr: number): number {
        if (u(type) > BUFFER_TYPE_MAX) return R.BadArgument;
        const buffer = vm.ctx().buffer(u(type));
        if (!buffer) return R.NotFound;
        if (!vm.setU32(lengthPtr, buffer.size())) return R.InvalidMemoryAccess;
        return vm.setU32(flagsPtr, 0) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_set_buffer_bytes(type: number, start: number, length: number, dataPtr: number, dataSize: number): number {
        if (u(type) > BUFFER_TYPE_MAX) return R.BadArgument;
        const buffer = vm.ctx().buffer(u(type));
        if (!buffer) return R.NotFound;
        const data = vm.read(dataPtr, dataSize);
        if (data === null) return R.InvalidMemoryAccess;
        return buffer.write(u(start), u(length), data);
      },
      proxy_http_call(
        upPtr: number,
        upSize: number,
        hPtr: number,
        hSize: number,
        bPtr: number,
        bSize: number,
        tPtr: number,
        tSize: number,
        timeoutMs: number,
        tokenPtr: number,
      ): number {
        const cluster = vm.readString(upPtr, upSize);
        const body = vm.read(bPtr, bSize);
        const headerBytes = vm.read(hPtr, hSize);
        const trailerBytes = vm.read(tPtr, tSize);
        if (cluster === null || body === null || headerBytes === null || trailerBytes === null) return R.InvalidMemoryAccess;
        if (!vm.setU32(tokenPtr, 0)) return R.InvalidMemoryAccess;
        const root = vm.rootOf(vm.ctx());
        const timeout = timeoutMs | 0;
        if (timeout < 0) return R.BadArgument;
        if (!vm.env.isKnownCluster(cluster)) return R.BadArgument;
        const headers = decodePairs(headerBytes).map(([k, v]) => [k.toLowerCase(), v] as const);
        const has = (k: string): boolean => headers.some(([hk]) => hk === k);
        if (!has(':path') || !has(':method') || !has(':authority')) return R.BadArgument;
        const finalHeaders: HeaderPair[] = body.length > 0 ? [...headers.filter(([k]) => k !== 'content-length'), ['content-length', String(body.length)]] : headers;
        vm.nextHttpCallToken += 4; // CalloutType::HttpCall ids: type in the low two bits (0), step 4
        const token = vm.nextHttpCallToken;
        vm.pendingHttpCalls.set(token, root.id);
        vm.env.onHttpCall({
          worker: vm.worker,
          rootContextId: root.id,
          token,
          cluster,
          headers: finalHeaders,
          body,
          trailers: decodePairs(trailerBytes),
          timeoutMs: timeout,
        });
        vm.setU32(tokenPtr, token);
        return R.Ok;
      },
      proxy_grpc_call(): number {
        return R.ParseFailure; // no gRPC clusters in the emulator
      },
      proxy_grpc_stream(): number {
        return R.ParseFailure;
      },
      proxy_grpc_send(token: number): number {
        return (u(token) & 3) === 2 ? R.NotFound : R.BadArgument;
      },
      proxy_grpc_cancel(token: number): number {
        const t = u(token) & 3;
        return t === 1 || t === 2 ? R.NotFound : R.BadArgument;
      },
      proxy_grpc_close(token: number): number {
        const t = u(token) & 3;
        return t === 1 || t === 2 ? R.NotFound : R.BadArgument;
      },
      proxy_set_tick_period_milliseconds(periodMs: number): number {
        const root = vm.rootOf(vm.ctx());
        const period = BigInt(u(periodMs)) * 1_000_000n;
        if (period === 0n) vm.ticks.delete(root.id);
        else vm.ticks.set(root.id, { periodNs: period, nextNs: vm.env.nowNanos() + period });
        return R.Ok;
      },
      proxy_get_current_time_nanoseconds(out: number): number {
        return vm.setU64(out, vm.env.nowNanos()) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_define_metric(type: number, namePtr: number, nameSize: number, idPtr: number): number {
        const name = vm.readString(namePtr, nameSize);
        if (name === null) return R.InvalidMemoryAccess;
        const t = u(type);
        if (t > METRIC_TYPE_MAX) return R.BadArgument;
        const kind: MetricKind = t === MetricType.Counter ? 'counter' : t === MetricType.Gauge ? 'gauge' : 'histogram';
        vm.nextMetricId[kind] += METRIC_ID_INCREMENT;
        const id = vm.nextMetricId[kind] >>> 0;
        vm.metricIds.set(id, { name, kind });
        vm.env.metrics.cell(name, kind);
        return vm.setU32(idPtr, id) ? R.Ok : R.InvalidMemoryAccess;
      },
      proxy_increment_metric(metricId: number, offset: bigint): number {
        const id = u(metricId);
        const type = id & METRIC_TYPE_MASK;
        const m = vm.metricIds.get(id);
        if (type === MetricType.Counter) {
          if (!m) return R.NotFound;
          if (offset <= 0n) return R.BadArgument;
          const c = vm.env.metrics.cell(m.name, 'counter');
          c.value = BigInt.asUintN(64, c.value + offset);
          return R.Ok;
        }
        if (type === MetricType.Gauge) {
          if (!m) return R.NotFound;
          const c = vm.env.metrics.cell(m.name, 'gauge');
          c.value = BigInt.asUintN(64, c.value + offset);
          return R.Ok;
        }
        return R.BadArgument;
      },
      proxy_record_metric(metricId: number, value: bigint): number {
        const id = u(metricId);
        const v = BigInt.asUintN(64, value);
        const m = vm.metricIds.get(id);
        if (!m) return R.NotFound;
        const c = vm.env.metrics.cell(m.name, m.kind);
        if (m.kind === 'counter') c.value = BigInt.asUintN(64, c.value + v);
        else if (m.kind === 'gauge') c.value = v;
        else c.samples.push(v);
        return R.Ok;
      },
      proxy_get_metric(metricId: number, out: number): number {
        const id = u(metricId);
        const type = id & METRIC_TYPE_MASK;
        if (type !== MetricType.Counter && type !== MetricType.Gauge) return R.BadArgument;
        const m = vm.metricIds.get(id);
        if (!m) return R.NotFound;
        return vm.setU64(out, vm.env.metrics.cell(m.name, m.kind).value) ? R.Ok : R.InvalidMemoryAccess;
      },
    };
  }

  private wasiFunctions(): Record<string, AnyFn> {
    const vm = this;
    const E = WasiErrno;
    const stdStream = (fd: number): boolean => fd === 1 || fd === 2;
    const writev = (fd: number, iovs: number, iovsLen: number): { errno: number; written: number } => {
      if (!stdStream(fd)) return { errno: E.Badf, written: 0 };
      const parts: Uint8Array[] = [];
      for (let i = 0; i < iovsLen >>> 0; i++) {
        const iov = vm.read(iovs + i * 8, 8);
        if (!iov) return { errno: E.Fault, written: 0 };
        const dv = new DataView(iov.buffer);
        const len = dv.getUint32(4, true);
        if (len === 0) continue;
        const data = vm.read(dv.getUint32(0, true), len);
        if (!data) return { errno: E.Fault, written: 0 };
        parts.push(data);
      }
      let text = utf8(concatBytes(parts));
      const written = parts.reduce((n, p) => n + p.length, 0);
      if (written > 0) {
        if (text.endsWith('\n')) text = text.slice(0, -1);
        vm.log(fd === 1 ? LogLevel.Info : LogLevel.Error, text, fd === 1 ? 'stdout' : 'stderr');
      }
      return { errno: E.Success, written };
    };
    const ok = (): number => E.Success;
    const fdOnlyStd = (fd: number): number => (stdStream(fd) ? E.Success : E.Badf);
    const fns: Record<string, AnyFn> = {
      fd_write(fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number {
        const r = writev(fd, iovs, iovsLen);
        if (r.errno !== E.Success) return r.errno;
        return vm.setU32(nwrittenPtr, r.written) ? E.Success : E.Fault;
      },
      fd_pwrite(fd: number, iovs: number, iovsLen: number, _offset: bigint, nwrittenPtr: number): number {
        const r = writev(fd, iovs, iovsLen);
        if (r.errno !== E.Success) return r.errno;
        return vm.setU32(nwrittenPtr, r.written) ? E.Success : E.Fault;
      },
      fd_read: () => E.Nosys,
      fd_pread: () => E.Nosys,
      fd_seek(): number {
        vm.log(LogLevel.Error, 'wasi_unstable fd_seek', 'envoy');
        return E.Success;
      },
      fd_close(): number {
        vm.log(LogLevel.Error, 'wasi_unstable fd_close', 'envoy');
        return E.Success;
      },
      fd_fdstat_get(fd: number, statOut: number): number {
        if (!stdStream(fd)) return E.Badf;
        vm.setU64(statOut, 0n);
        vm.setU64(statOut + 8, 64n);
        vm.setU64(statOut + 16, 0n);
        return E.Success;
      },
      fd_fdstat_set_flags: () => E.Nosys,
      fd_fdstat_set_rights: fdOnlyStd,
      fd_advise: ok,
      fd_allocate: fdOnlyStd,
      fd_datasync: fdOnlyStd,
      fd_filestat_get: () => E.Badf,
      fd_filestat_set_size: fdOnlyStd,
      fd_filestat_set_times: fdOnlyStd,
      fd_prestat_get: () => E.Badf,
      fd_prestat_dir_name: () => E.Nosys,
      fd_readdir(_fd: number, _buf: number, _len: number, _cookie: bigint, nreadPtr: number): number {
        if (!vm.setU32(nreadPtr, 0)) return E.Fault;
        return E.Notdir;
      },
      fd_renumber: (fd: number, to: number) => (stdStream(fd) && stdStream(to) ? E.Notsup : E.Badf),
      fd_sync: fdOnlyStd,
      fd_tell(fd: number, out: number): number {
        if (!stdStream(fd)) return E.Badf;
        return vm.setU64(out, 0n) ? E.Success : E.Fault;
      },
      path_open: () => E.Noent,
      path_create_directory: () => E.Notsup,
      path_filestat_get: () => E.Notsup,
      path_filestat_set_times: () => E.Notsup,
      path_link: () => E.Notsup,
      path_readlink: () => E.Notsup,
      path_remove_directory: () => E.Notsup,
      path_rename: () => E.Notsup,
      path_symlink: () => E.Notsup,
      path_unlink_file: () => E.Notsup,
      sock_accept: () => E.Notsup,
      sock_recv: () => E.Notsup,
      sock_send: () => E.Notsup,
      sock_shutdown: () => E.Notsup,
      environ_sizes_get(countPtr: number, sizePtr: number): number {
        const entries = Object.entries(vm.env.envs);
        const size = entries.reduce((n, [k, v]) => n + encodeUtf8(`${k}=${v}`).length + 1, 0);
        return vm.setU32(countPtr, entries.length) && vm.setU32(sizePtr, size) ? E.Success : E.Fault;
      },
      environ_get(arrayPtr: number, bufPtr: number): number {
        let a = arrayPtr >>> 0;
        let b = bufPtr >>> 0;
        for (const [k, v] of Object.entries(vm.env.envs)) {
          const data = encodeUtf8(`${k}=${v}\0`);
          if (!vm.setU32(a, b)) return E.Fault;
          if (!vm.inBounds(b, data.length)) return E.Fault;
          new Uint8Array(vm.memory.buffer, b, data.length).set(data);
          a += 4;
          b += data.length;
        }
        return E.Success;
      },
      args_sizes_get(argcPtr: number, sizePtr: number): number {
        return vm.setU32(argcPtr, 0) && vm.setU32(sizePtr, 0) ? E.Success : E.Fault;
      },
      args_get: ok,
      clock_time_get(clockId: number, _precision: bigint, out: number): number {
        let t: bigint;
        if (clockId === 0) t = vm.env.nowNanos();
        else if (clockId === 1) t = vm.env.monotonicNanos();
        else return E.Notsup;
        return vm.setU64(out, t) ? E.Success : E.Fault;
      },
      clock_res_get(clockId: number, out: number): number {
        if (clockId !== 0 && clockId !== 1) return E.Notsup;
        return vm.setU64(out, 1n) ? E.Success : E.Fault;
      },
      random_get(ptr: number, len: number): number {
        len >>>= 0;
        if (len > RANDOM_GET_MAX_BYTES) return E.Inval;
        if (len === 0) return E.Success;
        if (!vm.inBounds(ptr >>> 0, len)) return E.Fault;
        crypto.getRandomValues(new Uint8Array(vm.memory.buffer, ptr >>> 0, len));
        return E.Success;
      },
      sched_yield: ok,
      poll_oneoff(_in: number, _out: number, _n: number, neventsPtr: number): number {
        return vm.setU32(neventsPtr, 0) ? E.Success : E.Fault;
      },
      proc_exit(): void {
        // Envoy only logs it and returns; the guest's own code traps afterwards if it cannot return.
        vm.log(LogLevel.Error, 'wasi_unstable proc_exit', 'envoy');
      },
    };
    return fns;
  }

  // --------------------------------------------------------------------------------------------

  log(level: number, message: string, source: LogEntry['source']): void {
    if (level < this.env.logLevel()) return;
    const names = ['trace', 'debug', 'info', 'warn', 'error', 'critical'];
    this.env.emitLog({
      level,
      levelName: names[level] ?? String(level),
      message,
      source,
      worker: this.worker,
      contextId: this.current?.id ?? 0,
    });
  }

  private queueReady(rootContextId: number, token: number): void {
    this.env.post(() => {
      const root = this.contexts.get(rootContextId);
      if (!root || this.failed) return;
      this.invoke('proxy_on_queue_ready', root, [rootContextId, token]);
    });
  }

  /** Root contexts waiting for proxy_done after returning false from proxy_on_done. */
  readonly pendingDone = new Set<number>();
  private readonly doneWaiters = new Map<number, () => void>();

  /** Registers what happens when the root `id` calls proxy_done. */
  awaitDone(id: number, onDone: () => void): void {
    this.pendingDone.add(id);
    this.doneWaiters.set(id, onDone);
  }

  private rootDone(context: HostContext): number {
    const id = context.rootContextId;
    if (!this.pendingDone.has(id)) return WasmResult.NotFound;
    this.pendingDone.delete(id);
    const waiter = this.doneWaiters.get(id);
    this.doneWaiters.delete(id);
    if (waiter) this.deferAfterCall(waiter);
    return WasmResult.Ok;
  }

  /** The root context that owns HTTP call `token`, if the call is still pending. */
  takeHttpCall(token: number): number | undefined {
    const root = this.pendingHttpCalls.get(token);
    this.pendingHttpCalls.delete(token);
    return root;
  }
}

/** A trap raised by the emulated host (e.g. a restricted callback), as V8 would raise it. */
export class GuestTrap extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuestTrap';
  }
}

