// get_property / set_property: names, availability and Envoy's value encodings.
import { describe, expect, it } from 'vitest';
import { createEnvoyHost, decodePairs } from './index.js';
import { OUT, WatStrings, outValue, slot, store, watGuest } from './wat-guest.js';

const REQ = [
  [':method', 'POST'],
  [':path', '/v1/chat/completions?stream=true'],
  [':authority', 'api.example'],
  [':scheme', 'https'],
  ['x-request-id', 'req-123'],
  ['content-length', '42'],
] as const;

/** A guest that reads property `path` (NUL-joined) in `callback` into OUT and slot `n`. */
function readProp(s: WatStrings, n: number, path: string[], outPtr = OUT): string {
  return store(n, `(call $proxy_get_property ${s.ref(path.join('\0'))} (i32.const ${outPtr}) (i32.const ${outPtr + 4}))`);
}

function valueAt(mem: (p: number, n: number) => Uint8Array, ptrAddr: number): Uint8Array {
  const v = new DataView(mem(ptrAddr, 8).buffer);
  const size = v.getUint32(4, true);
  return size === 0 ? new Uint8Array(0) : mem(v.getUint32(0, true), size);
}

describe('properties', () => {
  it('serves request.* from the request headers with Envoy encodings (string raw, int64 8 bytes LE, map as pairs)', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_headers: `
          ${readProp(s, 0, ['request', 'path'], 1200)}
          ${readProp(s, 1, ['request', 'url_path'], 1208)}
          ${readProp(s, 2, ['request', 'id'], 1216)}
          ${readProp(s, 3, ['request', 'size'], 1224)}
          ${readProp(s, 4, ['request', 'headers'], 1232)}
          ${readProp(s, 5, ['request', 'headers', ':authority'], 1240)}
          ${readProp(s, 6, ['request', 'query'], 1248)}
          ${readProp(s, 7, ['request', 'no_such_field'], 1256)}
          ${readProp(s, 8, ['connection', 'uri_san_peer_certificate'], 1264)}
          ${readProp(s, 9, ['connection', 'mtls'], 1272)}
          ${readProp(s, 10, ['plugin_root_id'], 1280)}
          ${readProp(s, 11, ['plugin_name'], 1288)}
          ${readProp(s, 12, ['request', 'time'], 1296)}
          (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm, rootId: 'meshward-root', pluginName: 'dlp', startTimeNanos: 1_700_000_000_000_000_000n });
    const st = envoy.newStream({ properties: { 'connection.uri_san_peer_certificate': 'spiffe://corp/ns/batch/sa/job', 'connection.mtls': true } });
    st.requestHeaders(REQ, true);
    const w = envoy.worker(0);
    const mem = w.readGuestMemory.bind(w);
    expect(Array.from({ length: 13 }, (_, i) => slot(mem, i))).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    const text = (addr: number): string => new TextDecoder().decode(valueAt(mem, addr));
    expect(text(1200)).toBe('/v1/chat/completions?stream=true');
    expect(text(1208)).toBe('/v1/chat/completions');
    expect(text(1216)).toBe('req-123');
    const size = valueAt(mem, 1224);
    expect(size.length).toBe(8);
    expect(new DataView(size.buffer, size.byteOffset).getBigInt64(0, true)).toBe(42n);
    expect(decodePairs(valueAt(mem, 1232))).toContainEqual([':method', 'POST']);
    expect(text(1240)).toBe('api.example');
    expect(text(1248)).toBe('stream=true');
    expect(text(1264)).toBe('spiffe://corp/ns/batch/sa/job');
    expect([...valueAt(mem, 1272)]).toEqual([1]);
    expect(text(1280)).toBe('meshward-root');
    expect(text(1288)).toBe('dlp');
    const time = valueAt(mem, 1296);
    expect(new DataView(time.buffer, time.byteOffset).getBigInt64(0, true)).toBe(1_700_000_000_000_000_000n);
  });

  it('request.path is NotFound once the request headers are gone; a missing peer certificate is NotFound', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_body: `
          ${readProp(s, 0, ['request', 'path'])}
          ${readProp(s, 1, ['connection', 'uri_san_peer_certificate'])}
          ${readProp(s, 2, ['request', 'protocol'], 1200)}
          (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    const st = envoy.newStream({ protocol: 'HTTP/2' });
    st.requestHeaders(REQ, false);
    st.requestBody('x', true);
    const w = envoy.worker(0);
    const mem = w.readGuestMemory.bind(w);
    expect([0, 1, 2].map((n) => slot(mem, n))).toEqual([1, 1, 0]);
    expect(new TextDecoder().decode(valueAt(mem, 1200))).toBe('HTTP/2');
  });

  it('set_property stores filter state read back on the same path; NotFound in the root context', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_configure: `${store(0, `(call $proxy_set_property ${s.ref('meshward.summary')} ${s.ref('x')})`)} (i32.const 1)`,
        proxy_on_request_headers: `
          ${store(1, `(call $proxy_set_property ${s.ref('meshward.summary')} ${s.ref('{"findings":2}')})`)}
          ${readProp(s, 2, ['meshward.summary'])}
          (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    const st = envoy.newStream();
    st.requestHeaders(REQ, true);
    const w = envoy.worker(0);
    const mem = w.readGuestMemory.bind(w);
    expect([0, 1, 2].map((n) => slot(mem, n))).toEqual([1, 0, 0]);
    expect(new TextDecoder().decode(outValue(mem).bytes)).toBe('{"findings":2}');
    expect(new TextDecoder().decode(st.filterState.get('meshward.summary'))).toBe('{"findings":2}');
  });

  it('an empty value returns pointer 0 and size 0 without calling the allocator', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_headers: `
          (i32.store (i32.const 8) (i32.const 0))
          ${readProp(s, 0, ['empty_prop'], 1200)}
          ${store(1, '(i32.load (i32.const 8))')}
          ${readProp(s, 2, ['request', 'path'], 1208)}
          ${store(3, '(i32.load (i32.const 8))')}
          (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm, properties: { empty_prop: '' } });
    envoy.newStream().requestHeaders(REQ, true);
    const w = envoy.worker(0);
    const mem = w.readGuestMemory.bind(w);
    expect([0, 1, 2, 3].map((n) => slot(mem, n))).toEqual([0, 0, 0, 1]);
    expect([...mem(1200, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });
});
