/**
 * HTTP/2 framing (RFC 9113 §4, §6): frame type, flag and setting numbers, encoders for the frames the
 * server sends, and `FrameReader`, which cuts a socket's byte stream into frames.
 *
 * Pure apart from Buffer allocation; no I/O. Every encoder returns a fresh Buffer the caller hands to the socket.
 */

/** The client connection preface (RFC 9113 §3.4), exactly 24 octets. */
export const CONNECTION_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FRAME_HEADER_LENGTH = 9;

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = {
  /** DATA, HEADERS */
  END_STREAM: 0x1,
  /** SETTINGS, PING */
  ACK: 0x1,
  /** HEADERS, PUSH_PROMISE, CONTINUATION */
  END_HEADERS: 0x4,
  /** DATA, HEADERS, PUSH_PROMISE */
  PADDED: 0x8,
  /** HEADERS */
  PRIORITY: 0x20,
} as const;

export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

/** RFC 9113 defaults and bounds. */
export const DEFAULT_WINDOW_SIZE = 65_535;
export const MAX_WINDOW_SIZE = 2 ** 31 - 1;
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const MAX_MAX_FRAME_SIZE = 2 ** 24 - 1;

/** Writes a 9-octet frame header at `offset` of `target`. */
export function writeFrameHeader(target: Uint8Array, offset: number, length: number, type: number, flags: number, streamId: number): void {
  target[offset] = (length >>> 16) & 0xff;
  target[offset + 1] = (length >>> 8) & 0xff;
  target[offset + 2] = length & 0xff;
  target[offset + 3] = type;
  target[offset + 4] = flags;
  target[offset + 5] = (streamId >>> 24) & 0x7f;
  target[offset + 6] = (streamId >>> 16) & 0xff;
  target[offset + 7] = (streamId >>> 8) & 0xff;
  target[offset + 8] = streamId & 0xff;
}

/** A whole frame: header + payload copied into one Buffer (for small frames: HEADERS, control frames). */
export function encodeFrame(type: number, flags: number, streamId: number, payload?: Uint8Array): Buffer {
  const length = payload === undefined ? 0 : payload.length;
  const out = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + length);
  writeFrameHeader(out, 0, length, type, flags, streamId);
  if (payload !== undefined) out.set(payload, FRAME_HEADER_LENGTH);
  return out;
}

/** SETTINGS frame from [id, value] pairs (empty + ACK flag for an acknowledgement). */
export function encodeSettings(settings: ReadonlyArray<readonly [id: number, value: number]>, ack = false): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + settings.length * 6);
  writeFrameHeader(out, 0, settings.length * 6, FrameType.SETTINGS, ack ? Flag.ACK : 0, 0);
  let offset = FRAME_HEADER_LENGTH;
  for (const [id, value] of settings) {
    out.writeUInt16BE(id, offset);
    out.writeUInt32BE(value >>> 0, offset + 2);
    offset += 6;
  }
  return out;
}

/** PING with an 8-octet opaque payload (copied). */
export function encodePing(payload: Uint8Array, ack: boolean): Buffer {
  if (payload.length !== 8) throw new RangeError(`PING payload must be 8 octets, got ${payload.length}`);
  return encodeFrame(FrameType.PING, ack ? Flag.ACK : 0, 0, payload);
}

/** GOAWAY: last processed stream id, error code (wire value), optional debug data (latin1 text). */
export function encodeGoaway(lastStreamId: number, errorCode: number, debug = ''): Buffer {
  const debugLength = Buffer.byteLength(debug, 'latin1');
  const out = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 8 + debugLength);
  writeFrameHeader(out, 0, 8 + debugLength, FrameType.GOAWAY, 0, 0);
  out.writeUInt32BE(lastStreamId & 0x7fffffff, 9);
  out.writeUInt32BE(errorCode >>> 0, 13);
  if (debugLength > 0) out.write(debug, 17, 'latin1');
  return out;
}

export function encodeRstStream(streamId: number, errorCode: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 4);
  writeFrameHeader(out, 0, 4, FrameType.RST_STREAM, 0, streamId);
  out.writeUInt32BE(errorCode >>> 0, 9);
  return out;
}

export function encodeWindowUpdate(streamId: number, increment: number): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + 4);
  writeFrameHeader(out, 0, 4, FrameType.WINDOW_UPDATE, 0, streamId);
  out.writeUInt32BE(increment & 0x7fffffff, 9);
  return out;
}

/**
 * Frames of a header block: one HEADERS frame, followed by CONTINUATION frames when the block is larger
 * than `maxFrameSize`, in one Buffer (header blocks are small; copying is cheaper than a writev).
 */
export function encodeHeaderFrames(streamId: number, block: Uint8Array, endStream: boolean, maxFrameSize: number): Buffer {
  if (block.length <= maxFrameSize) {
    const out = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + block.length);
    writeFrameHeader(out, 0, block.length, FrameType.HEADERS, Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0), streamId);
    out.set(block, FRAME_HEADER_LENGTH);
    return out;
  }
  const frames = Math.ceil(block.length / maxFrameSize);
  const out = Buffer.allocUnsafe(frames * FRAME_HEADER_LENGTH + block.length);
  let offset = 0;
  for (let i = 0; i < frames; i++) {
    const start = i * maxFrameSize;
    const end = Math.min(block.length, start + maxFrameSize);
    const last = i === frames - 1;
    const type = i === 0 ? FrameType.HEADERS : FrameType.CONTINUATION;
    const flags = (last ? Flag.END_HEADERS : 0) | (i === 0 && endStream ? Flag.END_STREAM : 0);
    writeFrameHeader(out, offset, end - start, type, flags, streamId);
    out.set(block.subarray(start, end), offset + FRAME_HEADER_LENGTH);
    offset += FRAME_HEADER_LENGTH + end - start;
  }
  return out;
}

/** Receives the frames `FrameReader` cuts out. `payload` is only valid during the call (it may be a view of a socket chunk). */
export interface FrameSink {
  /** Returns false to stop reading (the connection is gone); the rest of the input is discarded. */
  onFrame(type: number, flags: number, streamId: number, payload: Buffer): boolean;
  /** A frame header announced `length` > the reader's `maxFrameSize` (FRAME_SIZE_ERROR). */
  onFrameTooLarge(type: number, streamId: number, length: number): void;
}

/**
 * Cuts a byte stream into frames. Keeps at most one incomplete frame between chunks (nothing when idle);
 * a frame that arrives whole within one chunk is passed as a view of that chunk without copying.
 */
export class FrameReader {
  /** The largest payload accepted (our SETTINGS_MAX_FRAME_SIZE). */
  maxFrameSize: number;
  private pending: Buffer | undefined = undefined;

  constructor(maxFrameSize = DEFAULT_MAX_FRAME_SIZE) {
    this.maxFrameSize = maxFrameSize;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.pending === undefined ? 0 : this.pending.length;
  }

  /** Feeds one chunk; calls the sink for every complete frame, in order. */
  push(chunk: Buffer, sink: FrameSink): void {
    let data = chunk;
    if (this.pending !== undefined) {
      data = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let offset = 0;
    const total = data.length;
    while (total - offset >= FRAME_HEADER_LENGTH) {
      const length = (data[offset]! << 16) | (data[offset + 1]! << 8) | data[offset + 2]!;
      const type = data[offset + 3]!;
      const streamId = data.readUInt32BE(offset + 5) & 0x7fffffff;
      if (length > this.maxFrameSize) {
        sink.onFrameTooLarge(type, streamId, length);
        return;
      }
      if (total - offset - FRAME_HEADER_LENGTH < length) break;
      const flags = data[offset + 4]!;
      const start = offset + FRAME_HEADER_LENGTH;
      offset = start + length;
      if (!sink.onFrame(type, flags, streamId, data.subarray(start, offset))) return;
    }
    // Copy the tail so the (possibly large) chunk it came from can be collected.
    if (offset < total) this.pending = Buffer.from(data.subarray(offset));
  }

  /** Drops buffered input (the connection is closing). */
  reset(): void {
    this.pending = undefined;
  }
}
