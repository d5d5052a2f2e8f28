// What a host call needs from the context it runs in (root context or HTTP stream). Both kinds
// implement it; the VM routes every proxy_* call to the current (or effective) context.
import type { WasmResultCode } from './abi-types.js';
import type { HeaderMap } from './header-map.js';
import type { HeaderPair } from './pairs.js';

/** A buffer as Envoy's Buffer wrapper exposes it to get/set_buffer_bytes. */
export interface HostBuffer {
  size(): number;
  read(start: number, length: number): Uint8Array;
  /** Envoy's copyFrom rules; immutable buffers return BadArgument. */
  write(start: number, length: number, data: Uint8Array): WasmResultCode;
}

export interface LocalReplyRequest {
  readonly status: number;
  readonly details: string;
  readonly body: Uint8Array;
  readonly headers: readonly HeaderPair[];
  readonly grpcStatus: number;
}

export interface HostContext {
  readonly id: number;
  readonly kind: 'root' | 'http';
  /** Id of the root context (itself for a root). */
  readonly rootContextId: number;
  /** Envoy getMap: the writable map, or null when not available now. */
  mutableMap(type: number): HeaderMap | null;
  /** Envoy getConstMap: the readable map, or null. */
  constMap(type: number): HeaderMap | null;
  /** True during proxy_on_log (maps missing there are NotFound, not BadArgument). */
  readonly accessLogPhase: boolean;
  /** Envoy getBuffer; null = NotFound. */
  buffer(type: number): HostBuffer | null;
  getProperty(segments: readonly string[]): { status: WasmResultCode; value?: Uint8Array };
  setProperty(path: string, value: Uint8Array): WasmResultCode;
  sendLocalResponse(reply: LocalReplyRequest): WasmResultCode;
  continueStream(streamType: number): WasmResultCode;
  closeStream(streamType: number): WasmResultCode;
}
