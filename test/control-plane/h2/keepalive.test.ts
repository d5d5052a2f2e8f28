import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGrpcServer, type GrpcServer } from '../../../control-plane/src/h2/index.js';
import { Flag, FrameType } from '../../../control-plane/src/h2/frame.js';
import { RawClient, sleep } from './h2-test-kit.js';

describe('keepalive (one server timer)', () => {
  let server: GrpcServer;
  let port: number;
  beforeAll(async () => {
    server = createGrpcServer({ keepaliveTimeMs: 100, keepaliveTimeoutMs: 100, handlers: { '/k/K': () => {} } });
    port = await server.listen();
  });
  afterAll(async () => {
    await server.close(100);
  });

  it('a silent client is pinged, then dropped when it does not ACK', async () => {
    const c = await RawClient.connect(port);
    const started = Date.now();
    const ping = await c.waitFor((f) => f.type === FrameType.PING && f.flags === 0, 2000);
    expect(ping.payload.length).toBe(8);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    await c.waitClosed(2000);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a client that ACKs PINGs (with an open stream) stays connected', async () => {
    const c = await RawClient.connect(port);
    let acked = 0;
    const timer = setInterval(() => {
      for (const f of c.frames.splice(0)) {
        if (f.type === FrameType.PING && f.flags === 0) {
          c.frame(FrameType.PING, Flag.ACK, 0, f.payload);
          acked++;
        }
      }
    }, 10);
    c.request(1, '/k/K');
    await sleep(800);
    clearInterval(timer);
    expect(acked).toBeGreaterThanOrEqual(2);
    expect(c.closed).toBe(false);
    expect(server.stats().streams).toBe(1);
    c.close();
    for (let i = 0; i < 50 && server.stats().streams > 0; i++) await sleep(10);
    expect(server.stats().streams).toBe(0);
  });

  it('a client that never completes the preface is dropped', async () => {
    const c = await RawClient.connect(port, { preface: false });
    c.send(Buffer.from('PRI * HTTP/2.0\r\n'));
    await c.waitClosed(2000);
  });
});
