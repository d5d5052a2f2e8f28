// Envoy's filter-manager semantics around a proxy-wasm HTTP filter (header/body statuses, buffer
// limit, local replies, stalls, VM failure, teardown), checked with WAT guests.
import { describe, expect, it } from 'vitest';
import { createEnvoyHost } from './index.js';
import { OUT, RESULTS, WatStrings, slot, store, watGuest } from './wat-guest.js';

const REQ = [
  [':method', 'POST'],
  [':path', '/p'],
  [':authority', 'h'],
] as const;

/** WAT: increments counter slot n. */
const inc = (n: number): string => store(n, `(i32.add (i32.load (i32.const ${RESULTS + n * 4})) (i32.const 1))`);
/** WAT: appends `expr` to the list whose length is in slot n and items in slots n+1... */
const push = (n: number, expr: string): string =>
  `(i32.store (i32.add (i32.const ${RESULTS + (n + 1) * 4}) (i32.mul (i32.load (i32.const ${RESULTS + n * 4})) (i32.const 4))) ${expr}) ${inc(n)}`;

function list(envoy: { worker(i: number): { readGuestMemory(p: number, n: number): Uint8Array } }, n: number): number[] {
  const w = envoy.worker(0);
  const mem = w.readGuestMemory.bind(w);
  const len = slot(mem, n);
  return Array.from({ length: len }, (_, i) => slot(mem, n + 1 + i));
}

function slots(envoy: { worker(i: number): { readGuestMemory(p: number, n: number): Uint8Array } }, ...ns: number[]): number[] {
  const w = envoy.worker(0);
  return ns.map((n) => slot(w.readGuestMemory.bind(w), n));
}

describe('headers callback status', () => {
  it('StopIteration becomes StopAllIterationAndWatermark: no body callbacks until continue, then one with everything held', async () => {
    const wasm = await watGuest({
      callbacks: {
        proxy_on_configure: '(drop (call $proxy_set_tick_period_milliseconds (i32.const 5))) (i32.const 1)',
        proxy_on_request_headers: '(i32.const 1)',
        proxy_on_request_body: `${push(0, '(local.get $size)')} ${push(10, '(local.get $eos)')} (i32.const 0)`,
        proxy_on_tick: '(drop (call $proxy_set_effective_context (i32.const 2))) (drop (call $proxy_continue_stream (i32.const 0)))',
      },
    });
    const envoy = await createEnvoyHost({ wasm });
    const s = envoy.newStream();
    expect(s.requestHeaders(REQ, false)).toBe(4);
    expect(s.requestBody('abc', false)).toBeUndefined();
    expect(s.requestBody('defg', true)).toBeUndefined();
    expect(list(envoy, 0)).toEqual([]);
    expect(s.upstream.headers).toBeNull();
    expect(s.state).toBe('stalled');
    envoy.advanceTime(5);
    expect(list(envoy, 0)).toEqual([7]);
    expect(list(envoy, 10)).toEqual([1]);
    expect(s.upstream.bodyText).toBe('abcdefg');
    expect(s.upstream.endStream).toBe(true);
  });

  it('with allow_on_headers_stop_iteration, StopIteration holds the headers but body callbacks run', async () => {
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_headers: '(i32.const 1)',
        proxy_on_request_body: `${push(0, '(local.get $size)')} (if (result i32) (local.get $eos) (then (i32.const 0)) (else (i32.const 1)))`,
      },
    });
    const envoy = await createEnvoyHost({ wasm, allowOnHeadersStopIteration: true });
    const s = envoy.newStream();
    expect(s.requestHeaders(REQ, false)).toBe(1);
    s.requestBody('ab', false);
    expect(s.upstream.headers).toBeNull();
    s.requestBody('cd', true);
    expect(list(envoy, 0)).toEqual([2, 4]);
    expect(s.upstream.headers).not.toBeNull();
    expect(s.upstream.bodyText).toBe('abcd');
  });
});

describe('body callback status', () => {
  it('StopIterationAndBuffer accumulates: body_size is the total and get_buffer_bytes returns all of it', async () => {
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_body: `
          ${push(0, '(local.get $size)')}
          (drop (call $proxy_get_buffer_bytes (i32.const 0) (i32.const 0) (i32.const 100) (i32.const ${OUT}) (i32.const ${OUT + 4})))
          ${push(10, `(i32.load (i32.const ${OUT + 4}))`)}
          (if (result i32) (local.get $eos) (then (i32.const 0)) (else (i32.const 1)))`,
      },
    });
    const envoy = await createEnvoyHost({ wasm });
    const s = envoy.newStream();
    s.requestHeaders(REQ, false);
    s.requestBody('abc', false);
    s.requestBody('def', false);
    expect(s.upstream.body.length).toBe(0);
    s.requestBody('ghi', true);
    expect(list(envoy, 0)).toEqual([3, 6, 9]);
    expect(list(envoy, 10)).toEqual([3, 6, 9]);
    expect(s.upstream.bodyText).toBe('abcdefghi');
    expect(s.upstream.chunks.length).toBe(1);
  });

  it('StopIterationAndWatermark holds, but each callback sees only its chunk', async () => {
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_body: `
          ${push(0, '(local.get $size)')}
          (if (result i32) (local.get $eos) (then (i32.const 0)) (else (i32.const 2)))`,
      },
    });
    const envoy = await createEnvoyHost({ wasm });
    const s = envoy.newStream();
    s.requestHeaders(REQ, false);
    s.requestBody('abc', false);
    s.requestBody('de', false);
    expect(s.upstream.body.length).toBe(0);
    s.requestBody('f', true);
    expect(list(envoy, 0)).toEqual([3, 2, 1]);
    expect(s.upstream.bodyText).toBe('abcdef');
  });

  it('StopIterationNoBuffer (3 and above) drops the chunk', async () => {
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_body: `(if (result i32) (local.get $eos) (then (i32.const 0)) (else (i32.const 7)))`,
      },
    });
    const envoy = await createEnvoyHost({ wasm });
    const s = envoy.newStream();
    s.requestHeaders(REQ, false);
    s.requestBody('dropped', false);
    s.requestBody('kept', true);
    expect(s.upstream.bodyText).toBe('kept');
  });

  it('a stop at end_of_stream without continue leaves the stream stalled', async () => {
    const wasm = await watGuest({ callbacks: { proxy_on_request_body: '(i32.const 1)' } });
    const envoy = await createEnvoyHost({ wasm });
    const s = envoy.newStream();
    s.requestHeaders(REQ, false);
    s.requestBody('abc', true);
    expect(s.state).toBe('stalled');
    expect(s.stalled).toBe(true);
    expect(s.upstream.endStream).toBe(false);
    expect(() => s.responseHeaders([[':status', '200']], true)).not.toThrow(); // headers did reach upstream
  });
});

describe('buffer limit', () => {
  it('a buffering request over the limit gets 413 through the plugin’s own response callbacks', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_body: `${inc(0)} (i32.const 1)`,
        proxy_on_response_headers: `
          ${inc(1)}
          (drop (call $proxy_get_header_map_value (i32.const 2) ${s.ref(':status')} (i32.const ${OUT}) (i32.const ${OUT + 4})))
          ${store(2, `(i32.load8_u (i32.load (i32.const ${OUT})))`)}
          (i32.const 0)`,
        proxy_on_response_body: `${inc(3)} (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm, bufferLimitBytes: 8 });
    const st = envoy.newStream();
    st.requestHeaders(REQ, false);
    st.requestBody('12345', false);
    st.requestBody('67890', false);
    expect(slots(envoy, 0, 1, 2, 3)).toEqual([1, 1, '4'.charCodeAt(0), 1]);
    expect(st.localReply).toMatchObject({ status: 413, details: 'request_payload_too_large', path: 'filter-chain', origin: 'envoy' });
    expect(st.downstream.header(':status')).toBe('413');
    expect(st.downstream.bodyText).toBe('Payload Too Large');
    expect(st.upstream.reset).toBe(true);
    expect(() => st.requestBody('more', true)).not.toThrow();
    expect(slots(envoy, 0)).toEqual([1]);
  });

  it('a watermark hold over the limit pauses the sender instead (no 413)', async () => {
    const wasm = await watGuest({ callbacks: { proxy_on_request_body: '(if (result i32) (local.get $eos) (then (i32.const 0)) (else (i32.const 2)))' } });
    const envoy = await createEnvoyHost({ wasm, bufferLimitBytes: 4 });
    const s = envoy.newStream();
    s.requestHeaders(REQ, false);
    s.requestBody('123456', false);
    expect(s.watermarkPaused.request).toBe(true);
    s.requestBody('7', true);
    expect(s.localReply).toBeUndefined();
    expect(s.upstream.bodyText).toBe('1234567');
  });

  it('a buffering response over the limit resets the stream once headers went out, or gets 500 directly before that', async () => {
    const resetGuest = await watGuest({ callbacks: { proxy_on_response_body: '(i32.const 1)' } });
    const a = await createEnvoyHost({ wasm: resetGuest, bufferLimitBytes: 4 });
    const s1 = a.newStream();
    s1.requestHeaders(REQ, true);
    s1.responseHeaders([[':status', '200']], false);
    s1.responseBody('123', false);
    s1.responseBody('456', false);
    expect(s1.state).toBe('reset');
    expect(s1.downstream.reset).toBe(true);
    expect(s1.localReply).toMatchObject({ status: 500, path: 'reset', details: 'response_payload_too_large' });

    const directGuest = await watGuest({ callbacks: { proxy_on_response_headers: '(i32.const 3)' } });
    const b = await createEnvoyHost({ wasm: directGuest, bufferLimitBytes: 4 });
    const s2 = b.newStream();
    s2.requestHeaders(REQ, true);
    s2.responseHeaders([[':status', '200']], false);
    s2.responseBody('123456', false);
    expect(s2.localReply).toMatchObject({ status: 500, path: 'direct' });
    expect(s2.downstream.header(':status')).toBe('500');
    expect(s2.downstream.bodyText).toBe('Internal Server Error');
  });
});

describe('send_local_response', () => {
  it('from request headers: upstream gets nothing, the reply passes through the plugin’s response callbacks', async () => {
    const s = new WatStrings();
    const { encodePairs } = await import('./index.js');
    const extra = encodePairs([['x-reason', 'dlp']]);
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_headers: `
          ${store(0, `(call $proxy_send_local_response (i32.const 403) ${s.ref('dlp blocked')} ${s.ref('{"error":1}')} ${s.ref(extra)} (i32.const -1))`)}
          (i32.const 0)`,
        proxy_on_request_body: `${inc(5)} (i32.const 0)`,
        proxy_on_response_headers: `${push(1, '(local.get $n)')} ${store(4, '(local.get $eos)')}
          (drop (call $proxy_add_header_map_value (i32.const 2) ${s.ref('x-seen-by-filter')} ${s.ref('yes')}))
          (i32.const 0)`,
        proxy_on_response_body: `${store(3, '(local.get $size)')} (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    const st = envoy.newStream();
    st.requestHeaders(REQ, false);
    st.requestBody('ignored', true);
    expect(slots(envoy, 0, 3, 4, 5)).toEqual([0, 11, 0, 0]);
    expect(list(envoy, 1)).toEqual([4]);
    expect(st.upstream.headers).toBeNull();
    expect(st.localReply).toMatchObject({ status: 403, details: 'dlp_blocked', path: 'filter-chain', origin: 'plugin', bodyText: '{"error":1}' });
    expect(st.downstream.headers).toEqual([
      [':status', '403'],
      ['x-reason', 'dlp'],
      ['content-length', '11'],
      ['content-type', 'text/plain'],
      ['x-seen-by-filter', 'yes'],
    ]);
    expect(st.downstream.bodyText).toBe('{"error":1}');
    expect(st.state).toBe('completed');
  });

  it('from a request body after the headers went upstream: the upstream request is reset', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_body: `(drop (call $proxy_send_local_response (i32.const 400) ${s.ref('bad')} ${s.ref('')} ${s.ref('')} (i32.const -1))) (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    const st = envoy.newStream();
    st.requestHeaders(REQ, false);
    st.requestBody('x', true);
    expect(st.upstream.headers).not.toBeNull();
    expect(st.upstream.body.length).toBe(0);
    expect(st.upstream.reset).toBe(true);
    expect(st.downstream.headers).toEqual([[':status', '400']]);
    expect(st.downstream.endStream).toBe(true);
  });

  it('from response headers: sent directly; from a response body after headers went out: stream reset', async () => {
    const s = new WatStrings();
    const direct = await watGuest({
      callbacks: {
        proxy_on_response_headers: `(drop (call $proxy_send_local_response (i32.const 502) ${s.ref('no')} ${s.ref('replaced')} ${s.ref('')} (i32.const -1))) (i32.const 0)`,
        proxy_on_response_body: `${inc(0)} (i32.const 0)`,
      },
      data: s.data,
    });
    const a = await createEnvoyHost({ wasm: direct });
    const s1 = a.newStream();
    s1.requestHeaders(REQ, true);
    expect(s1.responseHeaders([[':status', '200']], false)).toBe(4);
    s1.responseBody('upstream body', true);
    expect(slots(a, 0)).toEqual([0]);
    expect(s1.localReply).toMatchObject({ status: 502, path: 'direct' });
    expect(s1.downstream.header(':status')).toBe('502');
    expect(s1.downstream.bodyText).toBe('replaced');

    const late = await watGuest({
      callbacks: {
        proxy_on_response_body: `(drop (call $proxy_send_local_response (i32.const 502) ${s.ref('no')} ${s.ref('x')} ${s.ref('')} (i32.const -1))) (i32.const 0)`,
      },
      data: s.data,
    });
    const b = await createEnvoyHost({ wasm: late });
    const s2 = b.newStream();
    s2.requestHeaders(REQ, true);
    s2.responseHeaders([[':status', '200']], false);
    s2.responseBody('partial', true);
    expect(s2.state).toBe('reset');
    expect(s2.downstream.header(':status')).toBe('200');
    expect(s2.downstream.reset).toBe(true);
  });

  it('from a root context is a no-op returning Ok', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_configure: '(drop (call $proxy_set_tick_period_milliseconds (i32.const 1))) (i32.const 1)',
        proxy_on_tick: store(0, `(call $proxy_send_local_response (i32.const 403) ${s.ref('x')} ${s.ref('')} ${s.ref('')} (i32.const -1))`),
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    const st = envoy.newStream();
    st.requestHeaders(REQ, false);
    envoy.advanceTime(1);
    expect(slots(envoy, 0)).toEqual([0]);
    expect(st.localReply).toBeUndefined();
    st.requestBody('a', true);
    expect(st.upstream.endStream).toBe(true);
  });
});

describe('close_stream, VM failure, teardown', () => {
  it('close_stream resets the stream', async () => {
    const wasm = await watGuest({ callbacks: { proxy_on_request_headers: '(drop (call $proxy_close_stream (i32.const 0))) (i32.const 0)' } });
    const envoy = await createEnvoyHost({ wasm });
    const s = envoy.newStream();
    s.requestHeaders(REQ, true);
    expect(s.state).toBe('reset');
    expect(s.resetReason).toBe('wasm_close_stream');
  });

  it('a trap fails the stream with 503 wasm_fail_stream, later streams too, without further callbacks', async () => {
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_headers: `${inc(0)} (if (i32.eq (local.get $ctx) (i32.const 2)) (then unreachable)) (i32.const 0)`,
        proxy_on_response_headers: `${inc(1)} (i32.const 0)`,
        proxy_on_log: inc(2),
      },
    });
    const envoy = await createEnvoyHost({ wasm });
    const s = envoy.newStream();
    s.requestHeaders(REQ, true);
    expect(envoy.worker(0).failed).toBe(true);
    expect(envoy.worker(0).failure).toMatch(/proxy_on_request_headers.*unreachable/);
    expect(s.localReply).toMatchObject({ status: 503, details: 'wasm_fail_stream', origin: 'envoy' });
    expect(s.downstream.header(':status')).toBe('503');
    expect(s.upstream.headers).toBeNull();
    s.complete();
    const s2 = envoy.newStream();
    s2.requestHeaders(REQ, true);
    expect(s2.downstream.header(':status')).toBe('503');
    expect(slots(envoy, 0, 1, 2)).toEqual([1, 0, 0]);
    expect(envoy.logs.some((l) => l.source === 'envoy' && l.levelName === 'critical')).toBe(true);
  });

  it('with failOpen traffic passes untouched after a trap', async () => {
    const wasm = await watGuest({ callbacks: { proxy_on_request_body: 'unreachable' } });
    const envoy = await createEnvoyHost({ wasm, failOpen: true });
    const s = envoy.newStream();
    s.requestHeaders(REQ, false);
    s.requestBody('through', true);
    expect(s.localReply).toBeUndefined();
    expect(s.upstream.bodyText).toBe('through');
    expect(s.upstream.endStream).toBe(true);
  });

  it('tears down in Envoy’s order: on_log, on_done, on_delete', async () => {
    const wasm = await watGuest({
      callbacks: {
        proxy_on_log: push(0, '(i32.const 1)'),
        proxy_on_done: `${push(0, '(i32.const 2)')} (i32.const 1)`,
        proxy_on_delete: push(0, '(i32.const 3)'),
      },
    });
    const envoy = await createEnvoyHost({ wasm });
    const s = envoy.newStream();
    s.requestHeaders(REQ, true);
    s.responseHeaders([[':status', '200']], true);
    expect(s.state).toBe('completed');
    s.complete();
    expect(list(envoy, 0)).toEqual([1, 2, 3]);
  });
});

describe('concurrency, trailers, gRPC', () => {
  it('keeps interleaved streams apart (own buffers, own header maps) on one worker and across workers', async () => {
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_body: `
          ;; at end of stream (whole buffered body visible) upper-case the first byte
          (if (result i32) (local.get $eos)
            (then
              (drop (call $proxy_get_buffer_bytes (i32.const 0) (i32.const 0) (i32.const 1) (i32.const ${OUT}) (i32.const ${OUT + 4})))
              (i32.store8 (i32.const 1300) (i32.sub (i32.load8_u (i32.load (i32.const ${OUT}))) (i32.const 32)))
              (drop (call $proxy_set_buffer_bytes (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 1300) (i32.const 1)))
              (i32.const 0))
            (else (i32.const 1)))`,
      },
    });
    const envoy = await createEnvoyHost({ wasm, workers: 2 });
    const a = envoy.worker(0).newStream();
    const b = envoy.worker(0).newStream();
    const c = envoy.worker(1).newStream();
    for (const s of [a, b, c]) s.requestHeaders(REQ, false);
    a.requestBody('alpha', false);
    b.requestBody('bravo', false);
    c.requestBody('charlie', false);
    b.requestBody('-b', true);
    a.requestBody('-a', true);
    c.requestBody('-c', true);
    expect([a.upstream.bodyText, b.upstream.bodyText, c.upstream.bodyText]).toEqual(['Alpha-a', 'Bravo-b', 'Charlie-c']);
  });

  it('holds trailers during a StopAll and runs the trailers callback after continue; response trailers reach the client', async () => {
    const wasm = await watGuest({
      callbacks: {
        proxy_on_configure: '(drop (call $proxy_set_tick_period_milliseconds (i32.const 1))) (i32.const 1)',
        proxy_on_request_headers: '(i32.const 1)',
        proxy_on_request_trailers: `${inc(0)} ${store(1, '(local.get $n)')} (i32.const 0)`,
        proxy_on_response_trailers: `${inc(2)} (i32.const 0)`,
        proxy_on_tick: '(drop (call $proxy_set_effective_context (i32.const 2))) (drop (call $proxy_continue_stream (i32.const 0)))',
      },
    });
    const envoy = await createEnvoyHost({ wasm });
    const s = envoy.newStream();
    s.requestHeaders(REQ, false);
    s.requestBody('data', false);
    s.requestTrailers([['x-checksum', 'abc']]);
    expect(slots(envoy, 0)).toEqual([0]);
    envoy.advanceTime(1);
    expect(slots(envoy, 0, 1)).toEqual([1, 1]);
    expect(s.upstream.bodyText).toBe('data');
    expect(s.upstream.trailers).toEqual([['x-checksum', 'abc']]);
    s.responseHeaders([[':status', '200']], false);
    s.responseBody('ok', false);
    s.responseTrailers([['grpc-status', '0']]);
    expect(slots(envoy, 2)).toEqual([1]);
    expect(s.downstream.trailers).toEqual([['grpc-status', '0']]);
    expect(s.state).toBe('completed');
  });

  it('answers a gRPC request with a trailers-only local reply (grpc-status from the call or mapped from HTTP)', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_headers: `(drop (call $proxy_send_local_response (i32.const 403) ${s.ref('denied')} ${s.ref('no access')} ${s.ref('')} (i32.const -1))) (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    const st = envoy.newStream();
    st.requestHeaders([...REQ, ['content-type', 'application/grpc']], false);
    expect(st.downstream.header(':status')).toBe('200');
    expect(st.downstream.header('grpc-status')).toBe('7');
    expect(st.downstream.header('grpc-message')).toBe('no%20access');
    expect(st.downstream.body.length).toBe(0);
    expect(st.downstream.endStream).toBe(true);
  });
});

describe('buffered body outside callbacks, content-length', () => {
  it('exposes the buffered body to onTick through set_effective_context while the filter is buffering', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_configure: '(drop (call $proxy_set_tick_period_milliseconds (i32.const 1))) (i32.const 1)',
        proxy_on_request_body: '(i32.const 1)',
        proxy_on_tick: `
          (drop (call $proxy_set_effective_context (i32.const 2)))
          ${store(0, `(call $proxy_get_buffer_status (i32.const 0) (i32.const ${OUT}) (i32.const ${OUT + 4}))`)}
          ${store(1, `(i32.load (i32.const ${OUT}))`)}
          ${store(2, `(call $proxy_set_buffer_bytes (i32.const 0) (i32.const 0) (i32.load (i32.const ${OUT})) ${s.ref('checked')})`)}
          (drop (call $proxy_continue_stream (i32.const 0)))`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    const st = envoy.newStream();
    st.requestHeaders([...REQ, ['content-length', '12']], false);
    st.requestBody('original', false);
    st.requestBody('body', true);
    expect(st.state).toBe('stalled');
    envoy.advanceTime(1);
    expect(slots(envoy, 0, 1, 2)).toEqual([0, 12, 0]);
    expect(st.upstream.bodyText).toBe('checked');
    expect(st.upstream.endStream).toBe(true);
    // Envoy leaves content-length alone: the plugin had to fix it in its headers callback.
    expect(st.upstream.contentLengthMatches).toBe(false);
  });
});
