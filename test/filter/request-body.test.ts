// Request bodies through the built filter: block, redact (valid JSON, content-length), monitor.
import { describe, expect, it } from 'vitest';
import { SAMPLES, auditLines, chat, chatRequest, chatResponse, jsonResponseHeaders, meshward, requestHeaders } from './helpers.js';

const ENFORCE = {
  mode: 'enforce',
  detectors: { email: 'redact', credit_card: 'block', phone: 'alert' },
};

describe('request bodies', () => {
  it('blocks a card number with a 403 OpenAI-style error that does not echo the value', async () => {
    const envoy = await meshward(ENFORCE);
    const { result } = chat(envoy, chatRequest(`charge my card ${SAMPLES.card} please`));
    expect(result.localReply?.status).toBe(403);
    expect(result.upstream.endStream).toBe(false);
    const body = JSON.parse(result.localReply!.bodyText) as { error: { type: string; code: string; message: string } };
    expect(body.error.type).toBe('data_loss_prevention');
    expect(body.error.code).toBe('credit_card');
    expect(result.localReply!.bodyText).not.toContain('4111');
    expect(result.downstream.headers?.find(([k]) => k === ':status')?.[1]).toBe('403');
    expect(result.downstream.header('content-type')).toBe('application/json');
    // The local reply went through the filter's own response callbacks unchanged.
    expect(JSON.parse(result.downstream.bodyText)).toEqual(body);
  });

  it('redacts an email in place, keeps the JSON valid and drops the stale content-length', async () => {
    const envoy = await meshward(ENFORCE);
    const req = chatRequest(`write to ${SAMPLES.email} today`);
    const { result } = chat(envoy, req, { headers: jsonResponseHeaders(chatResponse('ok')), body: chatResponse('ok') });
    expect(result.localReply).toBeUndefined();
    const sent = JSON.parse(result.upstream.bodyText) as { model: string; messages: { content: string }[] };
    expect(sent.messages[1]!.content).toBe('write to [EMAIL] today');
    expect(sent.model).toBe('gpt-4o');
    expect(result.upstream.bodyText).not.toContain('jane');
    expect(result.upstream.header('content-length')).toBeUndefined();
    expect(JSON.parse(result.downstream.bodyText)).toEqual(JSON.parse(chatResponse('ok')));
  });

  it('keeps content-length when the policy cannot change the request', async () => {
    const envoy = await meshward({ detectors: { email: 'alert' } });
    const req = chatRequest(`write to ${SAMPLES.email}`);
    const { result } = chat(envoy, req);
    expect(result.upstream.bodyText).toBe(req);
    expect(result.upstream.header('content-length')).toBe(String(Buffer.byteLength(req)));
  });

  it('monitor mode records everything and changes nothing', async () => {
    const envoy = await meshward({ ...ENFORCE, mode: 'monitor' });
    const req = chatRequest(`card ${SAMPLES.card}, mail ${SAMPLES.email}`);
    const { result } = chat(envoy, req);
    expect(result.localReply).toBeUndefined();
    expect(result.upstream.bodyText).toBe(req);
    const [line] = auditLines(envoy);
    expect(line).toMatchObject({ direction: 'request', outcome: 'alert', would: 'block', mode: 'monitor' });
    expect(line!.findings).toEqual(
      expect.arrayContaining([
        { detector: 'email', count: 1, action: 'redact' },
        { detector: 'credit_card', count: 1, action: 'block' },
      ]),
    );
    expect(envoy.metrics.get('meshward.detector.credit_card.direction.request.action.block.mode.monitor.findings')).toBe(1n);
  });

  it('passes clean traffic byte for byte', async () => {
    const envoy = await meshward(ENFORCE);
    const req = chatRequest('What is the capital of France?');
    const { result } = chat(envoy, req, { headers: jsonResponseHeaders(chatResponse('Paris')), body: chatResponse('Paris') });
    expect(result.upstream.bodyText).toBe(req);
    expect(result.downstream.bodyText).toBe(chatResponse('Paris'));
    expect(result.state).toBe('completed');
  });

  it('sees a value split across request chunks (the body is buffered whole)', async () => {
    const envoy = await meshward(ENFORCE);
    const req = chatRequest(`card ${SAMPLES.card}`);
    const { result } = chat(envoy, req, undefined, { chunkSize: 7 });
    expect(result.localReply?.status).toBe(403);
  });

  it('decides at the trailers when the request ends with trailers instead of end_of_stream', async () => {
    const envoy = await meshward(ENFORCE);
    const s = envoy.newStream();
    const body = chatRequest(`mail ${SAMPLES.email}`);
    s.requestHeaders(requestHeaders('/v1/chat/completions', body), false);
    s.requestBody(body.slice(0, 30), false);
    s.requestBody(body.slice(30), false);
    s.requestTrailers([['x-checksum', 'abc']]);
    expect(s.upstream.endStream).toBe(true);
    expect(JSON.parse(s.upstream.bodyText).messages[1].content).toBe('mail [EMAIL]');
    const blocked = envoy.newStream();
    const card = chatRequest(`card ${SAMPLES.card}`);
    blocked.requestHeaders(requestHeaders('/v1/chat/completions', card), false);
    blocked.requestBody(card, false);
    blocked.requestTrailers([['x-checksum', 'abc']]);
    expect(blocked.localReply?.status).toBe(403);
  });

  it('reads and rewrites a large body (read in pieces) exactly', async () => {
    const envoy = await meshward({ detectors: { email: 'redact' }, max_body_bytes: 900_000 });
    const filler = 'lorem ipsum dolor sit amet '.repeat(12_000); // ~320 KB
    const body = JSON.stringify({
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: `first ${SAMPLES.email} ${filler} last ${SAMPLES.email}` },
        { role: 'user', content: `x\n${'y'.repeat(70_000)} ${SAMPLES.email}` },
      ],
    });
    const { result } = chat(envoy, body, undefined, { chunkSize: 16_384 });
    const out = JSON.parse(result.upstream.bodyText) as { messages: { content: string }[] };
    expect(out.messages[0]!.content).toBe(`first [EMAIL] ${filler} last [EMAIL]`);
    expect(out.messages[1]!.content).toBe(`x\n${'y'.repeat(70_000)} [EMAIL]`);
  });
});
