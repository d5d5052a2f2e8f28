// Request-time faults follow failure_mode: bodies over max_body_bytes, malformed JSON, size
// anomalies. Nothing traps the VM.
import { describe, expect, it } from 'vitest';
import { runExchange } from '../host/index.js';
import { SAMPLES, auditLines, chat, chatRequest, chatResponse, jsonResponseHeaders, meshward, requestHeaders } from './helpers.js';

const base = { detectors: { email: 'redact', credit_card: 'block' }, max_body_bytes: 2048 };

describe('bodies over max_body_bytes', () => {
  const big = chatRequest(`${'lorem ipsum '.repeat(300)} ${SAMPLES.email}`);

  it('open: passes uninspected and records body_too_large (content-length known)', async () => {
    const envoy = await meshward({ ...base, failure_mode: 'open' });
    const { result } = chat(envoy, big);
    expect(result.localReply).toBeUndefined();
    expect(result.upstream.bodyText).toBe(big);
    expect(auditLines(envoy)[0]!.errors).toContain('body_too_large');
    expect(envoy.metrics.get('meshward.direction.request.error.body_too_large.errors')).toBe(1n);
  });

  it('open: passes when the size is only known while streaming (no content-length)', async () => {
    const envoy = await meshward({ ...base, failure_mode: 'open' });
    const headers = requestHeaders('/v1/chat/completions');
    const { result } = chat(envoy, big, undefined, { headers, chunkSize: 500 });
    expect(result.localReply).toBeUndefined();
    expect(result.upstream.bodyText).toBe(big);
    expect(result.state).not.toBe('stalled');
  });

  it('closed: 413', async () => {
    const envoy = await meshward({ ...base, failure_mode: 'closed' });
    expect(chat(envoy, big).result.localReply?.status).toBe(413);
    const headers = requestHeaders('/v1/chat/completions');
    const { result } = chat(envoy, big, undefined, { headers, chunkSize: 500 });
    expect(result.localReply?.status).toBe(413);
    expect(JSON.parse(result.localReply!.bodyText).error.code).toBe('body_too_large');
  });

  it('closed: an oversized response announced by content-length gets a real 413', async () => {
    const envoy = await meshward({ ...base, failure_mode: 'closed' });
    const resp = chatResponse('x'.repeat(5000));
    const { result } = chat(envoy, chatRequest('hi'), { headers: jsonResponseHeaders(resp), body: resp });
    expect(result.localReply).toMatchObject({ status: 413, origin: 'plugin' });
    expect(result.downstream.bodyText).not.toContain('xxxx');
  });

  it('closed: an oversized response without content-length is replaced by the error body', async () => {
    const envoy = await meshward({ ...base, failure_mode: 'closed' });
    const resp = chatResponse('x'.repeat(5000));
    const { result } = chat(envoy, chatRequest('hi'), { headers: [[':status', '200'], ['content-type', 'application/json']], body: resp, chunkSize: 1000 });
    expect(JSON.parse(result.downstream.bodyText).error.code).toBe('body_too_large');
    expect(result.downstream.endStream).toBe(true);
  });
});

describe('defaults against Envoy\'s own buffer limit (1 MiB)', () => {
  const huge = chatRequest('x'.repeat(1_500_000));

  it('a chunked body over the default max_body_bytes passes (open) instead of hitting Envoy\'s 413', async () => {
    const envoy = await meshward({ detectors: { email: 'redact' } });
    const { result } = chat(envoy, huge, undefined, { headers: requestHeaders('/v1/chat/completions'), chunkSize: 65536 });
    expect(result.localReply).toBeUndefined();
    expect(result.upstream.body.length).toBe(Buffer.byteLength(huge));
  });

  it('closed: the 413 comes from the filter, with its error body', async () => {
    const envoy = await meshward({ failure_mode: 'closed', detectors: { email: 'redact' } });
    const { result } = chat(envoy, huge, undefined, { headers: requestHeaders('/v1/chat/completions'), chunkSize: 65536 });
    expect(result.localReply).toMatchObject({ status: 413, origin: 'plugin' });
    expect(JSON.parse(result.localReply!.bodyText).error.code).toBe('body_too_large');
  });
});

describe('content-encoded bodies', () => {
  it('asks the upstream for an uncompressed response when responses are inspected', async () => {
    const envoy = await meshward({ detectors: { email: 'redact' } });
    const { result } = chat(envoy, chatRequest('hi'), undefined, { headers: [...requestHeaders('/v1/chat/completions', chatRequest('hi')), ['accept-encoding', 'gzip, br']] });
    expect(result.upstream.header('accept-encoding')).toBeUndefined();
    const requestOnly = Object.fromEntries(
      ['email', 'phone', 'credit_card', 'us_ssn', 'iban', 'aws_access_key', 'github_token', 'slack_token', 'google_api_key', 'stripe_key', 'openai_api_key', 'jwt', 'private_key', 'prompt_injection'].map(
        (id) => [id, { action: 'alert', directions: ['request'] }],
      ),
    );
    const quiet = await meshward({ detectors: requestOnly });
    const r2 = chat(quiet, chatRequest('hi'), undefined, { headers: [...requestHeaders('/v1/chat/completions', chatRequest('hi')), ['accept-encoding', 'gzip']] });
    expect(r2.result.upstream.header('accept-encoding')).toBe('gzip');
  });

  it('open: a gzip request body passes uninspected with error encoded_body; closed: 415', async () => {
    const body = chatRequest(`mail ${SAMPLES.email}`); // pretend-compressed: the filter must not parse it
    const headers = [...requestHeaders('/v1/chat/completions', body), ['content-encoding', 'gzip'] as const];
    const open = await meshward({ detectors: { email: 'redact' } });
    const r = chat(open, body, undefined, { headers: [...headers] });
    expect(r.result.upstream.bodyText).toBe(body);
    expect(auditLines(open)[0]!.errors).toContain('encoded_body');
    const closed = await meshward({ failure_mode: 'closed', detectors: { email: 'redact' } });
    expect(chat(closed, body, undefined, { headers: [...headers] }).result.localReply?.status).toBe(415);
  });

  it('closed: a compressed response is refused with 502 before its headers go out', async () => {
    const envoy = await meshward({ failure_mode: 'closed', detectors: { email: 'redact' } });
    const resp = chatResponse('hello');
    const { result } = chat(envoy, chatRequest('hi'), { headers: [...jsonResponseHeaders(resp), ['content-encoding', 'br']], body: resp });
    expect(result.localReply).toMatchObject({ status: 502, origin: 'plugin' });
  });
});

describe('malformed JSON', () => {
  const broken = `{"model":"gpt-4o","messages":[{"role":"user","content":"mail ${SAMPLES.email}"}`;

  it('open: inspected as text (redaction still applies)', async () => {
    const envoy = await meshward({ ...base, failure_mode: 'open' });
    const { result } = chat(envoy, broken);
    expect(result.upstream.bodyText).toBe(broken.replace(SAMPLES.email, '[EMAIL]'));
    expect(auditLines(envoy)[0]!.errors).toContain('malformed_json');
  });

  it('closed: rejected with 400', async () => {
    const envoy = await meshward({ ...base, failure_mode: 'closed' });
    const { result } = chat(envoy, broken);
    expect(result.localReply?.status).toBe(400);
    expect(JSON.parse(result.localReply!.bodyText).error.code).toBe('malformed_json');
  });

  it.each([
    ['truncated', '{"messages":[{"content":"abc'],
    ['bad literal', '{"stream": tru}'],
    ['deep nesting', '['.repeat(5000)],
    ['garbage', '\u0000\u0001\u0002'],
    ['lone backslash', '{"a":"\\'],
    ['bad unicode escape', '{"messages":[{"role":"user","content":"\\uZZZZ \\ud800 x"}]}'],
    ['empty', ''],
  ])('never traps on %s', async (_name, body) => {
    const envoy = await meshward({ ...base, failure_mode: 'open' });
    const { result } = chat(envoy, body);
    expect(envoy.worker(0).failed).toBe(false);
    expect(result.upstream.endStream).toBe(true);
    // The VM still serves the next request.
    expect(chat(envoy, chatRequest(`card ${SAMPLES.card}`)).result.localReply?.status).toBe(403);
  });
});

describe('size anomalies', () => {
  it('oversized_request alert records, block answers 413', async () => {
    const cfgAlert = { detectors: { oversized_request: { action: 'alert', max_bytes: 100 } } };
    const envoy = await meshward(cfgAlert);
    chat(envoy, chatRequest('x'.repeat(200)));
    expect(auditLines(envoy)[0]!.findings).toContainEqual({ detector: 'oversized_request', count: 1, action: 'alert' });
    const blocking = await meshward({ detectors: { oversized_request: { action: 'block', max_bytes: 150 } } });
    const { result } = chat(blocking, chatRequest('x'.repeat(200)));
    expect(result.localReply?.status).toBe(413);
    expect(JSON.parse(result.localReply!.bodyText).error.code).toBe('oversized_request');
    // Without content-length: decided from the bytes seen.
    const r2 = chat(blocking, chatRequest('x'.repeat(200)), undefined, { headers: requestHeaders('/v1/chat/completions'), chunkSize: 64 });
    expect(r2.result.localReply?.status).toBe(413);
    expect(chat(blocking, chatRequest('small')).result.localReply).toBeUndefined();
  });

  it('oversized_response known from content-length is a real 413; otherwise the body is replaced', async () => {
    const envoy = await meshward({ detectors: { oversized_response: { action: 'block', max_bytes: 100 } } });
    const resp = chatResponse('y'.repeat(300));
    const a = chat(envoy, chatRequest('hi'), { headers: jsonResponseHeaders(resp), body: resp });
    expect(a.result.localReply?.status).toBe(413);
    const s = envoy.newStream();
    const b = runExchange(s, { headers: requestHeaders('/v1/chat/completions', chatRequest('hi')), body: chatRequest('hi') }, {
      headers: [[':status', '200'], ['content-type', 'application/json']],
      body: resp,
      chunkSize: 64,
    });
    expect(JSON.parse(b.downstream.bodyText).error.code).toBe('oversized_response');
  });
});
