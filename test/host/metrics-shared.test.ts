// Metrics, shared data (CAS) and shared queues across several worker VMs.
import { describe, expect, it } from 'vitest';
import { createEnvoyHost } from './index.js';
import { OUT, RESULTS, WatStrings, slot, store, watGuest } from './wat-guest.js';

const REQ = [
  [':method', 'GET'],
  [':path', '/'],
  [':authority', 'h'],
] as const;

describe('metrics', () => {
  it('encodes the type in the id’s low two bits and applies Envoy’s counter/gauge/histogram rules', async () => {
    const s = new WatStrings();
    const def = (n: number, type: number, name: string): string =>
      store(n, `(block (result i32) (drop (call $proxy_define_metric (i32.const ${type}) ${s.ref(name)} (i32.const ${OUT}))) (i32.load (i32.const ${OUT})))`);
    const id = (n: number): string => `(i32.load (i32.const ${RESULTS + n * 4}))`;
    const wasm = await watGuest({
      callbacks: {
        proxy_on_configure: `
          ${def(0, 0, 'mw.requests')} ${def(1, 1, 'mw.inflight')} ${def(2, 2, 'mw.bytes')} ${def(3, 0, 'mw.other')}
          ${store(4, `(call $proxy_define_metric (i32.const 3) ${s.ref('bad')} (i32.const ${OUT}))`)}
          (i32.const 1)`,
        proxy_on_request_headers: `
          ${store(5, `(call $proxy_increment_metric ${id(0)} (i64.const 2))`)}
          ${store(6, `(call $proxy_increment_metric ${id(0)} (i64.const 0))`)}
          ${store(7, `(call $proxy_increment_metric ${id(0)} (i64.const -1))`)}
          ${store(8, `(call $proxy_record_metric ${id(0)} (i64.const 5))`)}
          ${store(9, `(call $proxy_record_metric ${id(1)} (i64.const 9))`)}
          ${store(10, `(call $proxy_increment_metric ${id(1)} (i64.const -4))`)}
          ${store(11, `(call $proxy_record_metric ${id(2)} (i64.const 100))`)}
          ${store(12, `(call $proxy_get_metric ${id(2)} (i32.const ${OUT}))`)}
          ${store(13, `(call $proxy_increment_metric ${id(2)} (i64.const 1))`)}
          ${store(14, `(call $proxy_get_metric ${id(0)} (i32.const 1200))`)}
          ${store(15, `(call $proxy_get_metric (i32.const 400) (i32.const 1200))`)}
          ${store(16, `(call $proxy_record_metric (i32.const 402) (i64.const 1))`)}
          (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    envoy.newStream().requestHeaders(REQ, true);
    const w = envoy.worker(0);
    const mem = w.readGuestMemory.bind(w);
    const ids = [0, 1, 2, 3].map((n) => slot(mem, n));
    expect(ids).toEqual([4, 5, 6, 8]);
    expect(ids.map((i) => i & 3)).toEqual([0, 1, 2, 0]);
    expect(slot(mem, 4)).toBe(2);
    expect([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16].map((n) => slot(mem, n))).toEqual([0, 2, 2, 0, 0, 0, 0, 2, 2, 0, 1, 1]);
    expect(new DataView(mem(1200, 8).buffer).getBigUint64(0, true)).toBe(7n);
    expect(envoy.metrics.get('mw.requests')).toBe(7n);
    expect(envoy.metrics.get('mw.inflight')).toBe(5n);
    expect(envoy.metrics.samples('mw.bytes')).toEqual([100n]);
    expect(envoy.metrics.get('mw.other')).toBe(0n);
  });

  it('shares values by name across worker VMs (ids are per VM)', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_configure: `(drop (call $proxy_define_metric (i32.const 0) ${s.ref('mw.total')} (i32.const 1200))) (i32.const 1)`,
        proxy_on_request_headers: `(drop (call $proxy_increment_metric (i32.load (i32.const 1200)) (i64.const 1))) (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm, workers: 3 });
    for (const w of envoy.workers) w.newStream().requestHeaders(REQ, true);
    envoy.worker(1).newStream().requestHeaders(REQ, true);
    expect(envoy.metrics.get('mw.total')).toBe(4n);
  });
});

describe('shared data', () => {
  it('follows CAS semantics across workers: non-zero CAS must match, missing keys are created whatever the CAS', async () => {
    const s = new WatStrings();
    // slot 0: get status, slot 1: cas read, slot 2: set with cas read, slot 3: set with the same (now stale) cas
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_headers: `
          ${store(0, `(call $proxy_get_shared_data ${s.ref('rate:alice')} (i32.const ${OUT}) (i32.const ${OUT + 4}) (i32.const 1200))`)}
          ${store(1, '(i32.load (i32.const 1200))')}
          ${store(2, `(call $proxy_set_shared_data ${s.ref('rate:alice')} ${s.ref('1')} (i32.load (i32.const 1200)))`)}
          ${store(3, `(call $proxy_set_shared_data ${s.ref('rate:alice')} ${s.ref('2')} (i32.load (i32.const 1200)))`)}
          ${store(4, `(call $proxy_set_shared_data ${s.ref('created')} ${s.ref('v')} (i32.const 12345))`)}
          (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm, workers: 2 });
    envoy.worker(0).newStream().requestHeaders(REQ, true);
    const m0 = envoy.worker(0).readGuestMemory.bind(envoy.worker(0));
    // first: absent (NotFound, cas 0), set with cas 0 ok, set with cas 0 again ok (unconditional)
    expect([0, 1, 2, 3, 4].map((n) => slot(m0, n))).toEqual([1, 0, 0, 0, 0]);
    const afterFirst = envoy.sharedData.get('rate:alice')!;
    expect(afterFirst.text).toBe('2');
    envoy.worker(1).newStream().requestHeaders(REQ, true);
    const m1 = envoy.worker(1).readGuestMemory.bind(envoy.worker(1));
    // second worker sees the value and its cas; the first set with it succeeds, the retry is stale
    expect([0, 1, 2, 3].map((n) => slot(m1, n))).toEqual([0, afterFirst.cas, 0, 8]);
    expect(envoy.sharedData.get('rate:alice')!.text).toBe('1');
    expect(envoy.sharedData.get('created')!.text).toBe('v');
  });
});

describe('shared queues', () => {
  it('delivers proxy_on_queue_ready to the registering root after the enqueuing call; dequeue then Empty', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_configure: `${store(0, `(call $proxy_register_shared_queue ${s.ref('audit')} (i32.const 1200))`)} (i32.const 1)`,
        proxy_on_request_headers: `
          ${store(1, `(call $proxy_resolve_shared_queue ${s.ref('')} ${s.ref('audit')} (i32.const 1204))`)}
          ${store(2, `(call $proxy_enqueue_shared_queue (i32.load (i32.const 1204)) ${s.ref('event-1')})`)}
          ${store(3, `(i32.load (i32.const ${RESULTS + 40}))`)}
          ${store(4, `(call $proxy_resolve_shared_queue ${s.ref('')} ${s.ref('nope')} (i32.const 1208))`)}
          ${store(5, `(call $proxy_enqueue_shared_queue (i32.const 999) ${s.ref('x')})`)}
          (i32.const 0)`,
        proxy_on_queue_ready: `
          ${store(10, '(i32.add (i32.load (i32.const 1064)) (i32.const 1))')}
          ${store(11, `(call $proxy_dequeue_shared_queue (local.get $queue) (i32.const ${OUT}) (i32.const ${OUT + 4}))`)}
          ${store(12, `(call $proxy_dequeue_shared_queue (local.get $queue) (i32.const ${OUT + 8}) (i32.const ${OUT + 12}))`)}
          ${store(13, '(local.get $ctx)')}`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    envoy.newStream().requestHeaders(REQ, true);
    const w = envoy.worker(0);
    const mem = w.readGuestMemory.bind(w);
    expect([0, 1, 2, 3, 4, 5].map((n) => slot(mem, n))).toEqual([0, 0, 0, 0, 1, 1]);
    expect([10, 11, 12, 13].map((n) => slot(mem, n))).toEqual([1, 0, 7, 1]);
    const v = new DataView(mem(OUT, 8).buffer);
    expect(new TextDecoder().decode(mem(v.getUint32(0, true), v.getUint32(4, true)))).toBe('event-1');
  });
});
