// Envoy's buffer rules (set_buffer_bytes / get_buffer_bytes / get_buffer_status) checked with
// hand-written WAT guests, independent of meshward's AssemblyScript layer.
import { describe, expect, it } from 'vitest';
import { createEnvoyHost } from './index.js';
import { OUT, WatStrings, outValue, slot, store, watGuest } from './wat-guest.js';

const REQ = [
  [':method', 'POST'],
  [':path', '/b'],
  [':authority', 'h'],
] as const;

describe('set_buffer_bytes (Envoy Buffer::copyFrom)', () => {
  it('prepends with (0,0), appends at/after the end, drains then prepends with (0,n), rejects a middle splice', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_body: `
          ${store(0, `(call $proxy_set_buffer_bytes (i32.const 0) (i32.const 0) (i32.const 0) ${s.ref('<')})`)}
          ${store(1, `(call $proxy_set_buffer_bytes (i32.const 0) (i32.const 6) (i32.const 0) ${s.ref('>')})`)}
          ${store(2, `(call $proxy_set_buffer_bytes (i32.const 0) (i32.const 100) (i32.const 0) ${s.ref('!')})`)}
          ${store(3, `(call $proxy_set_buffer_bytes (i32.const 0) (i32.const 3) (i32.const 1) ${s.ref('x')})`)}
          ${store(4, `(call $proxy_set_buffer_bytes (i32.const 0) (i32.const 0) (i32.const 3) ${s.ref('AB')})`)}
          (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    const stream = envoy.newStream();
    stream.requestHeaders(REQ, false);
    stream.requestBody('hello', true);
    const mem = envoy.worker(0).readGuestMemory.bind(envoy.worker(0));
    expect([0, 1, 2, 3, 4].map((n) => slot(mem, n))).toEqual([0, 0, 0, 2, 0]);
    // "hello" -> "<hello" -> "<hello>" -> "<hello>!" -> (middle rejected) -> drain 3 "<he", prepend "AB"
    expect(stream.upstream.bodyText).toBe('ABllo>!');
    expect(stream.upstream.endStream).toBe(true);
  });

  it('replaces the whole body with (0, size)', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_body: `(drop (call $proxy_set_buffer_bytes (i32.const 0) (i32.const 0) (local.get $size) ${s.ref('replaced')})) (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    const stream = envoy.newStream();
    stream.requestHeaders(REQ, false);
    stream.requestBody('original body', true);
    expect(stream.upstream.bodyText).toBe('replaced');
  });

  it('reads past the end as Ok and empty (pointer 0, size 0) and clamps the length', async () => {
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_body: `
          ${store(0, `(call $proxy_get_buffer_bytes (i32.const 0) (i32.const 100) (i32.const 10) (i32.const ${OUT}) (i32.const ${OUT + 4}))`)}
          (i32.store (i32.const 1100) (i32.load (i32.const ${OUT})))
          (i32.store (i32.const 1104) (i32.load (i32.const ${OUT + 4})))
          ${store(1, `(call $proxy_get_buffer_bytes (i32.const 0) (i32.const 2) (i32.const 1000) (i32.const ${OUT}) (i32.const ${OUT + 4}))`)}
          (i32.const 0)`,
      },
    });
    const envoy = await createEnvoyHost({ wasm });
    const stream = envoy.newStream();
    stream.requestHeaders(REQ, false);
    stream.requestBody('abcdef', true);
    const w = envoy.worker(0);
    const mem = w.readGuestMemory.bind(w);
    expect(slot(mem, 0)).toBe(0);
    expect([...w.readGuestMemory(1100, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(slot(mem, 1)).toBe(0);
    expect(new TextDecoder().decode(outValue(mem).bytes)).toBe('cdef');
  });

  it('outside a body callback the body reads empty and writes are BadArgument; unknown buffer types are BadArgument', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_headers: `
          ${store(0, `(call $proxy_get_buffer_status (i32.const 0) (i32.const ${OUT}) (i32.const ${OUT + 4}))`)}
          ${store(1, `(i32.load (i32.const ${OUT}))`)}
          ${store(2, `(call $proxy_set_buffer_bytes (i32.const 0) (i32.const 0) (i32.const 0) ${s.ref('x')})`)}
          ${store(3, `(call $proxy_get_buffer_bytes (i32.const 9) (i32.const 0) (i32.const 1) (i32.const ${OUT}) (i32.const ${OUT + 4}))`)}
          ${store(4, `(call $proxy_get_buffer_bytes (i32.const 7) (i32.const 0) (i32.const 100) (i32.const ${OUT}) (i32.const ${OUT + 4}))`)}
          ${store(5, `(call $proxy_set_buffer_bytes (i32.const 6) (i32.const 0) (i32.const 0) ${s.ref('x')})`)}
          (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm, vmConfig: 'vm' });
    const stream = envoy.newStream();
    stream.requestHeaders(REQ, true);
    const w = envoy.worker(0);
    const mem = w.readGuestMemory.bind(w);
    // status Ok with size 0; write BadArgument; type 9 BadArgument; plugin config NotFound outside
    // on_configure; VM configuration is read-only (BadArgument).
    expect([0, 1, 2, 3, 4, 5].map((n) => slot(mem, n))).toEqual([0, 0, 2, 2, 1, 2]);
  });

  it('serves the plugin configuration in proxy_on_configure and the VM configuration anytime', async () => {
    const wasm = await watGuest({
      callbacks: {
        proxy_on_configure: `
          ${store(0, `(call $proxy_get_buffer_bytes (i32.const 7) (i32.const 0) (i32.const -1) (i32.const ${OUT}) (i32.const ${OUT + 4}))`)}
          ${store(1, `(i32.load (i32.const ${OUT + 4}))`)}
          ${store(2, `(call $proxy_get_buffer_bytes (i32.const 6) (i32.const 0) (i32.const -1) (i32.const 1200) (i32.const 1204))`)}
          ${store(3, `(local.get $size)`)}
          (i32.const 1)`,
      },
    });
    const envoy = await createEnvoyHost({ wasm, pluginConfig: '{"mode":"monitor"}', vmConfig: 'vm-config' });
    const w = envoy.worker(0);
    const mem = w.readGuestMemory.bind(w);
    expect([0, 1, 2, 3].map((n) => slot(mem, n))).toEqual([0, 18, 0, 18]);
    expect(new TextDecoder().decode(outValue(mem).bytes)).toBe('{"mode":"monitor"}');
    const vm = new DataView(w.readGuestMemory(1200, 8).buffer);
    expect(new TextDecoder().decode(w.readGuestMemory(vm.getUint32(0, true), vm.getUint32(4, true)))).toBe('vm-config');
  });
});
