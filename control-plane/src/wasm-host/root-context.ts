// A root context (one per plugin configuration per VM) as a host-call target.
import { BufferType, MapType, StreamType, WasmResult, type WasmResultCode } from './abi-types.js';
import { ABSENT_BUFFER, ConstBuffer } from './buffers.js';
import type { HostBuffer, HostContext } from './context.js';
import { HeaderMap } from './header-map.js';
import { selectChild, serializeProperty, type PropertyValue } from './properties.js';
import type { WasmVm } from './vm.js';

export interface PluginIdentity {
  readonly name: string;
  readonly rootId: string;
  readonly vmId: string;
  readonly configuration: Uint8Array;
}

/** Buffers every context can see (Context::getBuffer cases not tied to a stream). */
export function commonBuffer(vm: WasmVm, type: number, configuring: PluginIdentity | null): HostBuffer | null | undefined {
  switch (type) {
    case BufferType.VmConfiguration:
      return new ConstBuffer(vm.env.vmConfiguration);
    case BufferType.PluginConfiguration:
      return configuring ? new ConstBuffer(configuring.configuration) : null;
    case BufferType.HttpCallResponseBody:
      return vm.httpCallResponse ? new ConstBuffer(vm.httpCallResponse.body) : null;
    case BufferType.CallData:
      return new ConstBuffer(vm.callData ?? new Uint8Array(0));
    case BufferType.DownstreamData:
    case BufferType.UpstreamData:
    case BufferType.GrpcReceiveBuffer:
      return ABSENT_BUFFER;
    default:
      return undefined;
  }
}

/** HTTP call response maps, readable from any context while proxy_on_http_call_response runs. */
export function callResponseMap(vm: WasmVm, type: number): HeaderMap | null {
  if (!vm.httpCallResponse) return null;
  if (type === MapType.HttpCallResponseHeaders) return new HeaderMap(vm.httpCallResponse.headers);
  if (type === MapType.HttpCallResponseTrailers) return new HeaderMap(vm.httpCallResponse.trailers);
  return null;
}

/** plugin_name, plugin_root_id, plugin_vm_id. */
export function pluginProperty(plugin: PluginIdentity, name: string): PropertyValue | undefined {
  if (name === 'plugin_name') return { kind: 'string', value: plugin.name };
  if (name === 'plugin_root_id') return { kind: 'string', value: plugin.rootId };
  if (name === 'plugin_vm_id') return { kind: 'string', value: plugin.vmId };
  return undefined;
}

/** Walks the remaining path segments and serializes (Context::getProperty). */
export function resolvePath(top: PropertyValue | undefined, rest: readonly string[]): { status: WasmResultCode; value?: Uint8Array } {
  if (top === undefined) return { status: WasmResult.NotFound };
  let value: PropertyValue = top;
  for (const segment of rest) {
    const next = selectChild(value, segment);
    if (next === undefined) return { status: WasmResult.NotFound };
    value = next;
  }
  return { status: WasmResult.Ok, value: serializeProperty(value) };
}

export class RootContextState implements HostContext {
  readonly kind = 'root' as const;
  readonly accessLogPhase = false;
  /** Set while proxy_on_configure runs (Envoy's temp_plugin_): the plugin configuration is readable. */
  configuring = false;

  constructor(
    readonly vm: WasmVm,
    readonly id: number,
    readonly plugin: PluginIdentity,
    private readonly hostProperties: ReadonlyMap<string, PropertyValue>,
  ) {}

  get rootContextId(): number {
    return this.id;
  }

  mutableMap(): HeaderMap | null {
    return null;
  }

  constMap(type: number): HeaderMap | null {
    return callResponseMap(this.vm, type);
  }

  buffer(type: number): HostBuffer | null {
    const common = commonBuffer(this.vm, type, this.configuring ? this.plugin : null);
    if (common !== undefined) return common;
    // Request/response bodies: no stream here, an absent (empty, read-only) buffer.
    return ABSENT_BUFFER;
  }

  getProperty(segments: readonly string[]): { status: WasmResultCode; value?: Uint8Array } {
    const [name, ...rest] = segments;
    if (name === undefined) return { status: WasmResult.SerializationFailure };
    const top = pluginProperty(this.plugin, name) ?? this.hostProperties.get(name);
    return resolvePath(top, rest);
  }

  setProperty(): WasmResultCode {
    return WasmResult.NotFound; // no stream info in a root context
  }

  sendLocalResponse(): WasmResultCode {
    return WasmResult.Ok; // no decoder callbacks: Envoy does nothing
  }

  continueStream(type: number): WasmResultCode {
    return type === StreamType.Upstream ? WasmResult.Unimplemented : WasmResult.Ok;
  }

  closeStream(): WasmResultCode {
    return WasmResult.Ok;
  }
}

