/** Test helpers for the h2 server: a raw HTTP/2 client over node:net with hand-built frames, and grpc-js raw-Buffer clients. */
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { CONNECTION_PREFACE, FrameType, Flag, encodeFrame, encodeSettings } from '../../../control-plane/src/h2/frame.js';
import { createHpackDecoder, encodeHeaderBlock } from '../../../control-plane/src/h2/hpack.js';

/** Resolves at the next wake-up pushed into `waiters` (a frame or the close arrived), or after `ms`. */
export function nextWake(waiters: Array<() => void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    waiters.push(() => {
      clearTimeout(t);
      resolve();
    });
  });
}

export interface RawFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** A hand-driven HTTP/2 client: send bytes/frames, await frames the server sends. */
export class RawClient {
  readonly socket: net.Socket;
  readonly frames: RawFrame[] = [];
  closed = false;
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private readonly decoder = createHpackDecoder({ maxTableSize: 4096, maxHeaderListSize: 1 << 20 });

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      while (this.buffer.length >= 9) {
        const length = this.buffer.readUIntBE(0, 3);
        if (this.buffer.length < 9 + length) break;
        this.frames.push({ type: this.buffer[3]!, flags: this.buffer[4]!, streamId: this.buffer.readUInt32BE(5) & 0x7fffffff, payload: Buffer.from(this.buffer.subarray(9, 9 + length)) });
        this.buffer = this.buffer.subarray(9 + length);
      }
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async connect(port: number, options: { preface?: boolean; settings?: ReadonlyArray<readonly [number, number]> } = {}): Promise<RawClient> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawClient(socket);
    if (options.preface !== false) {
      socket.write(CONNECTION_PREFACE);
      socket.write(encodeSettings(options.settings ?? []));
    }
    return client;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** ACKs the server's SETTINGS (and remembers to signal the table size update). */
  ackSettings(): void {
    this.frame(FrameType.SETTINGS, Flag.ACK, 0);
    this.pendingTableSizeUpdate = true;
  }
  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }
  frame(type: number, flags: number, streamId: number, payload?: Uint8Array): void {
    this.socket.write(encodeFrame(type, flags, streamId, payload));
  }
  /** HEADERS with a gRPC request for `path` (END_HEADERS; END_STREAM if endStream). */
  /** Set after ACKing the server's SETTINGS (HEADER_TABLE_SIZE 0): the next block starts with a table size update to 0 (RFC 7541 §4.2). */
  pendingTableSizeUpdate = false;
  request(streamId: number, path: string, options: { endStream?: boolean; extra?: ReadonlyArray<readonly [string, string]>; contentType?: string; method?: string } = {}): void {
    let block = encodeHeaderBlock([
      [':method', options.method ?? 'POST'],
      [':scheme', 'http'],
      [':path', path],
      [':authority', 'localhost'],
      ['content-type', options.contentType ?? 'application/grpc'],
      ['te', 'trailers'],
      ...(options.extra ?? []),
    ]);
    if (this.pendingTableSizeUpdate) {
      block = Buffer.concat([Buffer.from([0x20]), block]);
      this.pendingTableSizeUpdate = false;
    }
    this.frame(FrameType.HEADERS, Flag.END_HEADERS | (options.endStream ? Flag.END_STREAM : 0), streamId, block);
  }
  /** DATA with one gRPC message. */
  message(streamId: number, body: Uint8Array, endStream = false): void {
    const payload = Buffer.alloc(5 + body.length);
    payload.writeUInt32BE(body.length, 1);
    payload.set(body, 5);
    this.frame(FrameType.DATA, endStream ? Flag.END_STREAM : 0, streamId, payload);
  }

  /** Waits until a frame matching `predicate` arrived (searching all received so far); rejects on timeout. */
  async waitFor(predicate: (f: RawFrame) => boolean, timeoutMs = 3000): Promise<RawFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found !== undefined) return found;
      if (this.closed) throw new Error(`connection closed; frames: ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for frame; frames: ${this.describe()}`);
      await nextWake(this.waiters, left);
    }
  }
  async waitClosed(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timeout waiting for close');
      await nextWake(this.waiters, left);
    }
  }
  async goaway(timeoutMs = 3000): Promise<{ lastStreamId: number; code: number; debug: string }> {
    const f = await this.waitFor((x) => x.type === FrameType.GOAWAY, timeoutMs);
    return { lastStreamId: f.payload.readUInt32BE(0), code: f.payload.readUInt32BE(4), debug: f.payload.subarray(8).toString('latin1') };
  }
  /** Decodes a HEADERS frame's block (no padding/priority) as a name → value object. */
  headers(frame: RawFrame): Record<string, string> {
    const list = this.decoder.decode(frame.payload);
    const out: Record<string, string> = {};
    for (let i = 0; i < list.length; i += 2) out[list[i]!] = list[i + 1]!;
    return out;
  }
  describe(): string {
    return this.frames.map((f) => `${f.type}/${f.flags}/${f.streamId}(${f.payload.length})`).join(' ');
  }
  close(): void {
    this.socket.destroy();
  }
}

const identity = (b: Buffer): Buffer => b;
/** A grpc-js generic client with raw Buffer (de)serializers for one service's methods. */
export function rawClient(
  address: string,
  methods: Record<string, { path: string; requestStream: boolean; responseStream: boolean }>,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  options: grpc.ClientOptions = {},
): grpc.Client & Record<string, (...args: unknown[]) => any> {
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  for (const [name, m] of Object.entries(methods)) {
    definition[name] = { ...m, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
  }
  const Ctor = grpc.makeGenericClientConstructor(definition as grpc.ServiceDefinition<grpc.UntypedServiceImplementation>, 'Test');
  return new Ctor(address, credentials, options) as unknown as grpc.Client & Record<string, (...args: unknown[]) => any>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
