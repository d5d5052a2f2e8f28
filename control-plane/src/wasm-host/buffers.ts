// Envoy's Buffer wrapper for get/set_buffer_bytes (source/extensions/common/wasm/context.cc,
// Buffer::copyFrom): a mutable Envoy buffer accepts
//   start == 0        -> drain `length` bytes (all there are, at most), then prepend the data;
//   start >= size     -> append the data;
//   anything else     -> BadArgument (no splice in the middle).
// Immutable buffers (configuration, HTTP call responses) and absent ones reject every write.
import { WasmResult, type WasmResultCode } from './abi-types.js';
import { EMPTY_BYTES, concatBytes } from './bytes.js';
import type { HostBuffer } from './context.js';

/** A growable byte buffer (what Envoy holds for a stream direction). */
export class ByteBuffer implements HostBuffer {
  private bytes: Uint8Array;

  constructor(initial: Uint8Array = EMPTY_BYTES) {
    this.bytes = initial;
  }

  size(): number {
    return this.bytes.length;
  }

  read(start: number, length: number): Uint8Array {
    return this.bytes.slice(start, start + length);
  }

  write(start: number, length: number, data: Uint8Array): WasmResultCode {
    if (start === 0) {
      const drained = this.bytes.subarray(Math.min(length, this.bytes.length));
      this.bytes = concatBytes([data, drained]);
      return WasmResult.Ok;
    }
    if (start >= this.bytes.length) {
      this.append(data);
      return WasmResult.Ok;
    }
    return WasmResult.BadArgument;
  }

  append(data: Uint8Array): void {
    if (data.length === 0) return;
    this.bytes = this.bytes.length === 0 ? data.slice() : concatBytes([this.bytes, data]);
  }

  /** Removes and returns everything. */
  take(): Uint8Array {
    const out = this.bytes;
    this.bytes = EMPTY_BYTES;
    return out;
  }

  contents(): Uint8Array {
    return this.bytes;
  }
}

/** A read-only buffer (VM/plugin configuration, HTTP call response body, foreign call data). */
export class ConstBuffer implements HostBuffer {
  constructor(private readonly bytes: Uint8Array) {}
  size(): number {
    return this.bytes.length;
  }
  read(start: number, length: number): Uint8Array {
    return this.bytes.slice(start, start + length);
  }
  write(): WasmResultCode {
    return WasmResult.BadArgument;
  }
}

/** Envoy's buffer_.set(nullptr): present, empty, not writable. */
export const ABSENT_BUFFER: HostBuffer = new ConstBuffer(EMPTY_BYTES);
