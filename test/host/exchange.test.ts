// runExchange: the request/response driver F's filter tests use.
import { describe, expect, it } from 'vitest';
import { createEnvoyHost, runExchange } from './index.js';
import { RESULTS, WatStrings, watGuest } from './wat-guest.js';

const REQ = [
  [':method', 'POST'],
  [':path', '/v1/chat/completions'],
  [':authority', 'api'],
] as const;

describe('runExchange', () => {
  it('sends the request and response in the given frames, with trailers, and reports both sides', async () => {
    const wasm = await watGuest({
      callbacks: {
        // record every request body size to check the framing
        proxy_on_request_body: `(i32.store (i32.add (i32.const ${RESULTS + 4}) (i32.mul (i32.load (i32.const ${RESULTS})) (i32.const 4))) (local.get $size))
          (i32.store (i32.const ${RESULTS}) (i32.add (i32.load (i32.const ${RESULTS})) (i32.const 1))) (i32.const 0)`,
      },
    });
    const envoy = await createEnvoyHost({ wasm });
    const s = envoy.newStream();
    const r = runExchange(
      s,
      { headers: REQ, body: 'abcdefghij', chunkSize: 4, trailers: [['x-t', '1']] },
      { headers: [[':status', '200']], chunks: ['data: 1\n\n', 'data: 2\n\n'] },
    );
    const mem = envoy.worker(0).readGuestMemory.bind(envoy.worker(0));
    const view = new DataView(mem(RESULTS, 16).buffer);
    expect([view.getInt32(0, true), view.getInt32(4, true), view.getInt32(8, true), view.getInt32(12, true)]).toEqual([3, 4, 4, 2]);
    expect(r.upstream.bodyText).toBe('abcdefghij');
    expect(r.upstream.trailers).toEqual([['x-t', '1']]);
    expect(r.downstream.chunks.map((c) => new TextDecoder().decode(c))).toEqual(['data: 1\n\n', 'data: 2\n\n']);
    expect(r.upstreamResponded).toBe(true);
    expect(r.state).toBe('completed');
  });

  it('does not answer from upstream when the request stalled, and stops sending after a local reply', async () => {
    const stall = await watGuest({ callbacks: { proxy_on_request_body: '(i32.const 1)' } });
    const a = await createEnvoyHost({ wasm: stall });
    const r1 = runExchange(a.newStream(), { headers: REQ, body: 'x' }, { headers: [[':status', '200']], body: 'never' });
    expect(r1.state).toBe('stalled');
    expect(r1.upstreamResponded).toBe(false);
    expect(r1.downstream.headers).toBeNull();

    const s = new WatStrings();
    const block = await watGuest({
      callbacks: {
        proxy_on_request_body: `(i32.store (i32.const ${RESULTS}) (i32.add (i32.load (i32.const ${RESULTS})) (i32.const 1)))
          (drop (call $proxy_send_local_response (i32.const 403) ${s.ref('blocked')} ${s.ref('no')} ${s.ref('')} (i32.const -1))) (i32.const 0)`,
      },
      data: s.data,
    });
    const b = await createEnvoyHost({ wasm: block });
    const r2 = runExchange(b.newStream(), { headers: REQ, body: 'a'.repeat(100), chunkSize: 10 }, { headers: [[':status', '200']] });
    expect(r2.localReply?.status).toBe(403);
    expect(r2.upstreamResponded).toBe(false);
    expect(new DataView(b.worker(0).readGuestMemory(RESULTS, 4).buffer).getInt32(0, true)).toBe(1);
  });

  it('rejects a bad chunkSize by name', async () => {
    const envoy = await createEnvoyHost({ wasm: await watGuest({}) });
    expect(() => runExchange(envoy.newStream(), { headers: REQ, body: 'x', chunkSize: 0 })).toThrow(/chunkSize/);
  });
});
