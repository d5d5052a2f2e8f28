/**
 * The ALS server over real gRPC on 127.0.0.1, and its bounded ingestion queue.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AccessRecord } from '../../../control-plane/src/telemetry/access-record.js';
import { accessRecord } from '../../../control-plane/src/telemetry/access-record.js';
import { createAlsServer, type AlsServer } from '../../../control-plane/src/telemetry/als-server.js';
import { createIngestQueue } from '../../../control-plane/src/telemetry/ingest-queue.js';
import { encodeBatch, encodeTcpBatch, httpEntry, openAlsStream, tlsFailureEntry } from './envoy-als-client.js';

const TD = 'spiffe://meshward.local';

describe('ALS server', () => {
  let server: AlsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('accepts an Envoy-style stream (identifier first, then batches) and answers OK when it half-closes', async () => {
    const got: AccessRecord[] = [];
    server = createAlsServer({ onRecords: (b) => got.push(...b), logName: 'meshward' });
    const port = await server.listen({ host: '127.0.0.1', port: 0 });
    const s = openAlsStream(`127.0.0.1:${port}`);
    await s.write(encodeBatch([httpEntry({ identity: `${TD}/ns/a/sa/one`, model: 'chat', version: 'v1' })], 'edge-1'));
    await s.write(encodeBatch([httpEntry({ identity: `${TD}/ns/a/sa/two`, model: 'chat', version: 'v2', code: 503 })]));
    await s.write(encodeTcpBatch([tlsFailureEntry()]));
    expect(await s.end()).toEqual({ code: 0, details: '' });
    s.close();
    await server.drained();
    expect(got.map((r) => [r.nodeId, r.identity, r.version, r.responseCode, r.denied])).toEqual([
      ['edge-1', `${TD}/ns/a/sa/one`, 'v1', 200, undefined],
      ['edge-1', `${TD}/ns/a/sa/two`, 'v2', 503, undefined],
      ['edge-1', 'anonymous', '', 0, 'mtls'],
    ]);
    expect(server.stats()).toMatchObject({ messages: 3, accepted: 3, dropped: 0, malformed: 0 });
    expect(await server.registry.metrics()).toMatch(/meshward_telemetry_entries_total 3/);
  });

  it('ends a stream that sends garbage with INVALID_ARGUMENT, and other streams keep working', async () => {
    const got: AccessRecord[] = [];
    server = createAlsServer({ onRecords: (b) => got.push(...b) });
    const port = await server.listen({ host: '127.0.0.1', port: 0 });
    const bad = openAlsStream(`127.0.0.1:${port}`);
    const good = openAlsStream(`127.0.0.1:${port}`);
    await bad.write(Buffer.from([0x12, 0xff, 0xff, 0x03]));
    expect(await bad.status).toMatchObject({ code: 3, details: expect.stringMatching(/does not decode: length .* runs past the end/) });
    bad.close();
    await good.write(encodeBatch([httpEntry({ identity: `${TD}/ns/a/sa/ok` })], 'edge-2'));
    expect(await good.end()).toMatchObject({ code: 0 });
    good.close();
    await server.drained();
    expect(got).toHaveLength(1);
    expect(server.stats()).toMatchObject({ malformed: 1 });
  });

  it('ignores batches of another log name (counted)', async () => {
    const got: AccessRecord[] = [];
    server = createAlsServer({ onRecords: (b) => got.push(...b), logName: 'other' });
    const port = await server.listen({ host: '127.0.0.1', port: 0 });
    const s = openAlsStream(`127.0.0.1:${port}`);
    await s.write(encodeBatch([httpEntry({})], 'edge'));
    await s.end();
    s.close();
    await server.drained();
    expect(got).toHaveLength(0);
    expect(server.stats().otherLogNames).toBe(1);
  });

  it('under a slow consumer pauses the streams (backpressure) and never holds more than its capacity', async () => {
    let consumed = 0;
    let maxDepth = 0;
    let block = true;
    server = createAlsServer({
      queueCapacity: 400,
      queueBatchSize: 50,
      onRecords: (b) => {
        consumed += b.length;
        // a consumer that is slow until released
        const until = Date.now() + (block ? 20 : 0);
        while (Date.now() < until);
      },
    });
    const port = await server.listen({ host: '127.0.0.1', port: 0 });
    const s = openAlsStream(`127.0.0.1:${port}`);
    const batch = encodeBatch(Array.from({ length: 100 }, () => httpEntry({ identity: `${TD}/ns/a/sa/x` })));
    const timer = setInterval(() => (maxDepth = Math.max(maxDepth, server!.stats().depth)), 1);
    await s.write(encodeBatch([], 'edge'));
    for (let i = 0; i < 60; i++) await s.write(batch);
    block = false;
    await s.end();
    s.close();
    await server.drained();
    clearInterval(timer);
    const st = server.stats();
    expect(st.pauses).toBeGreaterThan(0);
    expect(maxDepth).toBeLessThanOrEqual(400);
    // every entry is either consumed or counted as dropped: nothing vanishes
    expect(st.consumed + st.dropped).toBe(6000);
    expect(consumed).toBe(st.consumed);
  });
});

describe('ingest queue', () => {
  it('drops and counts what does not fit, signals pressure at the high-water mark, and releases at low water', async () => {
    const events: boolean[] = [];
    const seen: number[] = [];
    const q = createIngestQueue({ capacity: 10, highWater: 8, lowWater: 2, batchSize: 4, consume: (b) => seen.push(b.length), onPressure: (p) => events.push(p) });
    const recs = Array.from({ length: 13 }, () => accessRecord({}));
    expect(q.push(recs)).toBe(3);
    expect(q.stats()).toMatchObject({ depth: 10, dropped: 3, accepted: 10, paused: true });
    await q.drained();
    expect(seen).toEqual([4, 4, 2]);
    expect(events).toEqual([true, false]);
    expect(q.stats()).toMatchObject({ depth: 0, consumed: 10, paused: false, pauses: 1 });
  });

  it('a consumer that throws loses only that batch (counted)', async () => {
    const errors: unknown[] = [];
    let n = 0;
    const q = createIngestQueue({ capacity: 10, batchSize: 2, consume: () => {
      if (n++ === 0) throw new Error('boom');
    }, onError: (e) => errors.push(e) });
    q.push(Array.from({ length: 4 }, () => accessRecord({})));
    await q.drained();
    expect(q.stats()).toMatchObject({ consumerErrors: 1, consumed: 4 });
    expect(errors).toHaveLength(1);
  });

  it('after close, pushes are dropped and counted', () => {
    const q = createIngestQueue({ capacity: 10, consume: () => {} });
    q.push([accessRecord({})]);
    q.close();
    expect(q.push([accessRecord({}), accessRecord({})])).toBe(2);
    expect(q.stats().dropped).toBe(3);
  });
});

describe('ALS on a shared gRPC server', () => {
  it('registers next to another service on a server the caller binds (as with ADS on one port)', async () => {
    const grpc = await import('@grpc/grpc-js');
    const got: AccessRecord[] = [];
    const als = createAlsServer({ onRecords: (b) => got.push(...b) });
    const shared = new grpc.Server();
    als.addTo(shared);
    const port = await new Promise<number>((resolve, reject) => shared.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const s = openAlsStream(`127.0.0.1:${port}`);
    await s.write(encodeBatch([httpEntry({ identity: `${TD}/ns/a/sa/shared` })], 'edge'));
    expect(await s.end()).toMatchObject({ code: 0 });
    s.close();
    await als.drained();
    expect(got.map((r) => r.identity)).toEqual([`${TD}/ns/a/sa/shared`]);
    await als.close();
    shared.forceShutdown();
  });
});
