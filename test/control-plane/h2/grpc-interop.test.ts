import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { createGrpcServer, type GrpcServer, type ServerCall } from '../../../control-plane/src/h2/index.js';
import { rawClient, sleep } from './h2-test-kit.js';

const S = '/test.Echo/';
const METHODS = {
  unary: { path: `${S}Unary`, requestStream: false, responseStream: false },
  clientStream: { path: `${S}ClientStream`, requestStream: true, responseStream: false },
  serverStream: { path: `${S}ServerStream`, requestStream: false, responseStream: true },
  bidi: { path: `${S}Bidi`, requestStream: true, responseStream: true },
  fail: { path: `${S}Fail`, requestStream: false, responseStream: false },
  hang: { path: `${S}Hang`, requestStream: true, responseStream: true },
  missing: { path: `${S}Missing`, requestStream: false, responseStream: false },
};

describe('h2 gRPC server with @grpc/grpc-js clients (native handlers)', () => {
  let server: GrpcServer;
  let client: ReturnType<typeof rawClient>;
  let port: number;
  const seenMetadata: Record<string, unknown>[] = [];
  const hangCalls: ServerCall[] = [];
  const hangClosed: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    server = createGrpcServer({
      maxReceiveMessageBytes: 4 * 1024 * 1024,
      onError: (err) => errors.push(err.message),
      handlers: {
        [METHODS.unary.path]: (call, metadata) => {
          seenMetadata.push(metadata.getMap());
          call.onMessage = (m) => {
            call.write(Buffer.concat([Buffer.from('echo:'), m]));
            call.end();
          };
        },
        [METHODS.clientStream.path]: (call) => {
          let total = 0;
          let count = 0;
          call.onMessage = (m) => {
            total += m.length;
            count++;
          };
          call.onEnd = () => {
            call.write(Buffer.from(`${count}/${total}`));
            call.end();
          };
        },
        [METHODS.serverStream.path]: (call) => {
          call.onMessage = (m) => {
            const spec = m.toString();
            const [countText, sizeText] = spec.split('x');
            const count = Number(countText);
            const size = Number(sizeText);
            let written = 0;
            for (let i = 0; i < count; i++) {
              const body = Buffer.alloc(size, i % 256);
              call.write(body, () => written++);
            }
            call.end();
          };
        },
        [METHODS.bidi.path]: (call) => {
          call.onMessage = (m) => call.write(m);
          call.onEnd = () => call.end();
        },
        [METHODS.fail.path]: (call) => {
          call.onMessage = (m) => call.fail(grpc.status.FAILED_PRECONDITION, m.toString('utf8'));
        },
        [METHODS.hang.path]: (call) => {
          hangCalls.push(call);
          call.write(Buffer.from('hello'));
          call.onClose = () => hangClosed.push('closed');
        },
        '/test.Echo/Chain': (call) => {
          // Paced writes: the next message is written from the previous one's onWritten.
          let i = 0;
          const next = (): void => {
            if (i === 300) {
              call.end();
              return;
            }
            const n = i++;
            call.write(Buffer.alloc(n % 2 === 0 ? 20_000 : 10, n % 256), next);
          };
          call.onEnd = next;
        },
        '/test.Echo/Throw': () => {
          throw new Error('boom');
        },
        '/test.Echo/ThrowLater': (call) => {
          call.onMessage = () => {
            throw new Error('kaboom in onMessage');
          };
        },
      },
    });
    port = await server.listen();
    client = rawClient(`127.0.0.1:${port}`, {
      ...METHODS,
      throws: { path: '/test.Echo/Throw', requestStream: false, responseStream: false },
      chain: { path: '/test.Echo/Chain', requestStream: false, responseStream: true },
      throwsLater: { path: '/test.Echo/ThrowLater', requestStream: false, responseStream: false },
    });
  });
  afterAll(async () => {
    client.close();
    await server.close(500);
  });

  const unary = (method: string, body: Buffer, md = new grpc.Metadata()): Promise<Buffer> =>
    new Promise((resolve, reject) => client[method]!(body, md, (err: grpc.ServiceError | null, res: Buffer) => (err ? reject(err) : resolve(res))));

  it('unary call with metadata', async () => {
    const md = new grpc.Metadata();
    md.set('x-node-id', 'envoy-1');
    md.set('trace-bin', Buffer.from([1, 2, 3, 255]));
    const res = await unary('unary', Buffer.from('ping'), md);
    expect(res.toString()).toBe('echo:ping');
    const seen = seenMetadata.at(-1)!;
    expect(seen['x-node-id']).toBe('envoy-1');
    expect(Buffer.from(seen['trace-bin'] as Buffer)).toEqual(Buffer.from([1, 2, 3, 255]));
    expect(Object.keys(seen).some((k) => k.startsWith(':') || k === 'content-type' || k === 'te' || k.startsWith('grpc-'))).toBe(false);
  });

  it('client-streaming with many messages', async () => {
    const res = await new Promise<Buffer>((resolve, reject) => {
      const call = client.clientStream!((err: grpc.ServiceError | null, r: Buffer) => (err ? reject(err) : resolve(r)));
      for (let i = 0; i < 2000; i++) call.write(Buffer.alloc(100 + (i % 50), 7));
      call.end();
    });
    let expected = 0;
    for (let i = 0; i < 2000; i++) expected += 100 + (i % 50);
    expect(res.toString()).toBe(`2000/${expected}`);
  });

  it('server-streaming: many small messages and a 3 MB message through 64 KB client windows', async () => {
    const collect = (spec: string): Promise<Buffer[]> =>
      new Promise((resolve, reject) => {
        const out: Buffer[] = [];
        const call = client.serverStream!(Buffer.from(spec));
        call.on('data', (b: Buffer) => out.push(b));
        call.on('error', reject);
        call.on('end', () => resolve(out));
      });
    const small = await collect('500x10');
    expect(small.length).toBe(500);
    expect(small[499]).toEqual(Buffer.alloc(10, 499 % 256));
    const big = await collect(`2x${3 * 1024 * 1024}`);
    expect(big.map((b) => b.length)).toEqual([3 * 1024 * 1024, 3 * 1024 * 1024]);
    expect(big[1]!.every((x) => x === 1)).toBe(true);
  });

  it('50 concurrent server-streaming calls on one connection share the windows and all complete', async () => {
    const results = await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<number>((resolve, reject) => {
            let bytes = 0;
            const call = client.serverStream!(Buffer.from('4x50000'));
            call.on('data', (b: Buffer) => (bytes += b.length));
            call.on('error', reject);
            call.on('end', () => resolve(bytes));
          }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 50 }, () => 200_000));
  });

  it('writes paced by onWritten (each write from the previous callback) arrive in order', async () => {
    const got = await new Promise<Buffer[]>((resolve, reject) => {
      const out: Buffer[] = [];
      const call = client.chain!(Buffer.from('go'));
      call.on('data', (b: Buffer) => out.push(b));
      call.on('error', reject);
      call.on('end', () => resolve(out));
    });
    expect(got.length).toBe(300);
    expect(got.every((b, n) => b.length === (n % 2 === 0 ? 20_000 : 10) && b[0] === n % 256)).toBe(true);
  });

  it('bidi echo', async () => {
    const call = client.bidi!();
    const got: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on('data', (b: Buffer) => got.push(b.toString()));
      call.on('error', reject);
      call.on('end', resolve);
    });
    for (let i = 0; i < 100; i++) call.write(Buffer.from(`m${i}`));
    call.end();
    await done;
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
  });

  it('a 3 MB request message (client → server flow control)', async () => {
    const res = await new Promise<Buffer>((resolve, reject) => {
      const call = client.clientStream!((err: grpc.ServiceError | null, r: Buffer) => (err ? reject(err) : resolve(r)));
      call.write(Buffer.alloc(3 * 1024 * 1024, 1));
      call.write(Buffer.alloc(3 * 1024 * 1024, 2));
      call.end();
    });
    expect(res.toString()).toBe(`2/${6 * 1024 * 1024}`);
  });

  it('a request message over maxReceiveMessageBytes → RESOURCE_EXHAUSTED', async () => {
    const err = await unary('unary', Buffer.alloc(4 * 1024 * 1024 + 1)).catch((e: grpc.ServiceError) => e);
    expect((err as grpc.ServiceError).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect((err as grpc.ServiceError).details).toContain('larger than max');
  });

  it('unknown method → UNIMPLEMENTED', async () => {
    const err = (await unary('missing', Buffer.from('x')).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(err.details).toContain('unknown method');
  });

  it('fail() status and message with non-ASCII and percent characters arrive intact', async () => {
    const text = 'naïve 100% sûr — 日本語 #?&=/ \t done';
    const err = (await unary('fail', Buffer.from(text, 'utf8')).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(err.details).toBe(text);
  });

  it('a handler that throws fails that call with INTERNAL and reports to onError', async () => {
    const err = (await unary('throws', Buffer.from('x')).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(err.code).toBe(grpc.status.INTERNAL);
    expect(errors.some((m) => m.includes('boom'))).toBe(true);
    const later = (await unary('throwsLater', Buffer.from('x')).catch((e: unknown) => e)) as grpc.ServiceError;
    expect(later.code).toBe(grpc.status.INTERNAL);
    expect(errors.some((m) => m.includes('kaboom in onMessage'))).toBe(true);
    // The server keeps serving.
    expect((await unary('unary', Buffer.from('again'))).toString()).toBe('echo:again');
  });

  it('client cancel → onClose on the server', async () => {
    const call = client.hang!();
    const first = await new Promise<Buffer>((resolve) => call.once('data', resolve));
    expect(first.toString()).toBe('hello');
    call.on('error', () => {});
    const before = hangClosed.length;
    call.cancel();
    for (let i = 0; i < 100 && hangClosed.length === before; i++) await sleep(10);
    expect(hangClosed.length).toBe(before + 1);
    expect(hangCalls.at(-1)!.closed).toBe(true);
  });

  it('deadline (grpc-timeout) → DEADLINE_EXCEEDED', async () => {
    const call = client.hang!(new grpc.Metadata(), { deadline: Date.now() + 150 });
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      call.on('data', () => {});
      call.on('error', resolve);
    });
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    for (let i = 0; i < 100 && !hangCalls.at(-1)!.closed; i++) await sleep(10);
    expect(hangCalls.at(-1)!.closed).toBe(true);
  });

  it('stats count connections and streams', async () => {
    const call = client.hang!();
    await new Promise((resolve) => call.once('data', resolve));
    expect(server.stats().connections).toBeGreaterThanOrEqual(1);
    expect(server.stats().streams).toBeGreaterThanOrEqual(1);
    call.on('error', () => {});
    call.cancel();
    for (let i = 0; i < 100 && server.stats().streams > 0; i++) await sleep(10);
    expect(server.stats().streams).toBe(0);
    expect(server.stats().protocolErrors).toBe(0);
  });
});

describe('server close', () => {
  it('fails open calls with UNAVAILABLE and closes the connections', async () => {
    const server = createGrpcServer({
      handlers: {
        [METHODS.hang.path]: (call) => {
          call.write(Buffer.from('hello'));
        },
      },
    });
    const port = await server.listen();
    const client = rawClient(`127.0.0.1:${port}`, METHODS);
    const call = client.hang!();
    await new Promise((resolve) => call.once('data', resolve));
    const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    call.on('error', () => {});
    await server.close(1000);
    const s = await status;
    expect(s.code).toBe(grpc.status.UNAVAILABLE);
    expect(s.details).toContain('server shutting down');
    expect(server.stats().connections).toBe(0);
    client.close();
  });
});
