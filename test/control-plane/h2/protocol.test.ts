import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcServer, H2_ABUSE_LIMITS, type GrpcServer, type ServerCall } from '../../../control-plane/src/h2/index.js';
import { Flag, FrameType, Setting, encodeSettings, encodeWindowUpdate } from '../../../control-plane/src/h2/frame.js';
import { encodeHeaderBlock } from '../../../control-plane/src/h2/hpack.js';
import { RawClient, sleep } from './h2-test-kit.js';

const PATH = '/test.Raw/Call';
const GOAWAY_CODES = { NO_ERROR: 0, PROTOCOL_ERROR: 1, FLOW_CONTROL_ERROR: 3, STREAM_CLOSED: 5, FRAME_SIZE_ERROR: 6, REFUSED_STREAM: 7, COMPRESSION_ERROR: 9, ENHANCE_YOUR_CALM: 11 };

describe('h2 connection protocol (raw frames)', () => {
  let server: GrpcServer;
  let port: number;
  const calls: ServerCall[] = [];
  const received: Buffer[] = [];
  const clients: RawClient[] = [];

  beforeAll(async () => {
    server = createGrpcServer({
      initialWindowSize: 65_535,
      maxConcurrentStreams: 3,
      handlers: {
        '/test.Raw/Paused': (call) => {
          calls.push(call);
          call.pause();
          call.onMessage = (m) => received.push(m);
        },
        [PATH]: (call) => {
          calls.push(call);
          call.onMessage = (m) => received.push(m);
          call.onEnd = () => {
            call.write(Buffer.from('done'));
            call.end();
          };
        },
      },
    });
    port = await server.listen();
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server.close(200);
  });
  const connect = async (options?: Parameters<typeof RawClient.connect>[1]): Promise<RawClient> => {
    const c = await RawClient.connect(port, options);
    clients.push(c);
    return c;
  };

  it('sends SETTINGS first (our values) and a connection WINDOW_UPDATE, ACKs the client SETTINGS', async () => {
    const c = await connect();
    const settings = await c.waitFor((f) => f.type === FrameType.SETTINGS && f.flags === 0);
    expect(c.frames[0]!.type).toBe(FrameType.SETTINGS);
    const values = new Map<number, number>();
    for (let i = 0; i < settings.payload.length; i += 6) values.set(settings.payload.readUInt16BE(i), settings.payload.readUInt32BE(i + 2));
    expect(values.get(Setting.MAX_CONCURRENT_STREAMS)).toBe(3);
    expect(values.get(Setting.INITIAL_WINDOW_SIZE)).toBe(65_535);
    expect(values.get(Setting.HEADER_TABLE_SIZE)).toBe(0);
    expect(values.get(Setting.ENABLE_PUSH)).toBe(0);
    expect(values.get(Setting.MAX_HEADER_LIST_SIZE)).toBe(16_384);
    const wu = await c.waitFor((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 0);
    expect(wu.payload.readUInt32BE(0)).toBe(16 * 1024 * 1024 - 65_535);
    await c.waitFor((f) => f.type === FrameType.SETTINGS && f.flags === Flag.ACK);
  });

  it('bad preface → connection closed', async () => {
    const c = await connect({ preface: false });
    c.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const g = await c.goaway();
    expect(g.code).toBe(GOAWAY_CODES.PROTOCOL_ERROR);
    await c.waitClosed();
  });

  it('preface not followed by SETTINGS → PROTOCOL_ERROR', async () => {
    const c = await connect({ preface: false });
    c.send(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'));
    c.frame(FrameType.PING, 0, 0, Buffer.alloc(8));
    expect((await c.goaway()).code).toBe(GOAWAY_CODES.PROTOCOL_ERROR);
  });

  it('PING is ACKed with the same payload; PING with a bad length → FRAME_SIZE_ERROR', async () => {
    const c = await connect();
    const payload = Buffer.from('12345678');
    c.frame(FrameType.PING, 0, 0, payload);
    const ack = await c.waitFor((f) => f.type === FrameType.PING && f.flags === Flag.ACK);
    expect(ack.payload).toEqual(payload);
    c.frame(FrameType.PING, 0, 0, Buffer.alloc(7));
    expect((await c.goaway()).code).toBe(GOAWAY_CODES.FRAME_SIZE_ERROR);
  });

  it('frame larger than our MAX_FRAME_SIZE → FRAME_SIZE_ERROR', async () => {
    const c = await connect();
    c.request(1, PATH);
    const big = Buffer.alloc(9 + 16_385);
    big.writeUIntBE(16_385, 0, 3);
    big[3] = FrameType.DATA;
    big.writeUInt32BE(1, 5);
    c.send(big);
    const g = await c.goaway();
    expect(g.code).toBe(GOAWAY_CODES.FRAME_SIZE_ERROR);
    expect(g.lastStreamId).toBe(1);
    await c.waitClosed();
    expect(calls.at(-1)!.closed).toBe(true);
  });

  it('unknown frame types and PRIORITY are ignored', async () => {
    const c = await connect();
    c.frame(0x42, 0xff, 0, Buffer.from('whatever'));
    c.frame(FrameType.PRIORITY, 0, 9, Buffer.from([0, 0, 0, 0, 16]));
    c.request(1, PATH);
    c.message(1, Buffer.from('hi'), true);
    const trailers = await c.waitFor((f) => f.type === FrameType.HEADERS && (f.flags & Flag.END_STREAM) !== 0);
    expect(trailers.streamId).toBe(1);
    expect(c.frames.some((f) => f.type === FrameType.GOAWAY)).toBe(false);
  });

  it('PRIORITY with a bad length → RST_STREAM FRAME_SIZE_ERROR on a stream that is not idle', async () => {
    const c = await connect();
    c.request(5, '/test.Raw/Paused');
    c.frame(FrameType.PRIORITY, 0, 5, Buffer.alloc(4));
    const rst = await c.waitFor((f) => f.type === FrameType.RST_STREAM);
    expect(rst.streamId).toBe(5);
    expect(rst.payload.readUInt32BE(0)).toBe(GOAWAY_CODES.FRAME_SIZE_ERROR);
  });

  it('PRIORITY with a bad length on an idle stream → connection FRAME_SIZE_ERROR (no RST_STREAM on an idle stream, RFC 9113 §6.4)', async () => {
    const c = await connect();
    c.frame(FrameType.PRIORITY, 0, 5, Buffer.alloc(4));
    expect((await c.goaway()).code).toBe(GOAWAY_CODES.FRAME_SIZE_ERROR);
    expect(c.frames.some((f) => f.type === FrameType.RST_STREAM)).toBe(false);
  });

  it('CONTINUATION interleaved with another frame → PROTOCOL_ERROR', async () => {
    const c = await connect();
    const block = encodeHeaderBlock([[':method', 'POST'], [':scheme', 'http'], [':path', PATH], ['content-type', 'application/grpc']]);
    c.frame(FrameType.HEADERS, 0, 1, block.subarray(0, 4));
    c.frame(FrameType.PING, 0, 0, Buffer.alloc(8));
    expect((await c.goaway()).code).toBe(GOAWAY_CODES.PROTOCOL_ERROR);
  });

  it('HEADERS split over CONTINUATION frames opens the call', async () => {
    const c = await connect();
    const block = encodeHeaderBlock([[':method', 'POST'], [':scheme', 'http'], [':path', PATH], ['content-type', 'application/grpc'], ['x-long', 'v'.repeat(300)]]);
    c.frame(FrameType.HEADERS, 0, 1, block.subarray(0, 10));
    c.frame(FrameType.CONTINUATION, 0, 1, block.subarray(10, 100));
    c.frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, block.subarray(100));
    c.message(1, Buffer.from('x'), true);
    const frames = await c.waitFor((f) => f.type === FrameType.HEADERS && (f.flags & Flag.END_STREAM) !== 0);
    expect(c.headers(frames)['grpc-status']).toBe('0');
  });

  it('CONTINUATION flood (many tiny frames) → ENHANCE_YOUR_CALM', async () => {
    const c = await connect();
    c.frame(FrameType.HEADERS, 0, 1, Buffer.from([0x83]));
    for (let i = 0; i < H2_ABUSE_LIMITS.continuations + 5; i++) c.frame(FrameType.CONTINUATION, 0, 1, Buffer.from([0x86]));
    expect((await c.goaway()).code).toBe(GOAWAY_CODES.ENHANCE_YOUR_CALM);
  });

  it('a header block over 2 × maxHeaderListSize → ENHANCE_YOUR_CALM', async () => {
    const c = await connect();
    c.frame(FrameType.HEADERS, 0, 1, Buffer.alloc(16_000, 0x86));
    c.frame(FrameType.CONTINUATION, 0, 1, Buffer.alloc(16_000, 0x86));
    c.frame(FrameType.CONTINUATION, 0, 1, Buffer.alloc(16_000, 0x86));
    expect((await c.goaway()).code).toBe(GOAWAY_CODES.ENHANCE_YOUR_CALM);
  });

  it('after the SETTINGS ACK (HEADER_TABLE_SIZE 0) a block without the table size update → COMPRESSION_ERROR', async () => {
    const c = await connect();
    await c.waitFor((f) => f.type === FrameType.SETTINGS && f.flags === 0);
    c.ackSettings();
    c.pendingTableSizeUpdate = false;
    c.request(1, PATH);
    expect((await c.goaway()).code).toBe(GOAWAY_CODES.COMPRESSION_ERROR);
  });

  it('a malformed header block → COMPRESSION_ERROR', async () => {
    const c = await connect();
    c.frame(FrameType.HEADERS, Flag.END_HEADERS, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect((await c.goaway()).code).toBe(GOAWAY_CODES.COMPRESSION_ERROR);
  });

  it('even stream id → PROTOCOL_ERROR; decreasing stream id → PROTOCOL_ERROR', async () => {
    const c = await connect();
    c.request(2, PATH);
    expect((await c.goaway()).code).toBe(GOAWAY_CODES.PROTOCOL_ERROR);
    const d = await connect();
    d.request(5, PATH, { endStream: true });
    d.request(3, PATH);
    const g = await d.goaway();
    expect(g.code).toBe(GOAWAY_CODES.PROTOCOL_ERROR);
    expect(g.lastStreamId).toBe(5);
  });

  it('DATA / WINDOW_UPDATE / RST_STREAM on an idle stream → PROTOCOL_ERROR', async () => {
    for (const send of [
      (c: RawClient) => c.message(7, Buffer.from('x')),
      (c: RawClient) => c.send(encodeWindowUpdate(7, 10)),
      (c: RawClient) => c.frame(FrameType.RST_STREAM, 0, 7, Buffer.alloc(4)),
    ]) {
      const c = await connect();
      send(c);
      expect((await c.goaway()).code).toBe(GOAWAY_CODES.PROTOCOL_ERROR);
    }
  });

  it('PUSH_PROMISE from a client → PROTOCOL_ERROR', async () => {
    const c = await connect();
    c.frame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1, Buffer.alloc(4));
    expect((await c.goaway()).code).toBe(GOAWAY_CODES.PROTOCOL_ERROR);
  });

  it('SETTINGS validation', async () => {
    const cases: Array<[Buffer, number]> = [
      [encodeSettings([[Setting.ENABLE_PUSH, 2]]), GOAWAY_CODES.PROTOCOL_ERROR],
      [encodeSettings([[Setting.INITIAL_WINDOW_SIZE, 2 ** 31]]), GOAWAY_CODES.FLOW_CONTROL_ERROR],
      [encodeSettings([[Setting.MAX_FRAME_SIZE, 16_383]]), GOAWAY_CODES.PROTOCOL_ERROR],
      [encodeSettings([[Setting.MAX_FRAME_SIZE, 2 ** 24]]), GOAWAY_CODES.PROTOCOL_ERROR],
      [Buffer.from([0, 0, 5, 4, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]), GOAWAY_CODES.FRAME_SIZE_ERROR],
      [Buffer.from([0, 0, 6, 4, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]), GOAWAY_CODES.FRAME_SIZE_ERROR],
      [Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 1]), GOAWAY_CODES.PROTOCOL_ERROR],
    ];
    for (const [frame, code] of cases) {
      const c = await connect();
      c.send(frame);
      expect((await c.goaway()).code, frame.toString('hex')).toBe(code);
    }
    // Unknown settings are ignored.
    const ok = await connect();
    ok.send(encodeSettings([[0x99, 7]]));
    await ok.waitFor((f) => f.type === FrameType.SETTINGS && f.flags === Flag.ACK && ok.frames.filter((x) => x.type === FrameType.SETTINGS && x.flags === Flag.ACK).length === 2);
  });

  it('WINDOW_UPDATE: 0 increment on the connection → PROTOCOL_ERROR, overflow → FLOW_CONTROL_ERROR', async () => {
    const a = await connect();
    a.send(encodeWindowUpdate(0, 0));
    expect((await a.goaway()).code).toBe(GOAWAY_CODES.PROTOCOL_ERROR);
    const b = await connect();
    b.send(encodeWindowUpdate(0, 2 ** 31 - 1));
    expect((await b.goaway()).code).toBe(GOAWAY_CODES.FLOW_CONTROL_ERROR);
    // On a stream: stream errors.
    const c = await connect();
    c.request(1, PATH);
    c.send(encodeWindowUpdate(1, 0));
    const rst = await c.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === 1);
    expect(rst.payload.readUInt32BE(0)).toBe(GOAWAY_CODES.PROTOCOL_ERROR);
    c.request(3, PATH);
    c.send(encodeWindowUpdate(3, 2 ** 31 - 1));
    const rst3 = await c.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === 3);
    expect(rst3.payload.readUInt32BE(0)).toBe(GOAWAY_CODES.FLOW_CONTROL_ERROR);
  });

  it('inbound flow control: DATA beyond the stream window → RST_STREAM FLOW_CONTROL_ERROR; padding is counted and credited', async () => {
    const c = await connect();
    await c.waitFor((f) => f.type === FrameType.SETTINGS && f.flags === 0);
    c.ackSettings();
    c.request(1, PATH);
    // Padded DATA: 1 pad-length octet + 5-byte prefix + 3 bytes + 200 padding octets.
    const body = Buffer.alloc(1 + 5 + 3 + 200);
    body[0] = 200;
    body.writeUInt32BE(3, 2);
    body.write('abc', 6);
    received.length = 0;
    for (let i = 0; i < 200; i++) c.frame(FrameType.DATA, Flag.PADDED, 1, body); // 200 × 209 = 41,800 > half of 65,535
    const wu = await c.waitFor((f) => f.type === FrameType.WINDOW_UPDATE && f.streamId === 1);
    expect(wu.payload.readUInt32BE(0)).toBeGreaterThanOrEqual(32_768);
    for (let i = 0; i < 100 && received.length < 200; i++) await sleep(5);
    expect(received.length).toBe(200);
    expect(received[0]!.toString()).toBe('abc');
    // Exceed the window of a paused stream (65,535 bytes, no credit returned): 5 frames of 16,384.
    c.request(3, '/test.Raw/Paused');
    for (let i = 0; i < 5; i++) c.frame(FrameType.DATA, 0, 3, Buffer.alloc(16_384));
    const rst = await c.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === 3);
    expect(rst.payload.readUInt32BE(0)).toBe(GOAWAY_CODES.FLOW_CONTROL_ERROR);
  });

  it('padding length beyond the frame → PROTOCOL_ERROR', async () => {
    const c = await connect();
    c.request(1, PATH);
    c.frame(FrameType.DATA, Flag.PADDED, 1, Buffer.from([10, 1, 2]));
    expect((await c.goaway()).code).toBe(GOAWAY_CODES.PROTOCOL_ERROR);
  });

  it('outbound flow control: respects the client window and resumes on WINDOW_UPDATE; frames ≤ peer MAX_FRAME_SIZE', async () => {
    const big = createGrpcServer({
      handlers: {
        [PATH]: (call) => {
          call.onEnd = () => {
            call.write(Buffer.alloc(100_000, 9));
            call.end();
          };
        },
      },
    });
    const bigPort = await big.listen();
    const c = await RawClient.connect(bigPort, { settings: [[Setting.INITIAL_WINDOW_SIZE, 1000]] });
    clients.push(c);
    c.request(1, PATH, { endStream: true });
    await c.waitFor((f) => f.type === FrameType.DATA);
    await sleep(50);
    const dataBytes = (): number => c.frames.filter((f) => f.type === FrameType.DATA).reduce((n, f) => n + f.payload.length, 0);
    expect(dataBytes()).toBe(1000);
    c.send(encodeWindowUpdate(1, 200_000));
    await sleep(30);
    expect(dataBytes()).toBe(65_535); // now the connection window (65,535) is the limit
    c.send(encodeWindowUpdate(0, 200_000));
    const end = await c.waitFor((f) => f.type === FrameType.HEADERS && (f.flags & Flag.END_STREAM) !== 0);
    expect(end.streamId).toBe(1);
    expect(dataBytes()).toBe(100_005);
    expect(Math.max(...c.frames.filter((f) => f.type === FrameType.DATA).map((f) => f.payload.length))).toBeLessThanOrEqual(16_384);
    await big.close(100);
  });

  it('socket backpressure: a client that does not read stalls the writes (onWritten waits), then everything arrives', async () => {
    const size = 24 * 1024 * 1024;
    const written: number[] = [];
    const big = createGrpcServer({
      handlers: {
        [PATH]: (call) => {
          call.onEnd = () => {
            call.write(Buffer.alloc(size, 1), () => written.push(1));
            call.write(Buffer.alloc(size, 2), () => written.push(2));
            call.end();
          };
        },
      },
    });
    const bigPort = await big.listen();
    const c = await RawClient.connect(bigPort, { settings: [[Setting.INITIAL_WINDOW_SIZE, 2 ** 31 - 1], [Setting.MAX_FRAME_SIZE, 2 ** 24 - 1]] });
    clients.push(c);
    c.send(encodeWindowUpdate(0, 2 ** 31 - 1 - 65_535));
    await sleep(20);
    c.socket.pause();
    c.request(1, PATH, { endStream: true });
    await sleep(300);
    expect(written).toEqual([]);
    c.socket.resume();
    const end = await c.waitFor((f) => f.type === FrameType.HEADERS && (f.flags & Flag.END_STREAM) !== 0, 10_000);
    expect(end.streamId).toBe(1);
    expect(written).toEqual([1, 2]);
    const data = c.frames.filter((f) => f.type === FrameType.DATA);
    expect(data.reduce((n, f) => n + f.payload.length, 0)).toBe(2 * (size + 5));
    expect(Math.max(...data.map((f) => f.payload.length))).toBeLessThanOrEqual(256 * 1024);
    c.frames.length = 0;
    await big.close(100);
  });

  it('SETTINGS_INITIAL_WINDOW_SIZE change applies to open streams (may go negative) and resumes sending', async () => {
    const big = createGrpcServer({
      handlers: {
        [PATH]: (call) => {
          call.onEnd = () => {
            call.write(Buffer.alloc(70_000, 1));
            call.end();
          };
        },
      },
    });
    const bigPort = await big.listen();
    const c = await RawClient.connect(bigPort);
    clients.push(c);
    c.request(1, PATH, { endStream: true });
    await c.waitFor((f) => f.type === FrameType.DATA);
    await sleep(30);
    c.send(encodeSettings([[Setting.INITIAL_WINDOW_SIZE, 0]])); // window now 0 - 65,535 sent
    await sleep(30);
    c.send(encodeSettings([[Setting.INITIAL_WINDOW_SIZE, 200_000]]));
    c.send(encodeWindowUpdate(0, 200_000));
    const end = await c.waitFor((f) => f.type === FrameType.HEADERS && (f.flags & Flag.END_STREAM) !== 0);
    expect(end.streamId).toBe(1);
    await big.close(100);
  });

  it('MAX_CONCURRENT_STREAMS exceeded → RST_STREAM REFUSED_STREAM', async () => {
    const c = await connect();
    c.request(1, PATH);
    c.request(3, PATH);
    c.request(5, PATH);
    c.request(7, PATH);
    const rst = await c.waitFor((f) => f.type === FrameType.RST_STREAM);
    expect(rst.streamId).toBe(7);
    expect(rst.payload.readUInt32BE(0)).toBe(GOAWAY_CODES.REFUSED_STREAM);
  });

  it('client RST_STREAM → onClose; rapid reset → GOAWAY ENHANCE_YOUR_CALM', async () => {
    const c = await connect();
    c.request(1, PATH);
    await sleep(20);
    const call = calls.at(-1)!;
    let closed = 0;
    call.onClose = () => closed++;
    c.frame(FrameType.RST_STREAM, 0, 1, Buffer.from([0, 0, 0, 8]));
    await sleep(20);
    expect(closed).toBe(1);
    expect(call.closed).toBe(true);
    let id = 3;
    for (let i = 0; i < H2_ABUSE_LIMITS.resets + 10; i++) {
      c.request(id, PATH);
      c.frame(FrameType.RST_STREAM, 0, id, Buffer.from([0, 0, 0, 8]));
      id += 2;
    }
    expect((await c.goaway()).code).toBe(GOAWAY_CODES.ENHANCE_YOUR_CALM);
  });

  it('PING flood → ENHANCE_YOUR_CALM; empty DATA flood → ENHANCE_YOUR_CALM', async () => {
    const a = await connect();
    for (let i = 0; i < H2_ABUSE_LIMITS.pings + 5; i++) a.frame(FrameType.PING, 0, 0, Buffer.alloc(8));
    expect((await a.goaway()).code).toBe(GOAWAY_CODES.ENHANCE_YOUR_CALM);
    const b = await connect();
    b.request(1, PATH);
    for (let i = 0; i < H2_ABUSE_LIMITS.emptyData + 5; i++) b.frame(FrameType.DATA, 0, 1);
    expect((await b.goaway()).code).toBe(GOAWAY_CODES.ENHANCE_YOUR_CALM);
    const s = await connect();
    for (let i = 0; i < H2_ABUSE_LIMITS.settings + 5; i++) s.send(encodeSettings([]));
    expect((await s.goaway()).code).toBe(GOAWAY_CODES.ENHANCE_YOUR_CALM);
  });

  it('after our END_STREAM on a stream the client has not half-closed → RST_STREAM NO_ERROR', async () => {
    const s = createGrpcServer({ handlers: { [PATH]: (call) => call.fail(5, 'nope') } });
    const p = await s.listen();
    const c = await RawClient.connect(p);
    clients.push(c);
    c.request(1, PATH);
    const h = await c.waitFor((f) => f.type === FrameType.HEADERS);
    expect(h.flags & Flag.END_STREAM).toBe(Flag.END_STREAM);
    expect(c.headers(h)).toMatchObject({ ':status': '200', 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'nope' });
    const rst = await c.waitFor((f) => f.type === FrameType.RST_STREAM);
    expect(rst.streamId).toBe(1);
    expect(rst.payload.readUInt32BE(0)).toBe(0);
    // DATA still in flight on that stream is ignored (no error).
    c.message(1, Buffer.from('late'));
    c.frame(FrameType.PING, 0, 0, Buffer.alloc(8));
    await c.waitFor((f) => f.type === FrameType.PING && f.flags === Flag.ACK);
    expect(c.frames.some((f) => f.type === FrameType.GOAWAY)).toBe(false);
    await s.close(100);
  });

  it('client GOAWAY: new streams refused, connection closes when its streams end', async () => {
    const c = await connect();
    c.request(1, PATH);
    c.frame(FrameType.GOAWAY, 0, 0, Buffer.alloc(8));
    c.request(3, PATH);
    const rst = await c.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === 3);
    expect(rst.payload.readUInt32BE(0)).toBe(GOAWAY_CODES.REFUSED_STREAM);
    c.message(1, Buffer.from('x'), true);
    await c.waitFor((f) => f.type === FrameType.HEADERS && (f.flags & Flag.END_STREAM) !== 0);
    await c.waitClosed();
  });

  it('malformed requests → RST_STREAM PROTOCOL_ERROR (the connection survives)', async () => {
    const c = await connect();
    const bad: Array<Array<[string, string]>> = [
      [[':method', 'POST'], [':scheme', 'http'], [':path', PATH], ['te', 'gzip']],
      [[':method', 'POST'], [':scheme', 'http'], [':path', PATH], ['connection', 'keep-alive']],
      [[':method', 'POST'], [':scheme', 'http'], ['x-a', '1'], [':path', PATH]],
      [[':method', 'POST'], [':scheme', 'http']],
      [[':method', 'POST'], [':scheme', 'http'], [':path', PATH], [':path', PATH]],
      [[':method', 'POST'], [':scheme', 'http'], [':path', PATH], [':protocol', 'x']],
    ];
    let id = 1;
    for (const headers of bad) {
      c.frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, id, encodeHeaderBlock(headers));
      const rst = await c.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === id);
      expect(rst.payload.readUInt32BE(0), JSON.stringify(headers)).toBe(GOAWAY_CODES.PROTOCOL_ERROR);
      id += 2;
    }
    // Upper-case names cannot go through encodeHeaderBlock: literal without indexing, new name "X-Up".
    const upper = Buffer.concat([encodeHeaderBlock([[':method', 'POST'], [':scheme', 'http'], [':path', PATH]]), Buffer.from([0x00, 4, ...Buffer.from('X-Up'), 1, 0x61])]);
    c.frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, id, upper);
    const rst = await c.waitFor((f) => f.type === FrameType.RST_STREAM && f.streamId === id);
    expect(rst.payload.readUInt32BE(0)).toBe(GOAWAY_CODES.PROTOCOL_ERROR);
    expect(c.frames.some((f) => f.type === FrameType.GOAWAY)).toBe(false);
  });

  it('HEADERS with PADDED and PRIORITY flags opens the call', async () => {
    const c = await connect();
    const block = encodeHeaderBlock([[':method', 'POST'], [':scheme', 'http'], [':path', PATH], ['content-type', 'application/grpc']]);
    const payload = Buffer.concat([Buffer.from([3]), Buffer.from([0, 0, 0, 0, 200]), block, Buffer.alloc(3)]);
    c.frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.PADDED | Flag.PRIORITY, 1, payload);
    c.message(1, Buffer.from('p'), true);
    const t = await c.waitFor((f) => f.type === FrameType.HEADERS && (f.flags & Flag.END_STREAM) !== 0);
    expect(c.headers(t)['grpc-status']).toBe('0');
  });

  it('connection loss → onClose for every open call', async () => {
    const c = await connect();
    const before = calls.length;
    c.request(1, PATH);
    c.request(3, PATH);
    for (let i = 0; i < 50 && calls.length < before + 2; i++) await sleep(5);
    const mine = calls.slice(before);
    let closed = 0;
    for (const call of mine) call.onClose = () => closed++;
    c.close();
    for (let i = 0; i < 100 && closed < 2; i++) await sleep(5);
    expect(closed).toBe(2);
    expect(mine.every((call) => call.closed)).toBe(true);
  });

  it('counts protocol errors', () => {
    expect(server.stats().protocolErrors).toBeGreaterThan(10);
  });
});
