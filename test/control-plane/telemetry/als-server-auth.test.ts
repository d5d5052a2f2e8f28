/**
 * The ALS server's `authenticate` hook over real gRPC on 127.0.0.1: messages sent while a stream is
 * being admitted wait and are all ingested once it is; a refusal ends the call with the mapped
 * status before any entry is read; and the service can be served on another grpc-js server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import type { AccessRecord } from '../../../control-plane/src/telemetry/access-record.js';
import { createAlsServer, type AlsAuthContext, type AlsServer } from '../../../control-plane/src/telemetry/als-server.js';
import { XdsError } from '../../../control-plane/src/xds/errors.js';
import { encodeBatch, httpEntry, openAlsStream } from './envoy-als-client.js';

const TD = 'spiffe://meshward.local';

describe('ALS server authentication', () => {
  let server: AlsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('holds the messages of a stream until it is admitted, then ingests every one', async () => {
    const got: AccessRecord[] = [];
    let admit!: () => void;
    const seen: AlsAuthContext[] = [];
    server = createAlsServer({
      onRecords: (b) => got.push(...b),
      authenticate: (ctx) => {
        seen.push(ctx);
        return new Promise<void>((r) => (admit = r));
      },
    });
    const port = await server.listen({ host: '127.0.0.1', port: 0 });
    const s = openAlsStream(`127.0.0.1:${port}`, { metadata: { 'x-meshward-join-token': 'mwj_abc' } });
    for (let i = 0; i < 20; i++) await s.write(encodeBatch([httpEntry({ identity: `${TD}/ns/a/sa/n${i}` })], i === 0 ? 'edge-1' : undefined));
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toHaveLength(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.metadata.get('x-meshward-join-token')).toEqual(['mwj_abc']);
    expect(seen[0]!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(seen[0]!.transportSecurityType).toBeUndefined();
    admit();
    expect(await s.end()).toEqual({ code: 0, details: '' });
    s.close();
    await server.drained();
    expect(got.map((r) => r.identity)).toEqual(Array.from({ length: 20 }, (_, i) => `${TD}/ns/a/sa/n${i}`));
    expect(got.every((r) => r.nodeId === 'edge-1')).toBe(true);
  });

  it.each([
    [new XdsError('PERMISSION_DENIED', 'identity is blocked'), grpc.status.PERMISSION_DENIED, 'access log stream refused: identity is blocked'],
    [new XdsError('UNAUTHENTICATED', 'no credential'), grpc.status.UNAUTHENTICATED, 'access log stream refused: no credential'],
    [new Error('boom'), grpc.status.UNAUTHENTICATED, 'access log stream refused: boom'],
  ])('refuses with %s → status %i, reading nothing', async (err, code, details) => {
    const got: AccessRecord[] = [];
    const errors: string[] = [];
    server = createAlsServer({ onRecords: (b) => got.push(...b), authenticate: () => Promise.reject(err), onError: (_e, c) => errors.push(c.what) });
    const port = await server.listen({ host: '127.0.0.1', port: 0 });
    const s = openAlsStream(`127.0.0.1:${port}`);
    await s.write(encodeBatch([httpEntry({ identity: `${TD}/ns/a/sa/x` })], 'edge-1')).catch(() => undefined);
    expect(await s.status).toEqual({ code, details });
    s.close();
    await server.drained();
    expect(got).toHaveLength(0);
    expect(server.refusedStreams).toBe(1);
    expect(errors[0]).toMatch(/^ALS stream from 127\.0\.0\.1:\d+ refused$/);
    expect(await server.registry.metrics()).toMatch(/meshward_telemetry_refused_streams_total 1\b/);
  });

  it('serves its service on a grpc-js server the caller owns', async () => {
    const got: AccessRecord[] = [];
    server = createAlsServer({ onRecords: (b) => got.push(...b) });
    const own = new grpc.Server();
    own.addService(server.service.definition, server.service.implementation);
    const port = await new Promise<number>((resolve, reject) => own.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e === null ? resolve(p) : reject(e))));
    try {
      const s = openAlsStream(`127.0.0.1:${port}`);
      await s.write(encodeBatch([httpEntry({ identity: `${TD}/ns/a/sa/y` })], 'edge-9'));
      expect(await s.end()).toMatchObject({ code: 0 });
      s.close();
      await server.drained();
      expect(got.map((r) => [r.nodeId, r.identity])).toEqual([['edge-9', `${TD}/ns/a/sa/y`]]);
    } finally {
      own.forceShutdown();
    }
  });
});
