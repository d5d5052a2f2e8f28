import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { createGrpcServer, type GrpcServer, type ServerCall } from '../../../control-plane/src/h2/index.js';
import { createTestPki, type TestPki } from '../xds/test-pki.js';
import { rawClient } from './h2-test-kit.js';

const METHODS = { who: { path: '/test.Tls/Who', requestStream: false, responseStream: false } };

function serverWith(seen: ServerCall[]): GrpcServer {
  return createGrpcServer({
    handlers: {
      [METHODS.who.path]: (call) => {
        seen.push(call);
        call.onMessage = () => {
          const cert = call.peerCertificate;
          call.write(Buffer.from(JSON.stringify({ secure: call.secure, san: cert?.subjectaltname ?? null })));
          call.end();
        };
      },
    },
  });
}

function who(port: number, ca: string, identity?: { cert: string; key: string }): Promise<{ secure: boolean; san: string | null }> {
  const client = rawClient(
    `127.0.0.1:${port}`,
    METHODS,
    grpc.credentials.createSsl(Buffer.from(ca), identity ? Buffer.from(identity.key) : null, identity ? Buffer.from(identity.cert) : null),
    { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost' },
  );
  return new Promise((resolve, reject) => {
    client.who!(Buffer.from('?'), (err: grpc.ServiceError | null, res: Buffer) => {
      client.close();
      if (err) reject(err);
      else resolve(JSON.parse(res.toString()) as { secure: boolean; san: string | null });
    });
  });
}

describe('TLS (ALPN h2) and client certificates', () => {
  let pki: TestPki;
  let other: TestPki;
  const servers: GrpcServer[] = [];
  beforeAll(() => {
    pki = createTestPki();
    other = createTestPki();
  });
  afterAll(async () => {
    for (const s of servers) await s.close(100);
    pki.dispose();
    other.dispose();
  });
  const start = async (clientCertificates: 'none' | 'optional' | 'required'): Promise<number> => {
    const s = serverWith([]);
    servers.push(s);
    return s.listen({ tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caPem, clientCertificates } });
  };

  it("'none': TLS works, no client certificate asked", async () => {
    const port = await start('none');
    expect(await who(port, pki.caPem)).toEqual({ secure: true, san: null });
    expect(await who(port, pki.caPem, pki.client('spiffe://mesh.local/ns/a/sa/x'))).toEqual({ secure: true, san: null });
  });

  it("'optional': peerCertificate only when it verified", async () => {
    const port = await start('optional');
    expect(await who(port, pki.caPem, pki.client('spiffe://mesh.local/ns/a/sa/one'))).toEqual({ secure: true, san: 'URI:spiffe://mesh.local/ns/a/sa/one' });
    expect(await who(port, pki.caPem)).toEqual({ secure: true, san: null });
    expect(await who(port, pki.caPem, pki.foreign)).toEqual({ secure: true, san: null });
  });

  it("'required': no or a foreign certificate → handshake refused (UNAVAILABLE); a valid one works", async () => {
    const port = await start('required');
    expect(await who(port, pki.caPem, pki.client('spiffe://mesh.local/ns/a/sa/two'))).toEqual({ secure: true, san: 'URI:spiffe://mesh.local/ns/a/sa/two' });
    await expect(who(port, pki.caPem)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    await expect(who(port, pki.caPem, pki.foreign)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('a client that does not negotiate h2 is refused', async () => {
    const port = await start('none');
    for (const ALPNProtocols of [undefined, ['http/1.1']]) {
      const outcome = await new Promise<string>((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', servername: 'localhost', port, ca: pki.caPem, ...(ALPNProtocols ? { ALPNProtocols } : {}) });
        socket.on('error', (e) => resolve(`error:${(e as NodeJS.ErrnoException).code ?? e.message}`));
        socket.on('close', () => resolve('closed'));
        socket.on('data', () => resolve('data'));
      });
      expect(outcome).not.toBe('data');
    }
  });

  it('updateTls: new connections get the new certificate', async () => {
    const s = serverWith([]);
    servers.push(s);
    const port = await s.listen({ tls: { cert: pki.serverCert, key: pki.serverKey } });
    expect(await who(port, pki.caPem)).toEqual({ secure: true, san: null });
    s.updateTls({ cert: other.serverCert, key: other.serverKey });
    expect(await who(port, other.caPem)).toEqual({ secure: true, san: null });
    await expect(who(port, pki.caPem)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('plaintext calls report secure = false; updateTls without TLS throws; bad options are rejected', async () => {
    const s = serverWith([]);
    servers.push(s);
    const port = await s.listen();
    const client = rawClient(`127.0.0.1:${port}`, METHODS);
    const res = await new Promise<Buffer>((resolve, reject) => client.who!(Buffer.from('?'), (e: grpc.ServiceError | null, r: Buffer) => (e ? reject(e) : resolve(r))));
    client.close();
    expect(JSON.parse(res.toString())).toEqual({ secure: false, san: null });
    expect(() => s.updateTls({ cert: pki.serverCert, key: pki.serverKey })).toThrow(/not listening with TLS/);
    const bad = serverWith([]);
    await expect(bad.listen({ tls: { cert: pki.serverCert, key: pki.serverKey, clientCertificates: 'required' } })).rejects.toThrow(/ca is required/);
    expect(() => createGrpcServer({ maxConcurrentStreams: 0 })).toThrow(/maxConcurrentStreams/);
  });
});
