import * as http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcServer, type GrpcServer, type ServerCall } from '../../../control-plane/src/h2/index.js';
import { sleep } from './h2-test-kit.js';

const PATH = '/test.Http/Call';

interface Response {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders | undefined;
  body: Buffer;
  rstCode: number;
}

function request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer, endStream = true): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = session.request(headers, { endStream: body === undefined && endStream });
    const chunks: Buffer[] = [];
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    req.on('response', (h) => (responseHeaders = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('close', () => resolve({ headers: responseHeaders, trailers, body: Buffer.concat(chunks), rstCode: req.rstCode ?? -1 }));
    if (body !== undefined) {
      if (endStream) req.end(body);
      else req.write(body);
    }
  });
}

const grpcHeaders = (path = PATH, extra: http2.OutgoingHttpHeaders = {}): http2.OutgoingHttpHeaders => ({
  ':method': 'POST',
  ':path': path,
  'content-type': 'application/grpc',
  te: 'trailers',
  ...extra,
});
const frame = (body: Buffer): Buffer => {
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32BE(body.length, 1);
  body.copy(out, 5);
  return out;
};

describe('HTTP-level behaviour with a raw node:http2 client', () => {
  let server: GrpcServer;
  let session: http2.ClientHttp2Session;
  const calls: ServerCall[] = [];

  beforeAll(async () => {
    server = createGrpcServer({
      handlers: {
        [PATH]: (call, metadata) => {
          calls.push(call);
          const mode = metadata.get('x-mode')[0];
          if (mode === 'fail-now') {
            call.fail(9, 'precondition 100% failed');
            return;
          }
          if (mode === 'paused') call.pause();
          const got: Buffer[] = [];
          call.onMessage = (m) => got.push(m);
          call.onEnd = () => {
            call.write(Buffer.from(`n=${got.length}:${got.map((g) => g.toString()).join(',')}`));
            call.end();
          };
        },
      },
    });
    const port = await server.listen();
    session = http2.connect(`http://127.0.0.1:${port}`);
  });
  afterAll(async () => {
    session.close();
    await server.close(200);
  });

  it('normal response: headers (:status 200, content-type, grpc-accept-encoding), DATA, trailers', async () => {
    const res = await request(session, grpcHeaders(), Buffer.concat([frame(Buffer.from('a')), frame(Buffer.from('bc'))]));
    expect(res.headers[':status']).toBe(200);
    expect(res.headers['content-type']).toBe('application/grpc');
    expect(res.headers['grpc-accept-encoding']).toBe('identity');
    expect(res.body.subarray(5).toString()).toBe('n=2:a,bc');
    expect(res.body.readUInt32BE(1)).toBe(8);
    expect(res.trailers).toEqual(expect.objectContaining({ 'grpc-status': '0' }));
    expect(res.trailers!['grpc-message']).toBeUndefined();
  });

  it('trailers-only response: one HEADERS with :status, content-type, grpc-status, grpc-message, END_STREAM; then RST_STREAM NO_ERROR', async () => {
    const res = await request(session, grpcHeaders(PATH, { 'x-mode': 'fail-now' }), Buffer.alloc(0), false);
    expect(res.headers[':status']).toBe(200);
    expect(res.headers['content-type']).toBe('application/grpc');
    expect(res.headers['grpc-status']).toBe('9');
    expect(res.headers['grpc-message']).toBe('precondition 100%25 failed');
    expect(res.trailers).toBeUndefined();
    expect(res.body.length).toBe(0);
    expect(res.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
  });

  it('content-type not application/grpc → 415', async () => {
    const res = await request(session, grpcHeaders(PATH, { 'content-type': 'application/json' }), Buffer.from('{}'));
    expect(res.headers[':status']).toBe(415);
    expect(res.headers['grpc-status']).toBe('3');
  });

  it(':method not POST → 405', async () => {
    const res = await request(session, { ':method': 'GET', ':path': PATH, 'content-type': 'application/grpc' });
    expect(res.headers[':status']).toBe(405);
    expect(res.headers['grpc-status']).toBe('13');
  });

  it('te may be absent; unknown path → grpc-status 12', async () => {
    const res = await request(session, { ':method': 'POST', ':path': '/nope/Nope', 'content-type': 'application/grpc+proto' }, frame(Buffer.from('x')));
    expect(res.headers[':status']).toBe(200);
    expect(res.headers['grpc-status']).toBe('12');
    expect(decodeURIComponent(String(res.headers['grpc-message']))).toContain('unknown method /nope/Nope');
  });

  it('a compressed message → UNIMPLEMENTED with a non-identity grpc-encoding, INTERNAL without', async () => {
    const compressed = frame(Buffer.from('zz'));
    compressed[0] = 1;
    const a = await request(session, grpcHeaders(PATH, { 'grpc-encoding': 'gzip' }), compressed);
    expect(a.trailers?.['grpc-status'] ?? a.headers['grpc-status']).toBe('12');
    const b = await request(session, grpcHeaders(), compressed);
    expect(b.trailers?.['grpc-status'] ?? b.headers['grpc-status']).toBe('13');
  });

  it('a message split across DATA frames and several messages in one frame', async () => {
    const req = session.request(grpcHeaders());
    const whole = Buffer.concat([frame(Buffer.from('hello world')), frame(Buffer.from('x')), frame(Buffer.from('yz'))]);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise((r) => req.on('close', r));
    for (let i = 0; i < whole.length; i += 3) {
      req.write(whole.subarray(i, i + 3));
      await sleep(1);
    }
    req.end();
    await closed;
    expect(Buffer.concat(chunks).subarray(5).toString()).toBe('n=3:hello world,x,yz');
  });

  it('pause() holds messages (no credit returned) and resume() delivers them in order', async () => {
    const req = session.request(grpcHeaders(PATH, { 'x-mode': 'paused' }));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    const closed = new Promise((r) => req.on('close', r));
    req.end(Buffer.concat([frame(Buffer.from('one')), frame(Buffer.from('two'))]));
    await sleep(50);
    const call = calls.at(-1)!;
    expect(chunks.length).toBe(0);
    call.resume();
    await closed;
    expect(Buffer.concat(chunks).subarray(5).toString()).toBe('n=2:one,two');
  });

  it('a request header list over maxHeaderListSize → RESOURCE_EXHAUSTED, the connection survives', async () => {
    const res = await request(session, grpcHeaders(PATH, { 'x-big': 'v'.repeat(17_000) }), frame(Buffer.from('x')));
    expect(res.headers['grpc-status']).toBe('8');
    const ok = await request(session, grpcHeaders(), frame(Buffer.from('x')));
    expect(ok.trailers?.['grpc-status']).toBe('0');
  });
});
