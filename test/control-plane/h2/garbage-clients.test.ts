/**
 * Garbage on the xDS port never takes the server or other streams down (issue 3). The real xDS
 * server on the h2 transport, one well-behaved Envoy-like ADS client, and a seeded swarm of raw TCP
 * clients that send mutated prefaces and random, half-valid and truncated HTTP/2 frames (HEADERS
 * that open the ADS method, DATA with gRPC prefixes and random protobuf bytes, SETTINGS, PING,
 * WINDOW_UPDATE, RST_STREAM, CONTINUATION, GOAWAY, unknown types). Afterwards the healthy client
 * still gets pushes, a new client is served, and every garbage connection is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as net from 'node:net';
import { createMulberry32 } from '../../../scripts/seeded-random.js';
import { CONNECTION_PREFACE, encodeFrame } from '../../../control-plane/src/h2/frame.js';
import { encodeHeaderBlock } from '../../../control-plane/src/h2/hpack.js';
import { SotwAdsClient } from '../../xds-clients/sotw-ads-client.js';
import { TypeUrl } from '../xds/support.js';
import { eventually, startHarness, type Harness } from '../xds/harness.js';
import { TRANSPORT_ERRORS_PER_MINUTE } from '../../../control-plane/src/xds/xds-server.js';

const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
/** Fixed so a failure reproduces; MESHWARD_FUZZ_SEED explores others. */
const SEED = Number(process.env.MESHWARD_FUZZ_SEED ?? 0x5eed_0003);
const CLIENTS = 400;
const PARALLEL = 24;

type Rng = () => number;
const int = (next: Rng, n: number): number => Math.floor(next() * n);
const bytes = (next: Rng, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(next, 256)));

/** One frame: sometimes well-formed for the ADS call, often not. */
function garbageFrame(next: Rng, streamIds: readonly number[]): Buffer {
  const streamId = next() < 0.8 ? streamIds[int(next, streamIds.length)]! : int(next, 0x8000_0000);
  const flags = int(next, 256);
  switch (int(next, 12)) {
    case 0: {
      // HEADERS opening the ADS method (valid block), random flags.
      const block = encodeHeaderBlock([
        [':method', next() < 0.9 ? 'POST' : 'GET'],
        [':scheme', 'http'],
        [':path', next() < 0.8 ? ADS_PATH : `/${bytes(next, 4).toString('hex')}`],
        [':authority', 'xds_cluster'],
        ['content-type', next() < 0.9 ? 'application/grpc' : 'text/plain'],
        ['te', 'trailers'],
      ]);
      return encodeFrame(0x1, next() < 0.7 ? 0x4 : flags, streamId, block);
    }
    case 1: {
      // DATA with a gRPC prefix and random (mostly undecodable) protobuf bytes.
      const body = bytes(next, int(next, 48));
      const prefix = Buffer.from([next() < 0.9 ? 0 : 1, 0, 0, 0, next() < 0.7 ? body.length : int(next, 256)]);
      return encodeFrame(0x0, next() < 0.8 ? 0 : flags, streamId, Buffer.concat([prefix, body]));
    }
    case 2:
      return encodeFrame(0x4, next() < 0.5 ? 0 : flags, next() < 0.8 ? 0 : streamId, bytes(next, next() < 0.7 ? 6 * int(next, 4) : int(next, 20)));
    case 3:
      return encodeFrame(0x6, flags & 1, next() < 0.8 ? 0 : streamId, bytes(next, next() < 0.8 ? 8 : int(next, 12)));
    case 4:
      return encodeFrame(0x8, 0, next() < 0.5 ? 0 : streamId, bytes(next, next() < 0.8 ? 4 : int(next, 8)));
    case 5:
      return encodeFrame(0x3, 0, streamId, bytes(next, next() < 0.8 ? 4 : int(next, 8)));
    case 6:
      return encodeFrame(0x9, flags, streamId, bytes(next, int(next, 32)));
    case 7:
      return encodeFrame(0x7, 0, next() < 0.8 ? 0 : streamId, bytes(next, 8 + int(next, 16)));
    case 8:
      return encodeFrame(0x2, 0, streamId, bytes(next, next() < 0.8 ? 5 : int(next, 10)));
    case 9:
      return encodeFrame(0x5, flags, streamId, bytes(next, int(next, 24)));
    case 10:
      return encodeFrame(10 + int(next, 240), flags, streamId, bytes(next, int(next, 32)));
    default: {
      // A frame header that lies about its length (truncated or oversized).
      const f = encodeFrame(int(next, 10), flags, streamId, bytes(next, int(next, 16)));
      f.writeUIntBE(int(next, 1 << 24), 0, 3);
      return f;
    }
  }
}

async function runGarbageClient(port: number, next: Rng): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  if (socket.destroyed) return;
  const parts: Buffer[] = [];
  const preface = Buffer.from(CONNECTION_PREFACE);
  if (next() < 0.1) preface[int(next, preface.length)] = int(next, 256);
  if (next() < 0.95) parts.push(preface);
  if (next() < 0.9) parts.push(encodeFrame(0x4, 0, 0));
  const streamIds = [1, 3, 5, 2, 0];
  const frames = 1 + int(next, 8);
  for (let i = 0; i < frames; i++) parts.push(garbageFrame(next, streamIds));
  let wire = Buffer.concat(parts);
  if (next() < 0.2) wire = wire.subarray(0, int(next, wire.length + 1));
  // Sent in random slices, then either hang up at once or wait for the server to act.
  for (let at = 0; at < wire.length; ) {
    const n = 1 + int(next, 64);
    socket.write(wire.subarray(at, at + n));
    at += n;
  }
  const linger = next() < 0.5 ? 0 : 5 + int(next, 40);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, linger);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('garbage clients on the xDS port (h2 transport)', () => {
  let h: Harness;
  const reports: Array<{ code: string; message: string; peer: string | undefined }> = [];
  beforeAll(async () => {
    h = await startHarness({ onError: (err, context) => reports.push({ code: err.code, message: err.message, peer: context.peer }) }, { transport: 'h2' });
    h.publish('role=sidecar', 'v1');
  });
  afterAll(() => h?.close());

  it(`${CLIENTS} clients sending mutated prefaces and random frames leave the server, and a healthy Envoy, unharmed`, async () => {
    const healthy = await SotwAdsClient.connect({ address: h.address, node: { id: 'healthy', metadata: { role: 'sidecar' } } });
    try {
      healthy.subscribe(TypeUrl.RouteConfiguration, ['routes']);
      await healthy.responses.next((r) => r.typeUrl === TypeUrl.RouteConfiguration, 5000, 'RDS');
      const port = Number(h.address.split(':')[1]);
      const next = createMulberry32(SEED);
      for (let done = 0; done < CLIENTS; done += PARALLEL) {
        await Promise.all(Array.from({ length: Math.min(PARALLEL, CLIENTS - done) }, () => runGarbageClient(port, next)));
      }
      // Every garbage connection is gone (the server closed it, or noticed the hang-up).
      await eventually(() => h.server.transportStats()!.connections === 1, 5000, 'only the healthy connection left');
      expect(h.server.fleet.byNode('healthy')).toHaveLength(1);
      // The healthy stream still gets pushes and ACKs them.
      h.publish('role=sidecar', 'v2', { weights: [50, 50] });
      const pushed = await healthy.responses.next((r) => r.typeUrl === TypeUrl.RouteConfiguration && r.versionInfo === 'v2', 5000, 'RDS v2');
      expect(pushed.names).toEqual(['routes']);
      await eventually(() => h.server.fleet.byNode('healthy')[0]?.types.RDS?.ackedVersion === 'v2', 3000, 'v2 ACKed');
      // A new Envoy is served as usual.
      const fresh = await SotwAdsClient.connect({ address: h.address, node: { id: 'fresh', metadata: { role: 'sidecar' } } });
      fresh.subscribe(TypeUrl.RouteConfiguration, ['routes']);
      expect((await fresh.responses.next((r) => r.typeUrl === TypeUrl.RouteConfiguration, 5000, 'RDS for a new client')).versionInfo).toBe('v2');
      fresh.close();
      // Garbage was refused at the HTTP/2 layer (counted) or by the xDS layer, never by crashing.
      const refused = h.server.transportStats()!.protocolErrors!;
      expect(refused).toBeGreaterThan(TRANSPORT_ERRORS_PER_MINUTE);
      // onError hears of them, capped per minute so garbage cannot flood the log.
      expect(reports).toHaveLength(TRANSPORT_ERRORS_PER_MINUTE);
      for (const r of reports) {
        expect(r.code).toBe('INVALID_REQUEST');
        expect(r.peer).toMatch(/^127\.0\.0\.1:\d+$/);
        expect(r.message).toMatch(/^HTTP\/2 from 127\.0\.0\.1:\d+: \S/);
      }
    } finally {
      healthy.close();
    }
  });
});
