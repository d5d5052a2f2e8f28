// meshward's AssemblyScript ABI layer (filter/assembly/abi, host, context/base) end to end: the
// abi-probe plugin calls every wrapper and reports results as "probe <op> <result>" log lines.
// Built twice (optimized -O3 and unoptimized) so GC/pinning behaviour is checked in both.
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAbiProbe } from './abi-probe-build.js';
import { createEnvoyHost, runExchange, type EnvoyHost, type EnvoyHostOptions } from './index.js';

const builds: Record<string, string> = {};

beforeAll(async () => {
  builds['optimized'] = await buildAbiProbe(true);
  builds['debug'] = await buildAbiProbe(false);
}, 120_000);

function probe(envoy: EnvoyHost, op: string): string[] {
  return envoy.logs
    .filter((l) => l.source === 'proxy_log' && l.message.startsWith(`probe ${op} `))
    .map((l) => l.message.slice(`probe ${op} `.length));
}

function one(envoy: EnvoyHost, op: string): string {
  const all = probe(envoy, op);
  if (all.length !== 1) throw new Error(`expected one "probe ${op}" line, got ${JSON.stringify(all)}`);
  return all[0]!;
}

const REQ = (probeOps: string, extra: [string, string][] = []): [string, string][] => [
  [':method', 'POST'],
  [':path', '/v1/chat/completions'],
  [':authority', 'api'],
  ['x-probe', probeOps],
  ...extra,
];

describe.each(['optimized', 'debug'])('abi-probe (%s build)', (variant) => {
  const host = (options: Partial<EnvoyHostOptions> = {}): Promise<EnvoyHost> =>
    createEnvoyHost({
      wasm: builds[variant]!,
      pluginConfig: 'cfg',
      vmConfig: 'vmc',
      rootId: 'probe-root',
      clusters: ['authz-cluster'],
      foreignFunctions: { echo_upper: (a) => ({ result: new TextEncoder().encode(new TextDecoder().decode(a).toUpperCase()) }) },
      ...options,
    });

  it('starts: vm_start and configure read their configurations; metrics and a queue are defined', async () => {
    const envoy = await host({ workers: 2 });
    expect(probe(envoy, 'vm_start')).toEqual(['3:vmc', '3:vmc', '3:vmc']);
    expect(probe(envoy, 'configure')).toEqual(Array(3).fill('3:cfg:root=probe-root'));
    expect(probe(envoy, 'metric_ids')[0]).toBe('4,5,6');
    expect(envoy.metrics.all().map((m) => [m.name, m.kind])).toEqual([
      ['probe.requests', 'counter'],
      ['probe.gauge', 'gauge'],
      ['probe.hist', 'histogram'],
    ]);
  });

  it('rejects a configuration (onConfigure false) with the guest’s error log, and traps are start failures', async () => {
    await expect(host({ pluginConfig: 'reject' })).rejects.toThrow(/proxy_on_configure returned false[\s\S]*probe rejects configuration/);
    await expect(host({ pluginConfig: 'trap-configure' })).rejects.toMatchObject({ code: 'PLUGIN_START_FAILED' });
  });

  it('headers: get, pairs, size, add, replace, remove, UTF-8, missing -> null with NotFound', async () => {
    const envoy = await host({ generateRequestId: false });
    const s = envoy.newStream();
    const headers = REQ('headers', [
      ['x-replace', 'old'],
      ['x-remove', 'bye'],
      ['x-utf8', 'héllo wörld'],
    ]);
    s.requestHeaders(headers, true);
    expect(one(envoy, 'request_headers')).toBe('7:eos');
    expect(one(envoy, 'pairs')).toBe('7::method=POST');
    expect(Number(one(envoy, 'size'))).toBe(headers.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0));
    expect(one(envoy, 'missing')).toBe('null:1');
    expect([one(envoy, 'add'), one(envoy, 'replace'), one(envoy, 'remove')]).toEqual(['0', '0', '0']);
    expect(one(envoy, 'utf8')).toBe('héllo wörld');
    expect(s.upstream.header('x-added')).toBe('1');
    expect(s.upstream.header('x-replace')).toBe('new');
    expect(s.upstream.header('x-remove')).toBeUndefined();
  });

  it('headers: setHeaders replaces the map (UTF-8 serialization)', async () => {
    const envoy = await host();
    const s = envoy.newStream();
    s.requestHeaders(REQ('setpairs'), true);
    expect(one(envoy, 'setpairs')).toBe('0');
    expect(s.upstream.headers).toEqual([
      [':method', 'GET'],
      [':path', '/rewritten'],
      [':authority', 'probe'],
      ['x-unicode', 'ünï'],
    ]);
  });

  it('properties: strings, SPIFFE URI SAN, missing -> null (no trap), int64, bool, map, set/get filter state', async () => {
    const envoy = await host();
    const s = envoy.newStream({ properties: { 'connection.uri_san_peer_certificate': 'spiffe://corp.example/ns/batch/sa/job' } });
    s.requestHeaders(REQ('props', [['content-length', '17']]), false);
    expect(one(envoy, 'prop_path')).toBe('/v1/chat/completions');
    expect(one(envoy, 'prop_san')).toBe('spiffe://corp.example/ns/batch/sa/job');
    expect(one(envoy, 'prop_missing')).toBe('null:1');
    expect(one(envoy, 'prop_root_id')).toBe('probe-root');
    expect(one(envoy, 'prop_size')).toBe('17');
    expect(one(envoy, 'prop_mtls')).toBe('false');
    expect(one(envoy, 'prop_headers')).toBe('POST');
    expect([one(envoy, 'prop_set'), one(envoy, 'prop_get_set')]).toEqual(['0', 'stored']);
    expect(new TextDecoder().decode(s.filterState.get('probe_state'))).toBe('stored');
    expect(envoy.worker(0).failed).toBe(false);
  });

  it('metrics: Counter/Gauge/Histogram wrappers with Envoy’s rules', async () => {
    const envoy = await host();
    envoy.newStream().requestHeaders(REQ('metrics'), true);
    expect(one(envoy, 'counter_inc0')).toBe('2');
    expect(one(envoy, 'counter_get')).toBe('1');
    expect([one(envoy, 'gauge_set'), one(envoy, 'gauge_add'), one(envoy, 'gauge_get')]).toEqual(['0', '0', '7']);
    expect([one(envoy, 'hist_record'), one(envoy, 'hist_get')]).toEqual(['0', '2']);
    expect(envoy.metrics.get('probe.requests')).toBe(1n);
    expect(envoy.metrics.get('probe.gauge')).toBe(7n);
    expect(envoy.metrics.samples('probe.hist')).toEqual([42n]);
  });

  it('shared data: absent -> null, CAS round trip, stale CAS -> CasMismatch', async () => {
    const envoy = await host();
    envoy.newStream().requestHeaders(REQ('shared'), true);
    expect(one(envoy, 'shared_absent')).toBe('null:1');
    expect(one(envoy, 'shared_set')).toBe('0');
    expect(one(envoy, 'shared_get')).toBe('v1:cas');
    expect(one(envoy, 'shared_stale')).toBe('8');
    expect(one(envoy, 'shared_cas')).toBe('0');
    expect(one(envoy, 'shared_old_cas')).toBe('8');
    expect(one(envoy, 'shared_final')).toBe('v2');
    expect(envoy.sharedData.get('probe-key')?.text).toBe('v2');
  });

  it('shared queues: resolve, enqueue, on_queue_ready on the root, dequeue then Empty', async () => {
    const envoy = await host();
    envoy.newStream().requestHeaders(REQ('queue'), true);
    expect(one(envoy, 'queue_resolve')).toBe('same');
    expect(one(envoy, 'queue_unknown')).toBe('0:1');
    expect(one(envoy, 'queue_enqueue')).toBe('0');
    expect(one(envoy, 'queue_ready')).toMatch(/^\d+:hello-queue:then=7$/);
  });

  it('time, HTTP callouts, foreign functions', async () => {
    const envoy = await host({ startTimeNanos: 1_234_567_890_000_000_000n });
    envoy.newStream().requestHeaders(REQ('time,httpcall,foreign'), true);
    expect(one(envoy, 'time')).toBe('1234567890000000000');
    expect(one(envoy, 'httpcall')).toBe('4:0');
    expect(one(envoy, 'httpcall_bad')).toBe('0:2');
    expect(envoy.httpCalls[0]).toMatchObject({ cluster: 'authz-cluster', timeoutMs: 1000 });
    expect(new TextDecoder().decode(envoy.httpCalls[0]!.body)).toBe('payload');
    envoy.httpCalls[0]!.respond({ headers: [[':status', '200']], body: 'allowed' });
    expect(one(envoy, 'http_response')).toBe('4:1:7:0:200:allowed:code=0/');
    expect(one(envoy, 'foreign')).toBe('ABC:0');
    expect(one(envoy, 'foreign_missing')).toBe('null:1');
  });

  it('logging is gated on the cached host level', async () => {
    const info = await host();
    info.newStream().requestHeaders(REQ('logs'), true);
    const levels = (e: EnvoyHost) => e.logs.filter((l) => l.message.startsWith('probe level ')).map((l) => l.levelName);
    expect(levels(info)).toEqual(['info', 'warn', 'error', 'critical']);
    expect(one(info, 'log_enabled_debug')).toBe('no');
    const trace = await host({ logLevel: 'trace' });
    trace.newStream().requestHeaders(REQ('logs'), true);
    expect(levels(trace)).toEqual(['trace', 'debug', 'info', 'warn', 'error', 'critical']);
    expect(one(trace, 'log_enabled_debug')).toBe('yes');
  });

  it('buffered body: totals, whole-body read, view, replace; headers gone in body callbacks', async () => {
    const envoy = await host();
    const s = envoy.newStream();
    const r = runExchange(s, { headers: REQ('', [['x-probe-body', 'buffer']]), body: 'hello world', chunkSize: 4 }, { headers: [[':status', '200']], body: 'ok' });
    expect(probe(envoy, 'request_body')).toEqual(['4:more:late_header=null/2', '8:more:late_header=null/2', '11:eos:late_header=null/2']);
    expect(one(envoy, 'whole')).toBe('hello world');
    expect(one(envoy, 'view_len')).toBe('11');
    expect(one(envoy, 'replace')).toBe('0');
    expect(r.upstream.bodyText).toBe('HELLO WORLD');
    expect(r.state).toBe('completed');
  });

  it('body edits follow Envoy’s set_buffer_bytes rules through prepend/append/setBuffer', async () => {
    const envoy = await host();
    const s = envoy.newStream();
    s.requestHeaders(REQ('', [['x-probe-body', 'edit']]), false);
    s.requestBody('abc', true);
    expect([one(envoy, 'prepend'), one(envoy, 'append'), one(envoy, 'middle')]).toEqual(['0', '0', '2']);
    expect(one(envoy, 'size_after')).toBe('5');
    expect(one(envoy, 'past_end')).toBe(':0');
    expect(s.upstream.bodyText).toBe('<abc>');
  });

  it('watermark body: each callback sees its own chunk; everything reaches upstream at the end', async () => {
    const envoy = await host();
    const s = envoy.newStream();
    runExchange(s, { headers: REQ('', [['x-probe-body', 'watermark']]), chunks: ['one', 'two', 'three'] });
    expect(probe(envoy, 'chunk')).toEqual(['one', 'two', 'three']);
    expect(s.upstream.bodyText).toBe('onetwothree');
  });

  it('resumes a parked stream from onTick with setEffectiveContext + continueRequest', async () => {
    const envoy = await host({ pluginConfig: 'tick' });
    const s = envoy.newStream();
    s.requestHeaders(REQ('', [['x-probe-body', 'park']]), false);
    s.requestBody('parked body', true);
    expect(s.state).toBe('stalled');
    envoy.advanceTime(100);
    expect(one(envoy, 'resume')).toBe(`${2}:0:0`);
    expect(s.upstream.bodyText).toBe('parked body');
    expect(s.upstream.endStream).toBe(true);
  });

  it('local reply from request headers passes through the plugin’s response callbacks', async () => {
    const envoy = await host();
    const s = envoy.newStream();
    s.requestHeaders(REQ('local'), false);
    expect(one(envoy, 'local')).toBe('0');
    expect(s.upstream.headers).toBeNull();
    expect(s.localReply).toMatchObject({ status: 403, details: 'probe_denied', bodyText: '{"error":"denied"}' });
    expect(one(envoy, 'response_headers')).toBe('403:4:more'); // :status, x-probe-reply, content-length, content-type
    expect(one(envoy, 'response_body')).toBe('18:eos:{"error":"denied"}');
    expect(s.downstream.header('x-probe-reply')).toBe('yes');
    expect(s.downstream.header('x-probe-seen')).toBe('1');
    expect(s.downstream.bodyText).toBe('{"error":"denied"}');
  });

  it('local reply from a body callback, from response headers (direct) and response redaction', async () => {
    const a = await host();
    const s1 = a.newStream();
    runExchange(s1, { headers: REQ('', [['x-probe-body', 'block']]), body: 'secret' });
    expect(s1.localReply).toMatchObject({ status: 403, details: 'body_blocked' });
    expect(s1.upstream.reset).toBe(true);
    expect(s1.downstream.bodyText).toBe('blocked');

    const b = await host();
    const s2 = b.newStream();
    runExchange(s2, { headers: REQ('', [['x-probe-response', 'local']]) }, { headers: [[':status', '200']], body: 'upstream' });
    expect(s2.localReply).toMatchObject({ status: 500, path: 'direct' });
    expect(s2.downstream.bodyText).toBe('response replaced');

    const c = await host();
    const s3 = c.newStream();
    runExchange(s3, { headers: REQ('', [['x-probe-response', 'redact']]) }, { headers: [[':status', '200']], body: 'card 4111 1111 1111 1111' });
    expect(one(c, 'response_redact')).toBe('0');
    expect(s3.downstream.bodyText).toBe('[REDACTED]');
  });

  it('on_log reads headers (not writable), then on_done and on_delete; the registry forgets the context', async () => {
    const envoy = await host();
    const s = envoy.newStream();
    runExchange(s, { headers: REQ('') }, { headers: [[':status', '201']] });
    s.complete();
    expect(one(envoy, 'on_log')).toBe('/v1/chat/completions:201:write=2:trailers=1');
    const order = envoy.logs.map((l) => l.message.split(' ')[1]).filter((m) => m === 'on_log' || m === 'on_done' || m === 'on_delete');
    expect(order).toEqual(['on_log', 'on_done', 'on_delete']);
  });

  it('abort (throw) logs the message at critical and fails the stream with 503', async () => {
    const envoy = await host();
    const s = envoy.newStream();
    s.requestHeaders(REQ('trap'), true);
    expect(envoy.worker(0).failed).toBe(true);
    expect(envoy.logsAtLeast('critical').some((m) => m.includes('meshward: abort: probe trap'))).toBe(true);
    expect(s.downstream.header(':status')).toBe('503');
  });

  it('close_stream resets; StopIteration from headers becomes a stall without a continue', async () => {
    const envoy = await host();
    const s = envoy.newStream();
    s.requestHeaders(REQ('close'), true);
    expect(s.state).toBe('reset');
    const t = envoy.newStream();
    expect(t.requestHeaders(REQ('stop'), true)).toBe(4);
    expect(t.state).toBe('stalled');
  });

  it('adopted host buffers survive garbage collection (pinning in proxy_on_memory_allocate)', async () => {
    const envoy = await host();
    envoy.newStream().requestHeaders(REQ('gc', [['x-gc', 'gc-value-0123456789']]), true);
    expect(one(envoy, 'gc')).toBe('intact');
  });

  it('keeps memory flat over many streams (no leak of pinned blocks or contexts)', async () => {
    const envoy = await host();
    const run = (): void => {
      const s = envoy.newStream();
      runExchange(s, { headers: REQ('headers,props', [['x-replace', 'a'], ['x-remove', 'b'], ['x-utf8', 'u']]), body: 'x'.repeat(2048), chunkSize: 512 }, { headers: [[':status', '200']], body: 'y'.repeat(4096), chunkSize: 1024 });
      s.complete();
    };
    for (let i = 0; i < 200; i++) run();
    const after200 = envoy.worker(0).memoryBytes;
    for (let i = 0; i < 800; i++) run();
    expect(envoy.worker(0).memoryBytes).toBe(after200);
    expect(envoy.worker(0).openStreams).toHaveLength(0);
  });
});
