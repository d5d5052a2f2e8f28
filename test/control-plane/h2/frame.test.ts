import { describe, expect, it } from 'vitest';
import { FrameReader, FrameType, Flag, encodeFrame, encodeGoaway, encodeHeaderFrames, encodePing, encodeRstStream, encodeSettings, encodeWindowUpdate, writeFrameHeader, type FrameSink } from '../../../control-plane/src/h2/frame.js';
import { grpcStatusForH2Error, h2ErrorCodeName, h2ErrorCodeValue, H2Error } from '../../../control-plane/src/h2/errors.js';
import { parseGrpcTimeout, percentDecodeGrpcMessage, percentEncodeGrpcMessage } from '../../../control-plane/src/h2/grpc-server.js';

class Collect implements FrameSink {
  frames: Array<[number, number, number, string]> = [];
  tooLarge: Array<[number, number, number]> = [];
  stopAfter = Infinity;
  onFrame(type: number, flags: number, streamId: number, payload: Buffer): boolean {
    this.frames.push([type, flags, streamId, payload.toString('hex')]);
    return this.frames.length < this.stopAfter;
  }
  onFrameTooLarge(type: number, streamId: number, length: number): void {
    this.tooLarge.push([type, streamId, length]);
  }
}

describe('frame encoding', () => {
  it('writes the 9-octet header (24-bit length, type, flags, 31-bit stream id)', () => {
    const b = Buffer.alloc(9);
    writeFrameHeader(b, 0, 0x123456, 7, 0xab, 0xffffffff);
    expect(b.toString('hex')).toBe('12345607ab7fffffff');
  });
  it('encodes control frames', () => {
    expect(encodeSettings([[4, 65536], [3, 100]]).toString('hex')).toBe('00000c040000000000' + '000400010000' + '000300000064');
    expect(encodeSettings([], true).toString('hex')).toBe('000000040100000000');
    expect(encodePing(Buffer.from('abcdefgh'), true).subarray(0, 9).toString('hex')).toBe('000008060100000000');
    expect(() => encodePing(Buffer.alloc(7), false)).toThrow(RangeError);
    expect(encodeGoaway(5, 11, 'calm').toString('hex')).toBe('00000c07000000000000000005' + '0000000b' + Buffer.from('calm').toString('hex'));
    expect(encodeRstStream(3, 8).toString('hex')).toBe('00000403000000000300000008');
    expect(encodeWindowUpdate(0, 1000).toString('hex')).toBe('000004080000000000000003e8');
    expect(encodeFrame(FrameType.DATA, Flag.END_STREAM, 1).toString('hex')).toBe('000000000100000001');
  });
  it('splits a large header block into HEADERS + CONTINUATION with END_HEADERS on the last', () => {
    const block = Buffer.alloc(40_000, 0x86);
    const out = encodeHeaderFrames(1, block, true, 16_384);
    const sink = new Collect();
    new FrameReader(16_384).push(out, sink);
    expect(sink.frames.map(([t, f, id, p]) => [t, f, id, p.length / 2])).toEqual([
      [FrameType.HEADERS, Flag.END_STREAM, 1, 16_384],
      [FrameType.CONTINUATION, 0, 1, 16_384],
      [FrameType.CONTINUATION, Flag.END_HEADERS, 1, 40_000 - 2 * 16_384],
    ]);
  });
});

describe('FrameReader', () => {
  it('cuts frames across arbitrary chunk boundaries and keeps nothing once a frame completes', () => {
    const wire = Buffer.concat([encodePing(Buffer.from('12345678'), false), encodeFrame(FrameType.DATA, 0, 1, Buffer.from('hello')), encodeWindowUpdate(1, 5)]);
    for (let step = 1; step <= wire.length; step++) {
      const sink = new Collect();
      const reader = new FrameReader();
      for (let i = 0; i < wire.length; i += step) reader.push(wire.subarray(i, i + step), sink);
      expect(sink.frames.length, `step ${step}`).toBe(3);
      expect(sink.frames[1]).toEqual([FrameType.DATA, 0, 1, Buffer.from('hello').toString('hex')]);
      expect(reader.bufferedBytes).toBe(0);
    }
  });
  it('reports a frame longer than maxFrameSize from its header alone, and stops when the sink says so', () => {
    const sink = new Collect();
    const header = Buffer.alloc(9);
    writeFrameHeader(header, 0, 16_385, FrameType.DATA, 0, 3);
    new FrameReader(16_384).push(header, sink);
    expect(sink.tooLarge).toEqual([[FrameType.DATA, 3, 16_385]]);
    const stop = new Collect();
    stop.stopAfter = 1;
    const reader = new FrameReader();
    reader.push(Buffer.concat([encodeWindowUpdate(0, 1), encodeWindowUpdate(0, 2)]), stop);
    expect(stop.frames.length).toBe(1);
    expect(reader.bufferedBytes).toBe(0);
  });
});

describe('error codes and gRPC helpers', () => {
  it('maps HTTP/2 error codes both ways and to gRPC status', () => {
    expect(h2ErrorCodeValue('ENHANCE_YOUR_CALM')).toBe(0xb);
    expect(h2ErrorCodeName(0x8)).toBe('CANCEL');
    expect(h2ErrorCodeName(0x99)).toBe('INTERNAL_ERROR');
    expect(grpcStatusForH2Error('REFUSED_STREAM')).toBe(14);
    expect(grpcStatusForH2Error('CANCEL')).toBe(1);
    expect(grpcStatusForH2Error('PROTOCOL_ERROR')).toBe(13);
    const e = new H2Error('FLOW_CONTROL_ERROR', 'x', { scope: 'stream', streamId: 3 });
    expect([e.code, e.scope, e.streamId, e.name]).toEqual(['FLOW_CONTROL_ERROR', 'stream', 3, 'H2Error']);
  });
  it('percent-encodes grpc-message as the gRPC spec says (and decodes back)', () => {
    expect(percentEncodeGrpcMessage('plain text #1')).toBe('plain text #1');
    expect(percentEncodeGrpcMessage('100% é\n')).toBe('100%25 %C3%A9%0A');
    for (const s of ['', 'naïve 100% 日本語 \t\u0000', '%%%41']) expect(percentDecodeGrpcMessage(percentEncodeGrpcMessage(s))).toBe(s);
  });
  it('parses grpc-timeout', () => {
    expect(parseGrpcTimeout('1H')).toBe(3_600_000);
    expect(parseGrpcTimeout('2M')).toBe(120_000);
    expect(parseGrpcTimeout('3S')).toBe(3000);
    expect(parseGrpcTimeout('400m')).toBe(400);
    expect(parseGrpcTimeout('5000u')).toBe(5);
    expect(parseGrpcTimeout('7000000n')).toBe(7);
    for (const bad of ['', '1', 'S', '123456789S', '1s', '-1S', '1.5S']) expect(parseGrpcTimeout(bad), bad).toBeNaN();
  });
});
