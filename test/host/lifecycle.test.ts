// VM start-up, plugin configuration, reconfiguration, linking, logs, time and WASI, with WAT guests.
import { describe, expect, it } from 'vitest';
import { EmulatorError, createEnvoyHost } from './index.js';
import { OUT, RESULTS, WatStrings, compileWat, slot, store, watGuest, watSource } from './wat-guest.js';

const REQ = [
  [':method', 'GET'],
  [':path', '/'],
  [':authority', 'h'],
] as const;

const push = (n: number, expr: string): string =>
  `(i32.store (i32.add (i32.const ${RESULTS + (n + 1) * 4}) (i32.mul (i32.load (i32.const ${RESULTS + n * 4})) (i32.const 4))) ${expr}) ${store(n, `(i32.add (i32.load (i32.const ${RESULTS + n * 4})) (i32.const 1))`)}`;

function list(mem: (p: number, n: number) => Uint8Array, n: number): number[] {
  return Array.from({ length: slot(mem, n) }, (_, i) => slot(mem, n + 1 + i));
}

describe('start-up', () => {
  it('runs _initialize, main, then root context_create(root, 0), vm_start, configure; streams get the root as parent', async () => {
    const wasm = await watGuest({
      extra: `
        (func (export "_initialize") ${push(0, '(i32.const 1)')})
        (func (export "main") (param i32 i32) (result i32) ${push(0, '(i32.const 2)')} (i32.const 0))`,
      callbacks: {
        proxy_on_context_create: `${push(0, '(i32.const 3)')} ${push(10, '(local.get $ctx)')} ${push(10, '(local.get $parent)')}`,
        proxy_on_vm_start: `${push(0, '(i32.const 4)')} ${store(20, '(local.get $size)')} (i32.const 1)`,
        proxy_on_configure: `${push(0, '(i32.const 5)')} ${store(21, '(local.get $size)')} (i32.const 1)`,
      },
    });
    const envoy = await createEnvoyHost({ wasm, vmConfig: 'abc', pluginConfig: '12345' });
    envoy.newStream();
    const w = envoy.worker(0);
    const mem = w.readGuestMemory.bind(w);
    expect(list(mem, 0)).toEqual([1, 2, 3, 4, 5, 3]);
    expect(list(mem, 10)).toEqual([1, 0, 2, 1]);
    expect([slot(mem, 20), slot(mem, 21)]).toEqual([3, 5]);
  });

  it('traps a host call other than proxy_log during _initialize (restricted callback)', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      extra: `(func (export "_initialize") (drop (call $proxy_define_metric (i32.const 0) ${s.ref('m')} (i32.const ${OUT}))))`,
      data: s.data,
    });
    await expect(createEnvoyHost({ wasm })).rejects.toMatchObject({ code: 'PLUGIN_START_FAILED', message: expect.stringMatching(/restricted_callback/) });
  });

  it('fails plugin start when proxy_on_configure returns false, carrying the guest’s log lines', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: { proxy_on_configure: `${s.log('config error: detectors.email: unknown action "zap"', 4)} (i32.const 0)` },
      data: s.data,
    });
    const err = await createEnvoyHost({ wasm, pluginConfig: '{}' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmulatorError);
    expect((err as EmulatorError).code).toBe('PLUGIN_START_FAILED');
    expect((err as EmulatorError).message).toMatch(/proxy_on_configure returned false/);
    expect((err as EmulatorError).message).toMatch(/detectors\.email: unknown action "zap"/);
  });

  it('fails plugin start when proxy_on_vm_start returns false or traps', async () => {
    const falseStart = await watGuest({ callbacks: { proxy_on_vm_start: '(i32.const 0)' } });
    await expect(createEnvoyHost({ wasm: falseStart })).rejects.toMatchObject({ code: 'PLUGIN_START_FAILED' });
    const trap = await watGuest({ callbacks: { proxy_on_configure: 'unreachable' } });
    await expect(createEnvoyHost({ wasm: trap })).rejects.toThrow(/proxy_on_configure trapped/);
  });

  it('configures a canary and every worker (configure runs workers + 1 times)', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({ callbacks: { proxy_on_configure: `${s.log('configured')} (i32.const 1)` }, data: s.data });
    const envoy = await createEnvoyHost({ wasm, workers: 3 });
    expect(envoy.logs.filter((l) => l.message === 'configured').map((l) => l.worker)).toEqual([-1, 0, 1, 2]);
    expect(envoy.workers.map((w) => w.rootContextId)).toEqual([1, 1, 1]);
  });
});

describe('linking like Envoy', () => {
  it('rejects env.abort, proxy_clear_route_cache (ABI 0.1.0 only) and unknown imports', async () => {
    const abort = await watGuest({ rawImports: '(import "env" "abort" (func (param i32 i32 i32 i32)))' });
    await expect(createEnvoyHost({ wasm: abort })).rejects.toMatchObject({ code: 'LINK_FAILED', message: expect.stringMatching(/env\.abort/) });
    const clear = await watGuest({ rawImports: '(import "env" "proxy_clear_route_cache" (func (result i32)))' });
    await expect(createEnvoyHost({ wasm: clear })).rejects.toMatchObject({ code: 'LINK_FAILED' });
  });

  it('requires the ABI marker and an allocator export', async () => {
    await expect(createEnvoyHost({ wasm: await watGuest({ abiMarker: false }) })).rejects.toThrow(/ABI version/);
    await expect(createEnvoyHost({ wasm: await watGuest({ allocator: false }) })).rejects.toThrow(/malloc/);
  });

  it('does not link proxy_get_log_level for an ABI 0.2.0 module', async () => {
    const src = watSource({ abiMarker: false, extra: '(func (export "proxy_abi_version_0_2_0"))' });
    const wasm = await compileWat(src);
    await expect(createEnvoyHost({ wasm })).rejects.toThrow(/proxy_get_log_level/);
  });

  it('returns values through malloc when the module exports it instead of proxy_on_memory_allocate', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      allocator: false,
      extra: `(func (export "malloc") (param $n i32) (result i32) ${store(5, '(i32.const 77)')} (i32.const 40000))`,
      callbacks: { proxy_on_request_headers: `(drop (call $proxy_get_property ${s.ref('plugin_name')} (i32.const ${OUT}) (i32.const ${OUT + 4}))) (i32.const 0)` },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    envoy.newStream().requestHeaders(REQ, true);
    const w = envoy.worker(0);
    expect(slot(w.readGuestMemory.bind(w), 5)).toBe(77);
    expect(new TextDecoder().decode(w.readGuestMemory(40000, 8))).toBe('meshward');
  });
});

describe('reconfiguration', () => {
  it('creates a new root context in the same VM, keeps open streams on the old root, retires it after them', async () => {
    const wasm = await watGuest({
      callbacks: {
        proxy_on_context_create: push(0, '(local.get $ctx)'),
        proxy_on_vm_start: `${push(10, '(local.get $ctx)')} (i32.const 1)`,
        proxy_on_configure: `${push(20, '(local.get $ctx)')} (i32.ne (local.get $size) (i32.const 3))`,
        proxy_on_done: `${push(30, '(local.get $ctx)')} (i32.const 1)`,
        proxy_on_delete: push(40, '(local.get $ctx)'),
      },
    });
    const envoy = await createEnvoyHost({ wasm, pluginConfig: 'v1' });
    const old = envoy.newStream(); // id 2, parent 1
    old.requestHeaders(REQ, false);
    expect(envoy.reconfigure('bad')).toMatchObject({ accepted: false });
    expect(envoy.pluginConfig).toBe('v1');
    expect(envoy.reconfigure('v2-config')).toEqual({ accepted: true });
    expect(envoy.worker(0).rootContextId).toBe(3);
    const mem = envoy.worker(0).readGuestMemory.bind(envoy.worker(0));
    expect(list(mem, 10)).toEqual([1, 3]);
    expect(list(mem, 20)).toEqual([1, 3]);
    expect(list(mem, 30)).toEqual([]);
    const fresh = envoy.newStream();
    fresh.requestHeaders(REQ, true);
    old.requestBody('x', true);
    old.complete();
    expect(list(mem, 30)).toEqual([2, 1]);
    expect(list(mem, 40)).toEqual([2, 1]);
    expect(list(mem, 0)).toEqual([1, 2, 3, 4]);
  });

  it('on_done returning false defers on_delete until proxy_done', async () => {
    const wasm = await watGuest({
      callbacks: {
        proxy_on_configure: '(drop (call $proxy_set_tick_period_milliseconds (i32.const 10))) (i32.const 1)',
        proxy_on_done: '(i32.const 0)',
        proxy_on_tick: store(0, '(call $proxy_done)'),
        proxy_on_delete: store(1, '(i32.const 1)'),
      },
    });
    const envoy = await createEnvoyHost({ wasm });
    envoy.shutdown();
    const mem = envoy.worker(0).readGuestMemory.bind(envoy.worker(0));
    expect(slot(mem, 1)).toBe(0);
    envoy.advanceTime(10);
    expect([slot(mem, 0), slot(mem, 1)]).toEqual([0, 1]);
  });
});

describe('logs, time, ticks, WASI', () => {
  it('captures proxy_log at or above Envoy’s level, rejects levels above 5, reports the level', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_headers: `
          ${s.log('trace msg', 0)} ${s.log('info msg', 2)} ${s.log('critical msg', 5)}
          ${store(0, `(call $proxy_log (i32.const 6) ${s.ref('bad level')})`)}
          ${store(1, `(call $proxy_get_log_level (i32.const ${OUT}))`)}
          ${store(2, `(i32.load (i32.const ${OUT}))`)}
          ${store(3, `(call $proxy_log (i32.const 2) (i32.const 131000) (i32.const 100))`)}
          (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm });
    envoy.newStream().requestHeaders(REQ, true);
    const mem = envoy.worker(0).readGuestMemory.bind(envoy.worker(0));
    expect([0, 1, 2, 3].map((n) => slot(mem, n))).toEqual([2, 0, 2, 6]);
    expect(envoy.logs.filter((l) => l.source === 'proxy_log').map((l) => [l.levelName, l.message])).toEqual([
      ['info', 'info msg'],
      ['critical', 'critical msg'],
    ]);
    envoy.setLogLevel('trace');
    envoy.clearLogs();
    envoy.newStream().requestHeaders(REQ, true);
    expect(envoy.logsAtLeast('trace')).toContain('trace msg');
    expect(slot(mem, 2)).toBe(0);
  });

  it('serves the controllable clock and fires ticks per period', async () => {
    const wasm = await watGuest({
      callbacks: {
        proxy_on_configure: '(drop (call $proxy_set_tick_period_milliseconds (i32.const 100))) (i32.const 1)',
        proxy_on_tick: `(drop (call $proxy_get_current_time_nanoseconds (i32.const 1200))) ${push(0, '(i32.const 1)')}`,
      },
    });
    const envoy = await createEnvoyHost({ wasm, startTimeNanos: 1_000_000_000n });
    const mem = envoy.worker(0).readGuestMemory.bind(envoy.worker(0));
    envoy.advanceTime(99);
    expect(slot(mem, 0)).toBe(0);
    envoy.advanceTime(251);
    expect(slot(mem, 0)).toBe(3);
    expect(new DataView(mem(1200, 8).buffer).getBigUint64(0, true)).toBe(1_300_000_000n);
    expect(envoy.now()).toBe(1_350_000_000n);
  });

  it('routes WASI fd_write to the log (stdout info, stderr error) and stubs args/environ/clock/random like Envoy', async () => {
    const s = new WatStrings();
    const wasm = await watGuest({
      rawImports: `
        (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
        (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))`,
      callbacks: {
        proxy_on_request_headers: `
          (i32.store (i32.const 1300) (i32.const ${s.ptr('to stdout\n')})) (i32.store (i32.const 1304) (i32.const ${s.len('to stdout\n')}))
          ${store(0, '(call $fd_write (i32.const 1) (i32.const 1300) (i32.const 1) (i32.const 1308))')}
          (i32.store (i32.const 1300) (i32.const ${s.ptr('to stderr')})) (i32.store (i32.const 1304) (i32.const ${s.len('to stderr')}))
          ${store(1, '(call $fd_write (i32.const 2) (i32.const 1300) (i32.const 1) (i32.const 1308))')}
          ${store(2, '(call $fd_write (i32.const 3) (i32.const 1300) (i32.const 1) (i32.const 1308))')}
          ${store(3, '(call $args_sizes_get (i32.const 1400) (i32.const 1404))')}
          ${store(4, '(call $environ_sizes_get (i32.const 1408) (i32.const 1412))')}
          ${store(5, '(call $clock_time_get (i32.const 0) (i64.const 0) (i32.const 1416))')}
          ${store(6, '(call $clock_time_get (i32.const 2) (i64.const 0) (i32.const 1416))')}
          ${store(7, '(call $random_get (i32.const 1424) (i32.const 65537))')}
          ${store(8, '(call $random_get (i32.const 1424) (i32.const 16))')}
          (call $proc_exit (i32.const 1))
          ${store(9, '(i32.const 1)')}
          (i32.const 0)`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm, envs: { A: 'b' } });
    envoy.newStream().requestHeaders(REQ, true);
    const mem = envoy.worker(0).readGuestMemory.bind(envoy.worker(0));
    expect(Array.from({ length: 10 }, (_, i) => slot(mem, i))).toEqual([0, 0, 8, 0, 0, 0, 58, 28, 0, 1]);
    expect(new DataView(mem(1400, 16).buffer).getUint32(8, true)).toBe(1); // one env var
    expect(envoy.logs.filter((l) => l.source !== 'envoy').map((l) => [l.source, l.levelName, l.message])).toEqual([
      ['stdout', 'info', 'to stdout'],
      ['stderr', 'error', 'to stderr'],
    ]);
    expect(envoy.logsAtLeast('error')).toContain('wasi_unstable proc_exit');
  });
});

describe('HTTP callouts', () => {
  it('validates cluster and headers, records the call, delivers the response to the root context', async () => {
    const s = new WatStrings();
    const { encodePairs } = await import('./index.js');
    const headers = encodePairs([
      [':method', 'POST'],
      [':path', '/authz'],
      [':authority', 'authz'],
    ]);
    const noPath = encodePairs([
      [':method', 'POST'],
      [':authority', 'authz'],
    ]);
    const wasm = await watGuest({
      callbacks: {
        proxy_on_request_headers: `
          ${store(0, `(call $proxy_http_call ${s.ref('authz')} ${s.ref(headers)} ${s.ref('body')} ${s.ref('')} (i32.const 500) (i32.const 1200))`)}
          ${store(1, '(i32.load (i32.const 1200))')}
          ${store(2, `(call $proxy_http_call ${s.ref('unknown')} ${s.ref(headers)} ${s.ref('')} ${s.ref('')} (i32.const 500) (i32.const 1204))`)}
          ${store(3, `(call $proxy_http_call ${s.ref('authz')} ${s.ref(noPath)} ${s.ref('')} ${s.ref('')} (i32.const 500) (i32.const 1204))`)}
          (i32.const 0)`,
        proxy_on_http_call_response: `
          ${store(4, '(local.get $ctx)')} ${store(5, '(local.get $token)')} ${store(6, '(local.get $body)')}
          ${store(7, `(call $proxy_get_buffer_bytes (i32.const 4) (i32.const 0) (i32.const 100) (i32.const ${OUT}) (i32.const ${OUT + 4}))`)}
          ${store(8, `(call $proxy_get_status (i32.const 1208) (i32.const 1212) (i32.const 1216))`)}
          ${store(9, '(i32.load (i32.const 1208))')}`,
      },
      data: s.data,
    });
    const envoy = await createEnvoyHost({ wasm, clusters: ['authz'] });
    envoy.newStream().requestHeaders(REQ, true);
    const mem = envoy.worker(0).readGuestMemory.bind(envoy.worker(0));
    expect([0, 1, 2, 3].map((n) => slot(mem, n))).toEqual([0, 4, 2, 2]);
    expect(envoy.httpCalls).toHaveLength(1);
    const call = envoy.httpCalls[0]!;
    expect(call).toMatchObject({ cluster: 'authz', token: 4, timeoutMs: 500, rootContextId: 1 });
    expect(call.headers).toContainEqual(['content-length', '4']);
    call.respond({ headers: [[':status', '200']], body: 'allow' });
    expect([4, 5, 6, 7].map((n) => slot(mem, n))).toEqual([1, 4, 5, 0]);
    expect(() => call.respond({ headers: [] })).toThrow(/already answered/);
    envoy.newStream().requestHeaders(REQ, true);
    envoy.httpCalls[1]!.fail();
    expect([6, 8, 9].map((n) => slot(mem, n))).toEqual([0, 0, 11]);
  });
});

describe('failure policies', () => {
  const trapOnBody = (): Promise<Uint8Array> =>
    watGuest({
      callbacks: {
        proxy_on_request_body: 'unreachable',
        proxy_on_configure: `${push(0, '(i32.const 1)')} (i32.const 1)`,
      },
    });

  it('fail_reload: after the backoff the next stream gets a fresh VM (instantiate, vm_start, configure)', async () => {
    const envoy = await createEnvoyHost({ wasm: await trapOnBody(), failurePolicy: 'fail_reload', reloadBackoffMs: 1000 });
    const s1 = envoy.newStream();
    s1.requestHeaders(REQ, false);
    s1.requestBody('x', true);
    expect(envoy.worker(0).failed).toBe(true);
    expect(s1.downstream.header(':status')).toBe('503');
    const s2 = envoy.newStream(); // within the backoff: still failed, fail closed
    s2.requestHeaders(REQ, true);
    expect(s2.downstream.header(':status')).toBe('503');
    envoy.advanceTime(1000);
    const s3 = envoy.newStream();
    expect(envoy.worker(0).failed).toBe(false);
    expect(envoy.worker(0).vmGeneration).toBe(2);
    s3.requestHeaders(REQ, true);
    expect(s3.upstream.endStream).toBe(true);
    const mem = envoy.worker(0).readGuestMemory.bind(envoy.worker(0));
    expect(list(mem, 0)).toEqual([1]); // the fresh VM's memory: configured once
  });

  it('fail_closed keeps the worker failed; a config change starts a fresh VM for it', async () => {
    const envoy = await createEnvoyHost({ wasm: await trapOnBody() });
    const s1 = envoy.newStream();
    s1.requestHeaders(REQ, false);
    s1.requestBody('x', true);
    envoy.advanceTime(60_000);
    const s2 = envoy.newStream();
    s2.requestHeaders(REQ, true);
    expect(s2.downstream.header(':status')).toBe('503');
    expect(envoy.reconfigure('new')).toEqual({ accepted: true });
    expect(envoy.worker(0).failed).toBe(false);
    expect(envoy.worker(0).vmGeneration).toBe(2);
    const s3 = envoy.newStream();
    s3.requestHeaders(REQ, true);
    expect(s3.upstream.endStream).toBe(true);
  });

  it('rejects unknown failure policies and bad options by name', async () => {
    const wasm = await watGuest({});
    await expect(createEnvoyHost({ wasm, failurePolicy: 'retry' as never })).rejects.toThrow(/failurePolicy/);
    await expect(createEnvoyHost({ wasm, workers: 0 })).rejects.toThrow(/workers/);
    await expect(createEnvoyHost({ wasm, bufferLimitBytes: -1 })).rejects.toThrow(/bufferLimitBytes/);
    await expect(createEnvoyHost({ wasm, logLevel: 'loud' as never })).rejects.toThrow(/logLevel/);
  });
});
