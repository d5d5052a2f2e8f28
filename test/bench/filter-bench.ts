/**
 * bench:filter — the built meshward.wasm in the host emulator, in one run:
 *  (a) inspection throughput (MB/s) with all detectors on (+100 custom keywords) over a mixed
 *      1 MiB text (text/plain request) and a realistic 64 KiB chat completions body (JSON);
 *  (b) per-request time (p50, p99, µs) of a 2 KiB chat request + 4 KiB chat response through the
 *      emulator, all detectors on vs the same filter with all detectors off (overhead = on - off);
 *  (c) the same detectors as JavaScript RegExps (test/bench/regex-detectors.ts) over the same inputs;
 *  plus the module size and the peak linear memory for a 1 MiB body (target <= 3x the body).
 * Targets: >= 300 MB/s and faster than RegExp; p50 overhead <= 50 µs. Bounded: each measurement
 * runs about 1 s. Inputs come from test/bench/corpus.ts (seeded). The last line is one JSON object.
 */
import { readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createEnvoyHost, type EnvoyHost } from '../host/index.js';
import { chatCompletionBody, createRandom, mixedText } from './corpus.js';
import { createRegexDetectors } from './regex-detectors.js';

const WASM = fileURLToPath(new URL('../../filter/build/meshward.wasm', import.meta.url));
const IDS = [
  'email', 'phone', 'credit_card', 'us_ssn', 'iban', 'ip_address', 'aws_access_key', 'github_token', 'slack_token',
  'google_api_key', 'stripe_key', 'openai_api_key', 'jwt', 'private_key', 'prompt_injection',
];
const MiB = 1 << 20;

function keywords(): string[] {
  const r = createRandom(99);
  const words = ['Falcon', 'Heron', 'Atlas', 'Nimbus', 'Orion', 'Vega', 'Kestrel', 'Quasar', 'Zephyr', 'Cobalt'];
  const out = ['Project Falcon'];
  while (out.length < 100) out.push(`${words[Math.floor(r() * 10)]} ${Math.floor(r() * 100000)} Holdings`);
  return out;
}

function config(action: 'alert' | 'off' | 'redact', extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    max_body_bytes: 4 * MiB,
    detectors: Object.fromEntries(IDS.map((id) => [id, action])),
    custom_detectors: action === 'off' ? [] : [{ id: 'codename', keywords: keywords(), action }],
    audit: { log: 'all' },
    ...extra,
  });
}

const wasm = new Uint8Array(readFileSync(WASM));

/**
 * Time spent inside the module's body callbacks (what the filter itself costs, including Envoy's
 * copy of the body into the VM through proxy_get_buffer_bytes), measured by wrapping the exports
 * of every instance the emulator creates. The emulator's own bookkeeping is not counted.
 */
const callbackTime = { ns: 0n };
const TIMED = new Set(['proxy_on_request_body', 'proxy_on_response_body']);
const OriginalInstance = WebAssembly.Instance;
function timedExports(raw: WebAssembly.Exports): WebAssembly.Exports {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (TIMED.has(name) && typeof value === 'function') {
      const fn = value as (...a: unknown[]) => unknown;
      out[name] = (...args: unknown[]): unknown => {
        const t0 = process.hrtime.bigint();
        try {
          return fn(...args);
        } finally {
          callbackTime.ns += process.hrtime.bigint() - t0;
        }
      };
    } else {
      out[name] = value;
    }
  }
  return out as WebAssembly.Exports;
}
class TimedInstance {
  readonly exports: WebAssembly.Exports;
  constructor(module: WebAssembly.Module, imports?: WebAssembly.Imports) {
    this.exports = timedExports(new OriginalInstance(module, imports).exports);
  }
}
(WebAssembly as unknown as { Instance: unknown }).Instance = TimedInstance;

/**
 * MB/s of the filter's body callbacks over `iters` runs of `fn` sending `bytes` each: `inFilter`
 * over the whole run, and `bestRound` the best of rounds of about 100 ms (other work on the
 * machine only ever slows a round down, so the best round is the least disturbed figure).
 */
function callbackMbS(bytes: number, budgetMs: number, maxIter: number, fn: () => void): { inFilter: number; endToEnd: number; bestRound: number } {
  for (let i = 0; i < 3; i++) fn();
  callbackTime.ns = 0n;
  const t0 = process.hrtime.bigint();
  let iters = 0;
  let bestRound = 0;
  let roundNs = 0n;
  let roundIters = 0;
  let roundStart = t0;
  while (iters < maxIter) {
    const before = callbackTime.ns;
    fn();
    iters++;
    roundNs += callbackTime.ns - before;
    roundIters++;
    const now = process.hrtime.bigint();
    if (Number(now - roundStart) / 1e6 >= 100 || iters >= maxIter) {
      bestRound = Math.max(bestRound, (bytes * roundIters) / MiB / (Number(roundNs) / 1e9));
      roundNs = 0n;
      roundIters = 0;
      roundStart = now;
    }
    if (Number(now - t0) / 1e6 >= budgetMs) break;
  }
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const inMs = Number(callbackTime.ns) / 1e6;
  if (roundIters > 0) bestRound = Math.max(bestRound, (bytes * roundIters) / MiB / (Number(roundNs) / 1e9));
  return { inFilter: (bytes * iters) / MiB / (inMs / 1000), endToEnd: (bytes * iters) / MiB / (wallMs / 1000), bestRound };
}

async function host(cfg: string): Promise<EnvoyHost> {
  return createEnvoyHost({ wasm, pluginConfig: cfg, bufferLimitBytes: 16 * MiB });
}

function sendRequest(envoy: EnvoyHost, path: string, contentType: string, body: Uint8Array, response?: Uint8Array, principal?: string): void {
  const s = envoy.newStream(principal === undefined ? {} : { properties: { 'connection.uri_san_peer_certificate': principal } });
  s.requestHeaders([[':method', 'POST'], [':path', path], [':authority', 'llm'], ['content-type', contentType], ['content-length', String(body.length)], ['x-request-id', 'b']], false);
  s.requestBody(body, true);
  if (response) {
    s.responseHeaders([[':status', '200'], ['content-type', 'application/json'], ['content-length', String(response.length)]], false);
    s.responseBody(response, true);
  }
  s.complete();
}

function timeLoop(budgetMs: number, maxIter: number, fn: () => void): number {
  // Wall-clock ms per call of `fn`, after a warm-up.
  for (let i = 0; i < 3; i++) fn();
  const t0 = process.hrtime.bigint();
  let iters = 0;
  let ms = 0;
  while (iters < maxIter) {
    fn();
    iters++;
    ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= budgetMs) break;
  }
  return ms / iters;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const enc = new TextEncoder();
  const mixed = mixedText(MiB, 42);
  const chat = chatCompletionBody(64 << 10, 7);
  const mixedBytes = enc.encode(mixed);
  const chatBytes = enc.encode(chat);
  const figures: Record<string, number> = {};

  // (a) inspection throughput through the filter -------------------------------------------------
  console.log('(a) inspection throughput, all detectors on + 100 custom keywords (through the emulator)');
  const on = await host(config('alert'));
  on.setLogLevel('warn'); // audit lines are built only when enabled; the per-request bench below keeps info
  const mixedRun = callbackMbS(mixedBytes.length, 1000, 200, () => sendRequest(on, '/generate', 'text/plain', mixedBytes));
  const chatRun = callbackMbS(chatBytes.length, 1000, 5000, () => sendRequest(on, '/v1/chat/completions', 'application/json', chatBytes));
  figures.inspect_mixed_1mib_mb_s = round(mixedRun.inFilter);
  figures.inspect_chat_64kib_mb_s = round(chatRun.inFilter);
  figures.inspect_mixed_1mib_best_round_mb_s = round(mixedRun.bestRound);
  figures.inspect_chat_64kib_best_round_mb_s = round(chatRun.bestRound);
  figures.end_to_end_mixed_1mib_mb_s = round(mixedRun.endToEnd);
  figures.end_to_end_chat_64kib_mb_s = round(chatRun.endToEnd);
  console.log(`  mixed 1 MiB text/plain      ${figures.inspect_mixed_1mib_mb_s} MB/s in the filter's body callbacks, ${figures.end_to_end_mixed_1mib_mb_s} MB/s end to end`);
  console.log(`  chat 64 KiB JSON            ${figures.inspect_chat_64kib_mb_s} MB/s in the filter's body callbacks, ${figures.end_to_end_chat_64kib_mb_s} MB/s end to end`);
  console.log(`  (best ~100 ms round, the least disturbed by other load: ${figures.inspect_mixed_1mib_best_round_mb_s} MB/s mixed, ${figures.inspect_chat_64kib_best_round_mb_s} MB/s chat)`);
  // The same requests with only one rare custom keyword on: the cost of the body copy into the VM
  // and the protocol reader (JSON decoding, offset map), nearly without detectors.
  const readOnly = await host(config('off', { custom_detectors: [{ id: 'rare', keywords: ['zqxjkv unlikely term'], action: 'alert' }] }));
  readOnly.setLogLevel('warn');
  const roMixed = callbackMbS(mixedBytes.length, 500, 200, () => sendRequest(readOnly, '/generate', 'text/plain', mixedBytes));
  const roChat = callbackMbS(chatBytes.length, 500, 5000, () => sendRequest(readOnly, '/v1/chat/completions', 'application/json', chatBytes));
  figures.reader_only_mixed_1mib_mb_s = round(roMixed.inFilter);
  figures.reader_only_chat_64kib_mb_s = round(roChat.inFilter);
  console.log(`  (body copy + protocol reader, detectors nearly all off: ${figures.reader_only_mixed_1mib_mb_s} MB/s text, ${figures.reader_only_chat_64kib_mb_s} MB/s chat JSON)`);

  // (c) RegExp detectors over the same inputs ---------------------------------------------------
  console.log('(c) the same detectors as JavaScript RegExps (in-process, no emulator)');
  const rx = createRegexDetectors({ keywords: keywords() });
  const rxMixedMs = timeLoop(1000, 200, () => rx.scan(mixed));
  const rxChatMs = timeLoop(1000, 5000, () => rx.scan(chat));
  figures.regexp_mixed_1mib_mb_s = round(mixedBytes.length / MiB / (rxMixedMs / 1000));
  figures.regexp_chat_64kib_mb_s = round(chatBytes.length / MiB / (rxChatMs / 1000));
  console.log(`  mixed 1 MiB                 ${figures.regexp_mixed_1mib_mb_s} MB/s`);
  console.log(`  chat 64 KiB                 ${figures.regexp_chat_64kib_mb_s} MB/s`);
  figures.speedup_vs_regexp_mixed_x = round(figures.inspect_mixed_1mib_mb_s / figures.regexp_mixed_1mib_mb_s, 2);
  figures.speedup_vs_regexp_chat_x = round(figures.inspect_chat_64kib_mb_s / figures.regexp_chat_64kib_mb_s, 2);
  console.log(`  filter vs RegExp            ${figures.speedup_vs_regexp_mixed_x}x (mixed), ${figures.speedup_vs_regexp_chat_x}x (chat)`);

  // (b) per-request overhead -------------------------------------------------------------------
  console.log('(b) per request: 2 KiB chat request + 4 KiB chat response (audit log at info)');
  const req2k = enc.encode(chatCompletionBody(2 << 10, 11));
  const respText = JSON.stringify({
    id: 'chatcmpl-b',
    object: 'chat.completion',
    model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', content: mixedText(4 << 10, 13).slice(0, 3900) }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 500, completion_tokens: 900, total_tokens: 1400 },
  });
  const resp4k = enc.encode(respText);
  const perRequest = async (cfg: string, principal?: string): Promise<{ p50: number; p99: number }> => {
    const envoy = await host(cfg);
    for (let i = 0; i < 300; i++) sendRequest(envoy, '/v1/chat/completions', 'application/json', req2k, resp4k, principal);
    const samples: number[] = [];
    const t0 = Date.now();
    while (samples.length < 20000 && Date.now() - t0 < 1500) {
      const a = process.hrtime.bigint();
      sendRequest(envoy, '/v1/chat/completions', 'application/json', req2k, resp4k, principal);
      samples.push(Number(process.hrtime.bigint() - a) / 1000);
      if (samples.length % 500 === 0) envoy.clearLogs();
    }
    samples.sort((x, y) => x - y);
    return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
  };
  const off = await perRequest(config('off'));
  const all = await perRequest(config('alert'));
  figures.request_off_p50_us = round(off.p50);
  figures.request_off_p99_us = round(off.p99);
  figures.request_on_p50_us = round(all.p50);
  figures.request_on_p99_us = round(all.p99);
  figures.overhead_p50_us = round(all.p50 - off.p50);
  figures.overhead_p99_us = round(all.p99 - off.p99);
  console.log(`  detectors off               p50 ${figures.request_off_p50_us} µs, p99 ${figures.request_off_p99_us} µs`);
  console.log(`  all detectors on            p50 ${figures.request_on_p50_us} µs, p99 ${figures.request_on_p99_us} µs`);
  console.log(`  overhead of inspection      p50 ${figures.overhead_p50_us} µs, p99 ${figures.overhead_p99_us} µs`);

  // The budget path (docs/budgets.md): identity, model access check, request estimate, admission
  // (shared-data CAS), usage settlement, counters and the filter state. A budget large enough never
  // to refuse, so every request takes the whole path.
  const budgetSections = {
    budgets: { limits: [{ name: 'bench', principals: ['spiffe://bench/*'], tokens: 1_000_000_000_000, window: 'hour', costs: [{ model: 'gpt-4o*', input: 2.5, cached_input: 1.25, output: 10 }] }] },
    model_access: { lists: [{ name: 'bench', principals: ['spiffe://bench/*'], models: ['gpt-4o*'] }] },
  };
  const caller = 'spiffe://bench/ns/a/sa/b';
  const offCaller = await perRequest(config('off'), caller);
  const budgetOnly = await perRequest(config('off', budgetSections), caller);
  const allBudget = await perRequest(config('alert', budgetSections), caller);
  figures.budget_request_p50_us = round(budgetOnly.p50);
  figures.budget_request_p99_us = round(budgetOnly.p99);
  figures.budget_overhead_p50_us = round(budgetOnly.p50 - offCaller.p50);
  figures.budget_overhead_p99_us = round(budgetOnly.p99 - offCaller.p99);
  figures.all_with_budget_overhead_p50_us = round(allBudget.p50 - offCaller.p50);
  console.log(`  budgets + access, detectors off p50 ${figures.budget_request_p50_us} µs, p99 ${figures.budget_request_p99_us} µs`);
  console.log(`  overhead of the budget path p50 ${figures.budget_overhead_p50_us} µs, p99 ${figures.budget_overhead_p99_us} µs`);
  console.log(`  all detectors + budgets     overhead p50 ${figures.all_with_budget_overhead_p50_us} µs`);

  // Module size and memory --------------------------------------------------------------------
  figures.module_bytes = statSync(WASM).size;
  console.log(`module size                   ${figures.module_bytes} bytes (${round(figures.module_bytes / 1024)} KiB)`);
  const big = enc.encode(chatCompletionBody(MiB, 5));
  for (const action of ['alert', 'redact'] as const) {
    const envoy = await host(config(action));
    const before = envoy.worker(0).memoryBytes;
    sendRequest(envoy, '/v1/chat/completions', 'application/json', big);
    const peak = envoy.worker(0).memoryBytes;
    for (let i = 0; i < 5; i++) sendRequest(envoy, '/v1/chat/completions', 'application/json', big);
    const steady = envoy.worker(0).memoryBytes;
    figures[`memory_1mib_${action}_bytes`] = peak;
    figures[`memory_1mib_${action}_ratio_x`] = round(peak / big.length, 2);
    figures[`memory_1mib_${action}_steady_ratio_x`] = round(steady / big.length, 2);
    console.log(
      `linear memory, ${big.length}-byte body (${action.padEnd(6)}): first request ${peak} bytes = ${figures[`memory_1mib_${action}_ratio_x`]}x the body ` +
        `(${before} before); after 6 requests ${steady} bytes = ${figures[`memory_1mib_${action}_steady_ratio_x`]}x`,
    );
  }
  const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  console.log('targets');
  console.log(`  >= 300 MB/s                 ${verdict(Math.min(figures.inspect_mixed_1mib_mb_s, figures.inspect_chat_64kib_mb_s) >= 300)}`);
  console.log(`  faster than RegExp          ${verdict(figures.speedup_vs_regexp_mixed_x > 1 && figures.speedup_vs_regexp_chat_x > 1)}`);
  console.log(`  p50 overhead <= 50 µs       ${verdict(figures.overhead_p50_us <= 50)}`);
  console.log(`  budget path p50 <= 50 µs    ${verdict(figures.budget_overhead_p50_us! <= 50)} (with detectors: ${verdict(figures.all_with_budget_overhead_p50_us! <= 50)})`);
  const memoryRatios = ['alert', 'redact'].flatMap((a) => [figures[`memory_1mib_${a}_ratio_x`]!, figures[`memory_1mib_${a}_steady_ratio_x`]!]);
  console.log(`  memory <= 3x body           ${verdict(Math.max(...memoryRatios) <= 3)} (first request and after 6 requests)`);
  figures.loadavg_1m = round(loadavg()[0]!, 2);
  console.log(`machine load average (1 min) ${figures.loadavg_1m} on ${cpus().length} CPUs (timings are shared-machine figures)`);
  console.log(JSON.stringify(figures));
}

await main();
