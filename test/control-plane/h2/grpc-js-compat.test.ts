import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { createGrpcServer, type GrpcServer } from '../../../control-plane/src/h2/index.js';
import { createAlsServer } from '../../../control-plane/src/telemetry/als-server.js';
import type { AccessRecord } from '../../../control-plane/src/telemetry/access-record.js';
import { encodeBatch, httpEntry, openAlsStream } from '../telemetry/envoy-als-client.js';
import { createTestPki, type TestPki } from '../xds/test-pki.js';
import { rawClient, sleep } from './h2-test-kit.js';

const text = {
  serialize: (s: unknown): Buffer => Buffer.from(String(s), 'utf8'),
  deserialize: (b: Buffer): string => b.toString('utf8'),
};
const method = (name: string, requestStream: boolean, responseStream: boolean, originalName?: string): grpc.MethodDefinition<string, string> => ({
  path: `/test.Compat/${name}`,
  requestStream,
  responseStream,
  requestSerialize: text.serialize,
  requestDeserialize: text.deserialize,
  responseSerialize: text.serialize,
  responseDeserialize: text.deserialize,
  ...(originalName !== undefined ? { originalName } : {}),
});
const DEFINITION: grpc.ServiceDefinition = {
  Unary: method('Unary', false, false),
  Collect: method('Collect', true, false, 'collect'),
  Count: method('Count', false, true),
  Chat: method('Chat', true, true),
  Missing: method('Missing', false, false),
};

interface Seen {
  events: string[];
  peer?: string;
  auth?: { transportSecurityType?: string; sslPeerCertificate?: unknown };
  md?: string;
  cancelled?: boolean;
  deadline?: Date | number;
  path?: string;
}

describe('grpc-js services through grpc-js-compat (real grpc-js client)', () => {
  let server: GrpcServer;
  let port: number;
  const seen: Seen[] = [];
  let client: ReturnType<typeof rawClient>;

  beforeAll(async () => {
    const implementation: grpc.UntypedServiceImplementation = {
      Unary: (call: grpc.ServerUnaryCall<string, string>, callback: grpc.sendUnaryData<string>) => {
        const req = call.request;
        if (req === 'error') callback({ code: grpc.status.NOT_FOUND, details: 'no such thing', metadata: new grpc.Metadata() } as grpc.ServiceError);
        else if (req === 'plain-error') callback(new Error('plain failure'));
        else if (req === 'throw') throw new Error('handler threw');
        else {
          const trailer = new grpc.Metadata();
          trailer.set('x-trailer', 'yes');
          callback(null, `hello ${req} from ${call.getPath()}`, trailer);
        }
      },
      // Shaped like the ALS handler: listeners attached after an async admission step, metadata,
      // getAuthContext(), getPeer(), cancelled, callback; 'close' for cleanup; pause()/resume().
      collect: (call: grpc.ServerReadableStream<string, string>, callback: grpc.sendUnaryData<string>) => {
        const s: Seen = { events: [] };
        seen.push(s);
        const auth = call.getAuthContext();
        s.auth = auth;
        s.peer = call.getPeer();
        s.md = String(call.metadata.get('x-who')[0] ?? '');
        s.deadline = call.getDeadline();
        void Promise.resolve()
          .then(() => sleep(30))
          .then(() => {
            if (s.md === 'deny') {
              callback({ code: grpc.status.PERMISSION_DENIED, details: 'denied', metadata: new grpc.Metadata() } as grpc.ServiceError);
              return;
            }
            const got: string[] = [];
            call.pause();
            setTimeout(() => call.resume(), 20);
            call.on('data', (m: string) => {
              s.events.push(`data:${m}`);
              got.push(m);
            });
            call.on('end', () => {
              s.events.push('end');
              if (s.md !== 'hold') callback(null, got.join('+'));
            });
            call.on('error', () => s.events.push('error'));
            call.on('close', () => {
              s.events.push('close');
              s.cancelled = call.cancelled;
            });
            call.on('cancelled', () => s.events.push('cancelled'));
          });
      },
      Count: (call: grpc.ServerWritableStream<string, string>) => {
        const n = Number(call.request);
        if (n < 0) {
          call.emit('error', { code: grpc.status.OUT_OF_RANGE, details: 'negative count' });
          return;
        }
        const md = new grpc.Metadata();
        md.set('x-header', 'early');
        call.sendMetadata(md);
        let written = 0;
        for (let i = 0; i < n; i++) call.write(`#${i}`, () => written++);
        call.end();
      },
      Chat: (call: grpc.ServerDuplexStream<string, string>) => {
        call.on('data', (m: string) => {
          if (m === 'bye') call.end();
          else call.write(m.toUpperCase());
        });
        call.on('end', () => call.end());
      },
    };
    server = createGrpcServer({ services: [{ definition: DEFINITION, implementation }] });
    port = await server.listen();
    client = rawClient(`127.0.0.1:${port}`, {
      unary: { path: '/test.Compat/Unary', requestStream: false, responseStream: false },
      collect: { path: '/test.Compat/Collect', requestStream: true, responseStream: false },
      count: { path: '/test.Compat/Count', requestStream: false, responseStream: true },
      chat: { path: '/test.Compat/Chat', requestStream: true, responseStream: true },
      missing: { path: '/test.Compat/Missing', requestStream: false, responseStream: false },
    });
  });
  afterAll(async () => {
    client.close();
    await server.close(200);
  });

  const unary = (body: string): Promise<{ value?: string; err?: grpc.ServiceError; trailers?: grpc.Metadata }> =>
    new Promise((resolve) => {
      let trailers: grpc.Metadata | undefined;
      const call = client.unary!(Buffer.from(body), (err: grpc.ServiceError | null, res: Buffer) => {
        setImmediate(() => resolve(err ? { err } : { value: res.toString(), ...(trailers ? { trailers } : {}) }));
      });
      call.on('status', (s: grpc.StatusObject) => (trailers = s.metadata));
    });

  it('unary: request, callback value, trailing metadata, getPath()', async () => {
    const r = await unary('bob');
    expect(r.value).toBe('hello bob from /test.Compat/Unary');
    expect(r.trailers?.get('x-trailer')).toEqual(['yes']);
  });

  it('unary: callback(ServiceError) keeps code and details; callback(Error) → UNKNOWN; a throw → INTERNAL', async () => {
    expect((await unary('error')).err).toMatchObject({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
    expect((await unary('plain-error')).err).toMatchObject({ code: grpc.status.UNKNOWN, details: 'plain failure' });
    expect((await unary('throw')).err?.code).toBe(grpc.status.INTERNAL);
  });

  it('a method without implementation → UNIMPLEMENTED', async () => {
    const err = await new Promise<grpc.ServiceError>((resolve) => client.missing!(Buffer.from('x'), (e: grpc.ServiceError) => resolve(e)));
    expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
  });

  it('client-streaming, ALS-shaped: late listeners, pause/resume, metadata, peer, auth context, end → callback', async () => {
    const md = new grpc.Metadata();
    md.set('x-who', 'envoy-7');
    const result = await new Promise<string>((resolve, reject) => {
      const call = client.collect!(md, { deadline: Date.now() + 60_000 }, (err: grpc.ServiceError | null, res: Buffer) => (err ? reject(err) : resolve(res.toString())));
      for (let i = 0; i < 50; i++) call.write(Buffer.from(`m${i}`));
      call.end();
    });
    expect(result).toBe(Array.from({ length: 50 }, (_, i) => `m${i}`).join('+'));
    const s = seen.at(-1)!;
    for (let i = 0; i < 50 && !s.events.includes('close'); i++) await sleep(10);
    expect(s.md).toBe('envoy-7');
    expect(s.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(s.auth).toEqual({});
    expect(s.deadline).toBeInstanceOf(Date);
    expect(s.events.at(-2)).toBe('end');
    expect(s.events.at(-1)).toBe('close');
    expect(s.cancelled).toBe(false);
  });

  it('client-streaming refused before reading (callback with PERMISSION_DENIED)', async () => {
    const md = new grpc.Metadata();
    md.set('x-who', 'deny');
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      const call = client.collect!(md, (e: grpc.ServiceError) => resolve(e));
      call.write(Buffer.from('x'));
    });
    expect(err).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: 'denied' });
  });

  it('client cancel → cancelled = true, "cancelled" then "close"', async () => {
    // node:http2 half-closes (empty DATA END_STREAM) before its RST_STREAM CANCEL, so 'end' comes first.
    const md = new grpc.Metadata();
    md.set('x-who', 'hold');
    const call = client.collect!(md, () => {});
    call.write(Buffer.from('a'));
    await sleep(100);
    call.cancel();
    const s = seen.at(-1)!;
    for (let i = 0; i < 100 && !s.events.includes('close'); i++) await sleep(10);
    expect(s.events).toEqual(['data:a', 'end', 'cancelled', 'close']);
    expect(s.cancelled).toBe(true);
  });

  it('server-streaming: sendMetadata, write with callbacks, end; emit("error") ends with that status', async () => {
    const got: string[] = [];
    let headers: grpc.Metadata | undefined;
    await new Promise<void>((resolve, reject) => {
      const call = client.count!(Buffer.from('200'));
      call.on('metadata', (m: grpc.Metadata) => (headers = m));
      call.on('data', (b: Buffer) => got.push(b.toString()));
      call.on('error', reject);
      call.on('end', resolve);
    });
    expect(got.length).toBe(200);
    expect(got[199]).toBe('#199');
    expect(headers?.get('x-header')).toEqual(['early']);
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      const call = client.count!(Buffer.from('-1'));
      call.on('data', () => {});
      call.on('error', resolve);
    });
    expect(err).toMatchObject({ code: grpc.status.OUT_OF_RANGE, details: 'negative count' });
  });

  it('bidi', async () => {
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const call = client.chat!();
      call.on('data', (b: Buffer) => got.push(b.toString()));
      call.on('error', reject);
      call.on('end', resolve);
      call.write(Buffer.from('a'));
      call.write(Buffer.from('b'));
      call.write(Buffer.from('bye'));
    });
    expect(got).toEqual(['A', 'B']);
  });
});

describe('the meshward ALS service (telemetry/als-server.ts) through grpc-js-compat', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki.dispose());

  it('plaintext: records arrive, half-close answers OK', async () => {
    const got: AccessRecord[] = [];
    const als = createAlsServer({ onRecords: (b) => got.push(...b), logName: 'meshward' });
    const server = createGrpcServer({ services: [als.service] });
    const port = await server.listen();
    const s = openAlsStream(`127.0.0.1:${port}`);
    await s.write(encodeBatch([httpEntry({ identity: 'spiffe://mesh.local/ns/a/sa/one', model: 'chat', version: 'v1' })], 'edge-1'));
    await s.write(encodeBatch([httpEntry({ identity: 'spiffe://mesh.local/ns/a/sa/two', model: 'chat', version: 'v2', code: 503 })]));
    expect(await s.end()).toEqual({ code: 0, details: '' });
    s.close();
    await als.drained();
    expect(got.map((r) => [r.nodeId, r.identity, r.responseCode])).toEqual([
      ['edge-1', 'spiffe://mesh.local/ns/a/sa/one', 200],
      ['edge-1', 'spiffe://mesh.local/ns/a/sa/two', 503],
    ]);
    await server.close(200);
    await als.close();
  });

  it('mTLS: authenticate sees the verified client certificate and can refuse', async () => {
    const seenCerts: Array<string | undefined> = [];
    const als = createAlsServer({
      onRecords: () => {},
      authenticate: (ctx) => {
        seenCerts.push(ctx.transportSecurityType === 'ssl' ? String(ctx.peerCertificate?.subjectaltname ?? 'none') : 'plain');
        if (ctx.metadata.get('x-deny').length > 0) throw Object.assign(new Error('not you'), { code: 'PERMISSION_DENIED' });
      },
    });
    const server = createGrpcServer({ services: [als.service] });
    const port = await server.listen({ tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caPem, clientCertificates: 'optional' } });
    const id = pki.client('spiffe://mesh.local/ns/a/sa/one');
    const ok = openAlsStream(`127.0.0.1:${port}`, { tls: { ca: pki.caPem, cert: id.cert, key: id.key } });
    await ok.write(encodeBatch([httpEntry({ identity: 'x' })], 'edge-1'));
    expect(await ok.end()).toEqual({ code: 0, details: '' });
    ok.close();
    const denied = openAlsStream(`127.0.0.1:${port}`, { tls: { ca: pki.caPem }, metadata: { 'x-deny': '1' } });
    await denied.write(encodeBatch([httpEntry({ identity: 'x' })], 'edge-1'));
    const status = await denied.status;
    denied.close();
    expect(status.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(status.details).toContain('not you');
    expect(seenCerts).toEqual(['URI:spiffe://mesh.local/ns/a/sa/one', 'none']);
    await server.close(200);
    await als.close();
  });
});
