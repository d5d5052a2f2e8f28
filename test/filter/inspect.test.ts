// Protocol readers through the built filter: every payload shape, JSON escapes, redaction styles,
// and what is (not) read.
import { describe, expect, it } from 'vitest';
import { SAMPLES, chat, chatRequest, chatResponse, jsonResponseHeaders, meshward, requestHeaders } from './helpers.js';
import type { EnvoyHost } from '../host/index.js';

const REDACT_ALL = { detectors: { email: 'redact', credit_card: 'redact', iban: 'redact', phone: 'redact' } };

function send(envoy: EnvoyHost, path: string, body: string, contentType = 'application/json'): string {
  const headers = requestHeaders(path, body).map(([k, v]) => (k === 'content-type' ? ([k, contentType] as const) : ([k, v] as const)));
  return chat(envoy, body, undefined, { headers: [...headers] }).result.upstream.bodyText;
}

describe('what is read, per shape', () => {
  it('chat completions: string content and content parts; other fields are not text', async () => {
    const envoy = await meshward(REDACT_ALL);
    const body = JSON.stringify({
      model: 'gpt-4o',
      user: SAMPLES.email, // not prompt text for the chat shape
      messages: [
        { role: 'user', content: [{ type: 'text', text: `card ${SAMPLES.card}` }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: `{"to":"${SAMPLES.email}"}` } }] },
      ],
    });
    const out = JSON.parse(send(envoy, '/v1/chat/completions', body));
    expect(out.messages[0].content[0].text).toBe('card [CREDIT_CARD]');
    expect(out.messages[1].tool_calls[0].function.arguments).toBe('{"to":"[EMAIL]"}');
    expect(out.user).toBe(SAMPLES.email);
  });

  it('completions: prompt as a string or an array of strings', async () => {
    const envoy = await meshward(REDACT_ALL);
    expect(JSON.parse(send(envoy, '/v1/completions', JSON.stringify({ model: 'm', prompt: `hi ${SAMPLES.email}` }))).prompt).toBe('hi [EMAIL]');
    expect(JSON.parse(send(envoy, '/v1/completions', JSON.stringify({ model: 'm', prompt: ['a', `b ${SAMPLES.email}`] }))).prompt).toEqual(['a', 'b [EMAIL]']);
  });

  it('embeddings: input strings (token arrays are left alone)', async () => {
    const envoy = await meshward(REDACT_ALL);
    expect(JSON.parse(send(envoy, '/v1/embeddings', JSON.stringify({ model: 'e', input: [`x ${SAMPLES.email}`, 'y'] }))).input).toEqual(['x [EMAIL]', 'y']);
    const tokens = JSON.stringify({ model: 'e', input: [[1, 2, 3]] });
    expect(send(envoy, '/v1/embeddings', tokens)).toBe(tokens);
  });

  it('responses API: input string, input items with content parts, instructions', async () => {
    const envoy = await meshward(REDACT_ALL);
    const body = JSON.stringify({
      model: 'gpt-4o',
      instructions: `reply to ${SAMPLES.email}`,
      input: [{ role: 'user', content: [{ type: 'input_text', text: `IBAN ${SAMPLES.iban}` }] }],
    });
    const out = JSON.parse(send(envoy, '/v1/responses', body));
    expect(out.instructions).toBe('reply to [EMAIL]');
    expect(out.input[0].content[0].text).toBe('IBAN [IBAN]');
  });

  it('KServe v2 / Triton: inputs[].data strings, nested tensors included', async () => {
    const envoy = await meshward(REDACT_ALL);
    const body = JSON.stringify({
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [2, 1], data: [[`a ${SAMPLES.email}`], ['b']] }, { name: 'n', datatype: 'FP32', shape: [1], data: [1.5] }],
    });
    const out = JSON.parse(send(envoy, '/v2/models/llm/versions/1/infer', body));
    expect(out.inputs[0].data).toEqual([['a [EMAIL]'], ['b']]);
    expect(out.inputs[1].data).toEqual([1.5]);
  });

  it('Triton generate: text_input, and text_output deltas joined in generate_stream', async () => {
    const envoy = await meshward(REDACT_ALL);
    expect(JSON.parse(send(envoy, '/v2/models/llama/generate', JSON.stringify({ text_input: `mail ${SAMPLES.email}`, parameters: { max_tokens: 5 } }))).text_input).toBe('mail [EMAIL]');
    const s = envoy.newStream();
    const req = JSON.stringify({ text_input: 'hi', parameters: { stream: true } });
    s.requestHeaders(requestHeaders('/v2/models/llama/generate_stream', req), false);
    s.requestBody(req, true);
    s.responseHeaders([[':status', '200'], ['content-type', 'text/event-stream']], false);
    for (const piece of ['write to jane.', 'doe@corp.', 'example now']) s.responseBody(`data: ${JSON.stringify({ model_name: 'llama', text_output: piece })}\n\n`, false);
    s.responseBody('', true);
    const text = s.downstream.bodyText.split('\n\n').filter(Boolean).map((e) => (JSON.parse(e.slice(6)) as { text_output: string }).text_output).join('');
    expect(text).toBe('write to [EMAIL] now');
  });

  it('Anthropic Messages: system, content blocks, and streamed text deltas joined', async () => {
    const envoy = await meshward(REDACT_ALL);
    const body = JSON.stringify({
      model: 'claude',
      system: `support for ${SAMPLES.email}`,
      messages: [{ role: 'user', content: [{ type: 'text', text: `card ${SAMPLES.card}` }] }],
      max_tokens: 100,
    });
    const out = JSON.parse(send(envoy, '/v1/messages', body));
    expect(out.system).toBe('support for [EMAIL]');
    expect(out.messages[0].content[0].text).toBe('card [CREDIT_CARD]');
    const s = envoy.newStream();
    s.requestHeaders(requestHeaders('/v1/messages', body), false);
    s.requestBody(body, true);
    s.responseHeaders([[':status', '200'], ['content-type', 'text/event-stream']], false);
    const ev = (t: string): string => `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } })}\n\n`;
    for (const piece of ['mail jane.', 'doe@corp.', 'example ok']) s.responseBody(ev(piece), false);
    s.responseBody('event: message_stop\ndata: {"type":"message_stop"}\n\n', true);
    const text = s.downstream.bodyText
      .split('\n\n')
      .filter((e) => e.includes('content_block_delta'))
      .map((e) => (JSON.parse(e.split('\n')[1]!.slice(6)) as { delta: { text: string } }).delta.text)
      .join('');
    expect(text).toBe('mail [EMAIL] ok');
  });

  it('other JSON: every string value', async () => {
    const envoy = await meshward(REDACT_ALL);
    const out = JSON.parse(send(envoy, '/internal/score', JSON.stringify({ a: { b: [SAMPLES.email] }, [SAMPLES.email]: 1 })));
    expect(out.a.b).toEqual(['[EMAIL]']);
    expect(out[SAMPLES.email]).toBe(1); // keys are not values
  });

  it('text/plain: the whole body', async () => {
    const envoy = await meshward(REDACT_ALL);
    expect(send(envoy, '/generate', `please mail ${SAMPLES.email} now`, 'text/plain; charset=utf-8')).toBe('please mail [EMAIL] now');
  });

  it('binary bodies are not inspected', async () => {
    const envoy = await meshward(REDACT_ALL);
    const body = `raw ${SAMPLES.email}`;
    expect(send(envoy, '/upload', body, 'application/octet-stream')).toBe(body);
  });

  it('the shape can be forced in config', async () => {
    const envoy = await meshward({ ...REDACT_ALL, inspect: { request_shape: 'text' } });
    const body = `{"not": "json ${SAMPLES.email}`;
    expect(send(envoy, '/whatever', body)).toBe('{"not": "json [EMAIL]');
  });

  it('non-streamed responses are redacted too', async () => {
    const envoy = await meshward(REDACT_ALL);
    const resp = chatResponse(`Call ${SAMPLES.phone} or mail ${SAMPLES.email}`);
    const { result } = chat(envoy, chatRequest('contact?'), { headers: jsonResponseHeaders(resp), body: resp, chunkSize: 50 });
    const out = JSON.parse(result.downstream.bodyText);
    expect(out.choices[0].message.content).toBe('Call [PHONE] or mail [EMAIL]');
    expect(out.usage.total_tokens).toBe(15);
    expect(result.downstream.header('content-length')).toBeUndefined();
  });
});

describe('JSON escapes cannot hide a value', () => {
  it.each([
    ['\\u0040 for @', 'jane.doe\\u0040corp.example'],
    ['\\/ and \\u002e', 'jane.doe@corp\\u002eexample'],
    ['all escaped', '\\u006a\\u0061\\u006e\\u0065.doe@corp.example'],
  ])('%s', async (_name, raw) => {
    const envoy = await meshward(REDACT_ALL);
    const body = `{"model":"m","messages":[{"role":"user","content":"mail ${raw} now"}]}`;
    const out = send(envoy, '/v1/chat/completions', body);
    expect(JSON.parse(out).messages[0].content).toBe('mail [EMAIL] now');
  });

  it('keeps surrounding escapes and non-ASCII intact', async () => {
    const envoy = await meshward(REDACT_ALL);
    const body = '{"messages":[{"role":"user","content":"\\"quote\\" \\ud83d\\ude00 caf\\u00e9 jane.doe@corp.example\\n\\tend"}]}';
    const out = JSON.parse(send(envoy, '/v1/chat/completions', body));
    expect(out.messages[0].content).toBe('"quote" 😀 café [EMAIL]\n\tend');
  });

  it('an escaped key still selects the field', async () => {
    const envoy = await meshward(REDACT_ALL);
    const body = `{"messages":[{"role":"user","cont\\u0065nt":"${SAMPLES.email}"}]}`;
    expect(JSON.parse(send(envoy, '/v1/chat/completions', body)).messages[0].content).toBe('[EMAIL]');
  });

  it('a value is not assembled from two JSON strings', async () => {
    const envoy = await meshward(REDACT_ALL);
    const body = JSON.stringify({ messages: [{ role: 'user', content: '4111 1111' }, { role: 'user', content: '1111 1111' }] });
    expect(send(envoy, '/v1/chat/completions', body)).toBe(body);
  });
});

describe('redaction styles', () => {
  it('mask keeps the last 4 characters', async () => {
    const envoy = await meshward({ ...REDACT_ALL, redaction: { style: 'mask' } });
    const out = JSON.parse(send(envoy, '/v1/chat/completions', chatRequest(`card ${SAMPLES.card}`)));
    expect(out.messages[1].content).toBe(`card ${'*'.repeat(SAMPLES.card.length - 4)}1111`);
  });

  it('hash maps the same value to the same token, different values to different tokens', async () => {
    const cfg = { ...REDACT_ALL, redaction: { style: 'hash', hash_key: 'deployment-key-0001' } };
    const envoy = await meshward(cfg);
    const out = JSON.parse(send(envoy, '/v1/chat/completions', chatRequest(`${SAMPLES.card} / 4111-1111-1111-1111 / 5500 0000 0000 0004`)));
    const tokens = (out.messages[1].content as string).split(' / ');
    expect(tokens[0]).toMatch(/^\[CREDIT_CARD:[0-9a-f]{12}\]$/);
    expect(tokens[1]).toBe(tokens[0]);
    expect(tokens[2]).not.toBe(tokens[0]);
    // Same key in another Envoy (another VM): same token. Another key: another token.
    const again = JSON.parse(send(await meshward(cfg), '/v1/chat/completions', chatRequest(SAMPLES.card)));
    expect(again.messages[1].content).toBe(tokens[0]);
    const other = JSON.parse(send(await meshward({ ...cfg, redaction: { style: 'hash', hash_key: 'another-key-000002' } }), '/v1/chat/completions', chatRequest(SAMPLES.card)));
    expect(other.messages[1].content).not.toBe(tokens[0]);
  });

  it('rewrites bodies with many edits (in place when tokens fit, else assembled) and keeps them valid', async () => {
    const emails = Array.from({ length: 150 }, (_, i) => `user${i}@corp.example`);
    const body = chatRequest(emails.join(', '));
    const tag = JSON.parse(send(await meshward(REDACT_ALL), '/v1/chat/completions', body));
    expect(tag.messages[1].content).toBe(emails.map(() => '[EMAIL]').join(', '));
    const short = Array.from({ length: 150 }, (_, i) => `u${i}@x.io`);
    const hashed = JSON.parse(
      send(await meshward({ ...REDACT_ALL, redaction: { style: 'hash', hash_key: 'deployment-key-0001' } }), '/v1/chat/completions', chatRequest(short.join(' '))),
    );
    const tokens = (hashed.messages[1].content as string).split(' ');
    expect(tokens).toHaveLength(150);
    for (const t of tokens) expect(t).toMatch(/^\[EMAIL:[0-9a-f]{12}\]$/);
    expect(new Set(tokens).size).toBe(150);
  });
});
