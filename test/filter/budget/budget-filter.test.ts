/**
 * Token budgets and model access lists through the compiled filter (filter/build/meshward.wasm)
 * in the proxy-wasm host emulator: admission 429, max-token clamping, a stream cut at the budget
 * with a valid SSE ending, usage-based charging, racing worker VMs, access lists incl. /v1/models.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EmulatorError } from '../../host/index.js';
import { SSE_DONE, SSE_HEADERS, chat, filterState, jsonResponseHeaders, meshward, requestHeaders, sseEvents, type Config } from '../helpers.js';

const A = 'spiffe://corp.example/ns/team-a/sa/app';
const B = 'spiffe://corp.example/ns/team-b/sa/app';
const HOUR = 3_600_000_000_000n;
const T0 = (BigInt(Date.UTC(2026, 10, 26, 10, 0, 0)) * 1_000_000n / HOUR) * HOUR + 600_000_000_000n; // 10:10 UTC

function budgets(limit: Record<string, unknown>, extra: Config = {}): Config {
  return {
    detectors: { email: 'redact' },
    budgets: { limits: [{ name: 'team-a', principals: ['spiffe://corp.example/ns/team-a/*'], tokens: 1000, window: 'hour', ...limit }] },
    ...extra,
  };
}

const body = (extra: Record<string, unknown> = {}, content = 'abcdefgh'): string =>
  JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content }], ...extra }); // prompt estimate: 2 + 4 + 3 = 9

const usageResponse = (prompt: number, completion: number, cached = 0): string =>
  JSON.stringify({
    id: 'chatcmpl-1', object: 'chat.completion', model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cached } },
  });

const delta = (text: string): string =>
  `data: ${JSON.stringify({ id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1764150000, model: 'gpt-4o', choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\n\n`;

describe('admission before the model', () => {
  it('admits what fits and answers 429 with an OpenAI error, Retry-After to the window end and nothing upstream', async () => {
    const envoy = await meshward(budgets({}), { startTimeNanos: T0 });
    const ok = chat(envoy, body({ max_tokens: 600 }), { headers: jsonResponseHeaders(), body: usageResponse(9, 100) }, { principal: A });
    expect(ok.result.upstreamResponded).toBe(true);
    ok.stream.complete();
    expect(filterState(ok.stream, 'meshward.budget')).toMatchObject({ identity: A, model: 'gpt-4o', decision: 'admitted', tokens_in: 9, tokens_out: 100, usage_reported: true, budgets: [{ name: 'team-a', charged: 109, remaining: 891 }] });
    // 891 left: 9 + 900 does not fit.
    const no = chat(envoy, body({ max_completion_tokens: 900 }), undefined, { principal: A });
    expect(no.result.localReply?.status).toBe(429);
    expect(no.stream.upstream.body.length).toBe(0);
    expect(no.result.localReply?.headers).toEqual(expect.arrayContaining([['retry-after', '3000'], ['x-meshward-budget', 'team-a'], ['content-type', 'application/json']]));
    expect(JSON.parse(no.result.localReply!.bodyText)).toEqual({
      error: { message: expect.stringContaining("Token budget 'team-a' cannot cover this request"), type: 'rate_limit_error', param: null, code: 'budget_exceeded' },
    });
    expect(envoy.metrics.get('meshward.budget.team-a.rejections')).toBe(1n);
    // Another identity is not limited by team-a's budget.
    expect(chat(envoy, body({ max_tokens: 5000 }), undefined, { principal: B }).result.localReply).toBeUndefined();
  });

  it('clamps max_tokens to what is left: valid JSON upstream and a content-length that fits', async () => {
    const envoy = await meshward(budgets({ on_exceed: 'clamp', min_output_tokens: 10, costs: [{ model: 'gpt-4o*', input: 1, output: 2 }] }), { startTimeNanos: T0 });
    const r = chat(envoy, body({ max_tokens: 4000, temperature: 0.2 }), undefined, { principal: A });
    expect(r.result.localReply).toBeUndefined();
    const sent = JSON.parse(r.stream.upstream.bodyText) as Record<string, unknown>;
    expect(sent).toEqual({ model: 'gpt-4o', messages: [{ role: 'user', content: 'abcdefgh' }], max_tokens: 495, temperature: 0.2 }); // (1000 - 9) / 2
    expect(r.stream.upstream.contentLengthMatches).not.toBe(false);
    r.stream.complete();
    expect(filterState(r.stream, 'meshward.budget')).toMatchObject({ decision: 'clamped' });
    expect(envoy.metrics.get('meshward.budget.team-a.clamps')).toBe(1n);
  });
});

describe('budgets together with DLP', () => {
  it('a clamp lands in the redacted body; a cut stream still carries redactions', async () => {
    const envoy = await meshward(budgets({ tokens: 120, on_exceed: 'clamp', min_output_tokens: 5 }), { startTimeNanos: T0 });
    const r = chat(envoy, body({ max_tokens: 1000, stream: true }, 'mail jane.doe@corp.example now'), { headers: SSE_HEADERS, body: Array.from({ length: 200 }, (_, i) => delta(i === 3 ? ' x@corp.example ' : 'ab cd ')).join('') + SSE_DONE, chunkSize: 64 }, { principal: A });
    const sent = JSON.parse(r.stream.upstream.bodyText) as { messages: { content: string }[]; max_tokens: number };
    expect(sent.messages[0]!.content).toBe('mail [EMAIL] now');
    expect(sent.max_tokens).toBeLessThan(120);
    expect(r.stream.upstream.contentLengthMatches).not.toBe(false);
    const text = r.stream.downstream.bodyText;
    expect(text).toContain('[EMAIL]');
    expect(text).not.toContain('x@corp.example');
    expect(sseEvents(text).at(-1)).toBe('[DONE]');
    expect(text).toContain('"finish_reason":"length"');
  });
});

describe('streamed responses', () => {
  it('charges output as it streams and ends the stream cleanly at the budget', async () => {
    const envoy = await meshward(budgets({ tokens: 60 }), { startTimeNanos: T0 });
    const events = Array.from({ length: 100 }, (_, i) => delta(`w${String(i).padStart(2, '0')} `)); // 4 ASCII chars each
    const r = chat(envoy, body({ stream: true }), { headers: SSE_HEADERS, body: events.join('') + SSE_DONE, chunkSize: 53 }, { principal: A });
    expect(r.result.state).not.toBe('stalled');
    expect(r.stream.downstream.endStream).toBe(true);
    const out = sseEvents(r.stream.downstream.bodyText);
    expect(out.at(-1)).toBe('[DONE]');
    expect(out.at(-2)).toEqual({
      id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1764150000, model: 'gpt-4o',
      choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'length' }],
      meshward: { budget_exhausted: true, budget: 'team-a' },
    });
    const delivered = out.length - 2;
    expect(delivered).toBe(51); // 60 - 9 prompt = 51 output tokens, one 4-char delta each
    expect(r.stream.downstream.bodyText.split('data: [DONE]').length).toBe(2); // exactly one [DONE]
    r.stream.complete();
    expect(filterState(r.stream, 'meshward.budget')).toMatchObject({ decision: 'stream_cut', tokens_out: 51, budgets: [{ charged: 60, remaining: 0 }] });
    expect(envoy.metrics.get('meshward.budget.team-a.stream_cuts')).toBe(1n);
    expect(envoy.metrics.get(`meshward.tokens.identity.${A.replaceAll('.', '_')}.model.gpt-4o.kind.output.charged`)).toBe(51n);
    // The next request of the identity is refused before it reaches the model.
    expect(chat(envoy, body({ stream: true }), undefined, { principal: A }).result.localReply?.status).toBe(429);
  });

  it('takes the usage chunk as the charge when the client asked for it', async () => {
    const envoy = await meshward(budgets({}), { startTimeNanos: T0 });
    const usage = 'data: {"id":"chatcmpl-9","object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":4,"total_tokens":34}}\n\n';
    const text = delta('hello') + delta(' world') + usage + SSE_DONE;
    const r = chat(envoy, body({ stream: true, stream_options: { include_usage: true } }), { headers: SSE_HEADERS, body: text, chunkSize: 17 }, { principal: A });
    expect(r.stream.downstream.bodyText).toBe(text);
    r.stream.complete();
    expect(filterState(r.stream, 'meshward.budget')).toMatchObject({ tokens_in: 30, tokens_out: 4, usage_reported: true, budgets: [{ charged: 34, remaining: 966 }] });
  });

  it('concurrent streams of one identity on two worker VMs see each other: together they never exceed the budget', async () => {
    const envoy = await meshward(budgets({ tokens: 100 }), { startTimeNanos: T0, workers: 2 });
    const s1 = envoy.worker(0).newStream({ properties: { 'connection.uri_san_peer_certificate': A } });
    const s2 = envoy.worker(1).newStream({ properties: { 'connection.uri_san_peer_certificate': A } });
    for (const s of [s1, s2]) {
      const b = body({ stream: true });
      s.requestHeaders(requestHeaders('/v1/chat/completions', b), false);
      s.requestBody(b, true);
      expect(s.localReply).toBeUndefined();
      s.responseHeaders(SSE_HEADERS, false);
    }
    // Alternate one-token deltas between the workers.
    for (let i = 0; i < 60; i++) {
      s1.responseBody(delta('abcd'), false);
      s2.responseBody(delta('efgh'), false);
    }
    s1.responseBody(SSE_DONE, true);
    s2.responseBody(SSE_DONE, true);
    const deliveredOf = (t: string) => sseEvents(t).filter((e) => typeof e === 'object' && (e as { meshward?: unknown }).meshward === undefined).length;
    const total = 18 + deliveredOf(s1.downstream.bodyText) + deliveredOf(s2.downstream.bodyText);
    expect(total).toBe(100);
    for (const s of [s1, s2]) expect(sseEvents(s.downstream.bodyText).at(-1)).toBe('[DONE]');
  });
});

describe('non-streamed responses are charged from usage', () => {
  it('refunds the reservation down to the reported usage, weighting cached input', async () => {
    const envoy = await meshward(budgets({ costs: [{ model: 'gpt-4o*', input: 1, cached_input: 0.25, output: 4 }] }), { startTimeNanos: T0 });
    const r = chat(envoy, body({ max_tokens: 200 }), { headers: jsonResponseHeaders(), body: usageResponse(40, 10, 20) }, { principal: A });
    r.stream.complete();
    // 20 uncached × 1 + 20 cached × 0.25 + 10 × 4 = 65
    expect(filterState(r.stream, 'meshward.budget')).toMatchObject({ tokens_in: 40, tokens_cached: 20, tokens_out: 10, budgets: [{ charged: 65, remaining: 935 }] });
    expect(envoy.metrics.get(`meshward.budget.team-a.key.${A.replaceAll('.', '_')}.remaining`)).toBe(935n);
  });
});

describe('identity behind an API key', () => {
  it('maps the key header through its SHA-256 to the configured identity', async () => {
    const key = 'sk-team-a-secret';
    const sha = createHash('sha256').update(key).digest('hex');
    const cfg = budgets({ principals: ['apikey:team-a'], tokens: 10 });
    (cfg['budgets'] as Record<string, unknown>)['api_keys'] = { header: 'authorization', keys: [{ sha256: sha, identity: 'apikey:team-a' }] };
    const envoy = await meshward(cfg, { startTimeNanos: T0 });
    const b = body({ max_tokens: 100 });
    const r = chat(envoy, b, undefined, { headers: requestHeaders('/v1/chat/completions', b, [['authorization', `Bearer ${key}`]]) });
    expect(r.result.localReply?.status).toBe(429);
    const other = chat(envoy, b, undefined, { headers: requestHeaders('/v1/chat/completions', b, [['authorization', 'Bearer sk-other']]) });
    expect(other.result.localReply).toBeUndefined();
  });
});

describe('model access lists', () => {
  const access: Config = {
    model_access: {
      lists: [
        { name: 'team-a', principals: ['spiffe://corp.example/ns/team-a/*'], models: ['gpt-4o*'] },
        { name: 'everyone', principals: ['*'], models: ['gpt-4o-mini'] },
      ],
    },
  };

  it('answers 403 naming the model, by the body field, and 400 when the body disagrees with x-meshward-model', async () => {
    const envoy = await meshward(access);
    const denied = chat(envoy, JSON.stringify({ model: 'o3', messages: [] }), undefined, { principal: A });
    expect(denied.result.localReply?.status).toBe(403);
    expect(JSON.parse(denied.result.localReply!.bodyText)).toEqual({
      error: { message: "The model 'o3' is not allowed for this caller.", type: 'invalid_request_error', param: 'model', code: 'model_not_allowed' },
    });
    expect(chat(envoy, JSON.stringify({ model: 'gpt-4o-2024-08-06', messages: [] }), undefined, { principal: A }).result.localReply).toBeUndefined();
    expect(chat(envoy, JSON.stringify({ model: 'gpt-4o', messages: [] }), undefined, { principal: B }).result.localReply?.status).toBe(403);
    const b = JSON.stringify({ model: 'gpt-4o', messages: [] });
    const mismatch = chat(envoy, b, undefined, { principal: A, headers: requestHeaders('/v1/chat/completions', b, [['x-meshward-model', 'gpt-4o-mini']]) });
    expect(mismatch.result.localReply?.status).toBe(400);
    expect(JSON.parse(mismatch.result.localReply!.bodyText).error.code).toBe('model_mismatch');
    expect(envoy.metrics.get('meshward.access.model.o3.denials')).toBe(1n);
  });

  it('filters GET /v1/models to the models the caller may use (valid JSON, content-length fixed)', async () => {
    const envoy = await meshward(access);
    const list = JSON.stringify({ object: 'list', data: ['gpt-4o', 'gpt-4o-mini', 'o3', 'dall-e-3'].map((id) => ({ id, object: 'model', created: 1, owned_by: 'meshward' })) });
    const get = (principal: string) => {
      const s = envoy.worker(0).newStream({ properties: { 'connection.uri_san_peer_certificate': principal } });
      s.requestHeaders([[':method', 'GET'], [':path', '/v1/models'], [':authority', 'llm.internal']], true);
      s.responseHeaders(jsonResponseHeaders(list), false);
      s.responseBody(list.slice(0, 40), false);
      s.responseBody(list.slice(40), true);
      return s;
    };
    const a = get(A);
    expect(JSON.parse(a.downstream.bodyText).data.map((m: { id: string }) => m.id)).toEqual(['gpt-4o', 'gpt-4o-mini']);
    expect(a.downstream.contentLengthMatches).not.toBe(false);
    const b = get(B);
    expect(JSON.parse(b.downstream.bodyText)).toEqual({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 1, owned_by: 'meshward' }] });
  });
});

describe('configuration', () => {
  it.each([
    [{ budgets: { limits: [{ name: 'x', principals: ['*'], tokens: 10, window: 'week' }] } }, '$.budgets.limits[0].window'],
    [{ budgets: { limits: [] , nope: 1 } }, '$.budgets.nope'],
    [{ model_access: { lists: [{ name: 'x', principals: [], models: [] }] } }, '$.model_access.lists[0].principals'],
  ])('rejects %j naming the field', async (cfg, field) => {
    await expect(meshward(cfg)).rejects.toSatisfy((e: unknown) => e instanceof EmulatorError && e.message.includes(field));
  });
});
