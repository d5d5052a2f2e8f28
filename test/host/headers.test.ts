// Header map lifetimes and encodings (Envoy Context::getMap / getConstMap), with WAT guests.
import { describe, expect, it } from 'vitest';
import { createEnvoyHost, decodePairs, encodePairs } from './index.js';
import { OUT, WatStrings, outValue, slot, store, watGuest } from './wat-guest.js';

const REQ = [
  [':method', 'POST'],
  [':path', '/v1/chat'],
  [':authority', 'api'],
  ['X-Mixed-Case', 'v'],
  ['dup', 'a'],
  ['dup', 'b'],
] as const;

function memOf(envoy: { worker(i: number): { readGuestMemory(p: number, n: number): Uint8Array } }) {
  const w = envoy.worker(0);
  return w.readGuestMemory.bind(w);
}

describe('pairs encoding (spec "Serialization")', () => {
  it('matches the spec example and round-trips', () => {
    const bytes = encodePairs([
      ['a', '1'],
      ['b', '22'],
    ]);
    expect([...bytes]).toEqual([2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0x61, 0, 0x31, 0, 0x62, 0, 0x32, 0x32, 0]);
    expect(decodePairs(bytes)).toEqual([
      ['a', '1'],
      ['b', '22'],
    ]);
  });

  it('rejects truncated, unterminated and trailing-garbage encodings like PairsUtil::toPairs', () => {
    const good = encodePairs([['k', 'v']]);
    expect(decodePairs(good.subarray(0, good.length - 1))).toEqual([]);
    const unterminated = good.slice();
    unterminated[unterminated.length - 1] = 0x41;
    expect(decodePairs(unterminated)).toEqual([]);
    expect(decodePairs(new Uint8Array([...good, 0]))).toEqual([]);
    expect(decodePairs(new Uint8Array([0]))).toEqual([]);
  });
});

describe('header maps', () => {
  it('are readable and writable in their own callback: lower-case keys, first value, size = key+value bytes', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_headers: `
          ${store(0, `(call $proxy_get_header_map_value (i32.const 0) ${s.ref('x-mixed-case')} (i32.const ${OUT}) (i32.const ${OUT + 4}))`)}
          ${store(1, `(call $proxy_get_header_map_size (i32.const 0) (i32.const 1200))`)}
          ${store(2, `(call $proxy_get_header_map_value (i32.const 0) ${s.ref('DUP')} (i32.const 1208) (i32.const 1212))`)}
          ${store(3, `(call $proxy_get_header_map_value (i32.const 0) ${s.ref('absent')} (i32.const 1216) (i32.const 1220))`)}
          ${store(4, `(call $proxy_add_header_map_value (i32.const 0) ${s.ref('X-Added')} ${s.ref('1')})`)}
          ${store(5, `(call $proxy_replace_header_map_value (i32.const 0) ${s.ref('dup')} ${s.ref('c')})`)}
          ${store(6, `(call $proxy_remove_header_map_value (i32.const 0) ${s.ref('x-mixed-case')})`)}
          ${store(7, `(call $proxy_remove_header_map_value (i32.const 0) ${s.ref('never-there')})`)}
          ${store(8, `(call $proxy_get_header_map_value (i32.const 8) ${s.ref('a')} (i32.const 1216) (i32.const 1220))`)}
          (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm, generateRequestId: false });
    const stream = envoy.newStream();
    stream.requestHeaders(REQ, true);
    const mem = memOf(envoy);
    expect([0, 2, 3, 4, 5, 6, 7, 8].map((n) => slot(mem, n))).toEqual([0, 0, 1, 0, 0, 0, 0, 2]);
    expect(new TextDecoder().decode(outValue(mem).bytes)).toBe('v');
    const expectedSize = REQ.reduce((n, [k, v]) => n + k.length + v.length, 0);
    expect(new DataView(mem(1200, 4).buffer).getUint32(0, true)).toBe(expectedSize);
    const dup = new DataView(mem(1208, 8).buffer);
    expect(new TextDecoder().decode(mem(dup.getUint32(0, true), dup.getUint32(4, true)))).toBe('a');
    expect(stream.upstream.headers).toEqual([
      [':method', 'POST'],
      [':path', '/v1/chat'],
      [':authority', 'api'],
      ['dup', 'c'],
      ['x-added', '1'],
    ]);
  });

  it('are gone after the headers callback returned Continue: BadArgument in body callbacks; pairs read empty', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_body: `
          ${store(0, `(call $proxy_get_header_map_value (i32.const 0) ${s.ref(':path')} (i32.const ${OUT}) (i32.const ${OUT + 4}))`)}
          ${store(1, `(call $proxy_replace_header_map_value (i32.const 0) ${s.ref('x')} ${s.ref('y')})`)}
          ${store(2, `(call $proxy_add_header_map_value (i32.const 0) ${s.ref('x')} ${s.ref('y')})`)}
          ${store(3, `(call $proxy_remove_header_map_value (i32.const 0) ${s.ref('x')})`)}
          ${store(4, `(call $proxy_get_header_map_size (i32.const 0) (i32.const 1200))`)}
          ${store(5, `(call $proxy_get_header_map_pairs (i32.const 0) (i32.const 1208) (i32.const 1212))`)}
          ${store(6, `(i32.load (i32.const 1212))`)}
          ${store(7, `(call $proxy_get_header_map_value (i32.const 2) ${s.ref(':status')} (i32.const ${OUT}) (i32.const ${OUT + 4}))`)}
          (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    const stream = envoy.newStream();
    stream.requestHeaders(REQ, false);
    stream.requestBody('x', true);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => slot(memOf(envoy), n))).toEqual([2, 2, 2, 2, 2, 0, 0, 2]);
  });

  it('stay available after a headers StopIteration until continue; pairs serialize the whole map', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_headers: `(i32.const 1)`,
        proxy_on_tick: `
          ${store(0, `(call $proxy_set_effective_context (i32.const 2))`)}
          ${store(1, `(call $proxy_get_header_map_pairs (i32.const 0) (i32.const ${OUT}) (i32.const ${OUT + 4}))`)}
          ${store(2, `(call $proxy_replace_header_map_value (i32.const 0) ${s.ref('x-late')} ${s.ref('set-from-tick')})`)}
          ${store(3, `(call $proxy_continue_stream (i32.const 0))`)}
          ${store(4, `(call $proxy_get_header_map_value (i32.const 0) ${s.ref(':path')} (i32.const 1200) (i32.const 1204))`)}`,
        proxy_on_configure: `(drop (call $proxy_set_tick_period_milliseconds (i32.const 10))) (i32.const 1)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm, generateRequestId: false });
    const stream = envoy.newStream();
    expect(stream.requestHeaders(REQ, true)).toBe(4);
    expect(stream.upstream.headers).toBeNull();
    expect(stream.state).toBe('stalled');
    envoy.advanceTime(10);
    const mem = memOf(envoy);
    expect([0, 1, 2, 3, 4].map((n) => slot(mem, n))).toEqual([0, 0, 0, 0, 2]);
    expect(decodePairs(outValue(mem).bytes)).toEqual(REQ.map(([k, v]) => [k.toLowerCase(), v]));
    expect(stream.upstream.header('x-late')).toBe('set-from-tick');
    expect(stream.upstream.endStream).toBe(true);
    expect(stream.state).toBe('open');
  });

  it('in on_log: readable (request trailers NotFound), not writable, size BadArgument', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_log: `
          ${store(0, `(call $proxy_get_header_map_value (i32.const 0) ${s.ref(':path')} (i32.const ${OUT}) (i32.const ${OUT + 4}))`)}
          ${store(1, `(call $proxy_get_header_map_value (i32.const 2) ${s.ref(':status')} (i32.const 1200) (i32.const 1204))`)}
          ${store(2, `(call $proxy_replace_header_map_value (i32.const 0) ${s.ref('x')} ${s.ref('y')})`)}
          ${store(3, `(call $proxy_get_header_map_value (i32.const 1) ${s.ref('t')} (i32.const 1208) (i32.const 1212))`)}
          ${store(4, `(call $proxy_get_header_map_size (i32.const 0) (i32.const 1216))`)}
          ${store(5, `(call $proxy_get_header_map_value (i32.const 0) ${s.ref('absent')} (i32.const 1208) (i32.const 1212))`)}`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    const stream = envoy.newStream();
    stream.requestHeaders(REQ, true);
    stream.responseHeaders([[':status', '204']], true);
    stream.complete();
    const mem = memOf(envoy);
    expect([0, 1, 2, 3, 4, 5].map((n) => slot(mem, n))).toEqual([0, 0, 2, 1, 2, 1]);
    expect(new TextDecoder().decode(outValue(mem).bytes)).toBe('/v1/chat');
  });

  it('sees the x-request-id the connection manager adds when the client sent none (kept when present)', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_headers: `${store(0, `(call $proxy_get_header_map_value (i32.const 0) ${s.ref('x-request-id')} (i32.const ${OUT}) (i32.const ${OUT + 4}))`)} (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    const a = envoy.newStream();
    a.requestHeaders(REQ, true);
    expect(slot(memOf(envoy), 0)).toBe(0);
    const generated = new TextDecoder().decode(outValue(memOf(envoy)).bytes);
    expect(generated).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.upstream.header('x-request-id')).toBe(generated);
    const b = envoy.newStream();
    b.requestHeaders([...REQ, ['x-request-id', 'client-id']], true);
    expect(new TextDecoder().decode(outValue(memOf(envoy)).bytes)).toBe('client-id');
    const off = await createEnvoyHost({ wasm, generateRequestId: false });
    off.newStream().requestHeaders(REQ, true);
    expect(slot(memOf(off), 0)).toBe(1);
  });

  it('replaces the whole map with set_header_map_pairs and lets the last body callback add trailers', async () => {
    const s = new WatStrings();
    const pairs = encodePairs([
      [':method', 'GET'],
      [':path', '/new'],
      [':authority', 'x'],
    ]);
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_headers: `${store(0, `(call $proxy_set_header_map_pairs (i32.const 0) ${s.ref(pairs)})`)} (i32.const 0)`,
        proxy_on_request_body: `
          (if (local.get $eos) (then ${store(1, `(call $proxy_add_header_map_value (i32.const 1) ${s.ref('x-added-trailer')} ${s.ref('t')})`)}))
          (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    const stream = envoy.newStream();
    stream.requestHeaders(REQ, false);
    stream.requestBody('body', true);
    expect(slot(memOf(envoy), 0)).toBe(0);
    expect(slot(memOf(envoy), 1)).toBe(0);
    expect(stream.upstream.headers).toEqual([
      [':method', 'GET'],
      [':path', '/new'],
      [':authority', 'x'],
    ]);
    expect(stream.upstream.trailers).toEqual([['x-added-trailer', 't']]);
    expect(stream.upstream.endStream).toBe(true);
  });
});
