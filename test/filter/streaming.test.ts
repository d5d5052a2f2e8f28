// text/event-stream responses inspected as they flow: values split across events and chunks,
// minimal hold-back, redaction inside the right events, blocks that end the stream cleanly.
import { describe, expect, it } from 'vitest';
import type { EnvoyHost, HttpStream } from '../host/index.js';
import {
  SAMPLES, SSE_DONE, SSE_HEADERS, auditLines, chatRequest, meshward, requestHeaders, sseDelta, sseEvents, streamedText,
} from './helpers.js';

const CONFIG = { detectors: { email: 'redact', credit_card: 'block', phone: 'alert' } };

function openStream(envoy: EnvoyHost): HttpStream {
  const s = envoy.newStream();
  const req = chatRequest('hi', { stream: true });
  s.requestHeaders(requestHeaders('/v1/chat/completions', req), false);
  s.requestBody(req, true);
  s.responseHeaders(SSE_HEADERS, false);
  return s;
}

/** Sends chunks one by one; returns what the client had received after each chunk. */
function sendChunks(s: HttpStream, chunks: string[]): string[] {
  const seen: string[] = [];
  chunks.forEach((c, i) => {
    s.responseBody(c, i === chunks.length - 1);
    seen.push(s.downstream.bodyText);
  });
  return seen;
}

function everyEventIsValid(text: string): void {
  expect(() => sseEvents(text)).not.toThrow();
}

describe('streamed responses (SSE)', () => {
  it('forwards clean events as they arrive (nothing buffered)', async () => {
    const envoy = await meshward(CONFIG);
    const s = openStream(envoy);
    const events = [sseDelta('The capital '), sseDelta('of France '), sseDelta('is Paris.'), SSE_DONE];
    const seen = sendChunks(s, events);
    // Each chunk went out with its own callback (no accumulation of the stream).
    expect(seen[0]).toBe(events[0]);
    expect(seen[1]).toBe(events[0]! + events[1]!);
    expect(s.downstream.bodyText).toBe(events.join(''));
    expect(s.downstream.endStream).toBe(true);
  });

  it('redacts an email split across three events, rewriting inside each event', async () => {
    const envoy = await meshward(CONFIG);
    const s = openStream(envoy);
    sendChunks(s, [sseDelta('Write to jane.'), sseDelta('doe@corp.'), sseDelta('example today'), SSE_DONE]);
    const out = s.downstream.bodyText;
    everyEventIsValid(out);
    expect(streamedText(out)).toBe('Write to [EMAIL] today');
    expect(out).not.toContain('jane');
    expect(out).not.toContain('corp.');
    expect(sseEvents(out).at(-1)).toBe('[DONE]');
  });

  it('holds back only the possible start of a match', async () => {
    const envoy = await meshward(CONFIG);
    const s = openStream(envoy);
    const first = sseDelta('Hello there, write to jane');
    const seen = sendChunks(s, [first, sseDelta('.doe@corp.example now'), SSE_DONE]);
    // Everything before "jane" went out with the first chunk.
    expect(seen[0]!.length).toBeGreaterThan(0);
    expect(seen[0]).toContain('Hello there, write to ');
    expect(seen[0]).not.toContain('jane');
    expect(streamedText(s.downstream.bodyText)).toBe('Hello there, write to [EMAIL] now');
  });

  it('catches a value split inside the bytes of one event across network chunks', async () => {
    const envoy = await meshward(CONFIG);
    const s = openStream(envoy);
    const body = sseDelta('reach me at ') + sseDelta(`${SAMPLES.email} or later`) + SSE_DONE;
    const chunks: string[] = [];
    for (let i = 0; i < body.length; i += 13) chunks.push(body.slice(i, i + 13));
    sendChunks(s, chunks);
    everyEventIsValid(s.downstream.bodyText);
    expect(streamedText(s.downstream.bodyText)).toBe('reach me at [EMAIL] or later');
  });

  it('decodes escapes in deltas before scanning', async () => {
    const envoy = await meshward(CONFIG);
    const s = openStream(envoy);
    const escaped = 'data: {"choices":[{"index":0,"delta":{"content":"jane.doe\\u0040corp\\u002eexample"}}]}\n\n';
    sendChunks(s, [sseDelta('mail: '), escaped, SSE_DONE]);
    expect(streamedText(s.downstream.bodyText)).toBe('mail: [EMAIL]');
  });

  it('blocks a card split across events: the stream ends with an error event and [DONE]', async () => {
    const envoy = await meshward(CONFIG);
    const s = openStream(envoy);
    sendChunks(s, [sseDelta('Your card is '), sseDelta('4111 1111 '), sseDelta('1111 1111, keep it safe'), sseDelta(' more text'), SSE_DONE]);
    const out = s.downstream.bodyText;
    everyEventIsValid(out);
    expect(out).not.toMatch(/4111|1111 1111/);
    const events = sseEvents(out);
    expect(events.at(-1)).toBe('[DONE]');
    const err = events.at(-2) as { error: { type: string; code: string } };
    expect(err.error).toMatchObject({ type: 'data_loss_prevention', code: 'credit_card' });
    expect(out).not.toContain('more text');
    expect(s.downstream.endStream).toBe(true);
    const resp = auditLines(envoy).find((l) => l.direction === 'response')!;
    expect(resp).toMatchObject({ outcome: 'block', stream: true });
  });

  it('blocks before the event that carries the value when nothing of it went out', async () => {
    const envoy = await meshward(CONFIG);
    const s = openStream(envoy);
    sendChunks(s, [sseDelta('Sure. '), sseDelta(`card ${SAMPLES.card} ok`), SSE_DONE]);
    const events = sseEvents(s.downstream.bodyText);
    expect(streamedText(s.downstream.bodyText)).toBe('Sure. ');
    expect((events.at(-2) as { error: { code: string } }).error.code).toBe('credit_card');
  });

  it('monitor mode streams everything unchanged and still records', async () => {
    const envoy = await meshward({ ...CONFIG, mode: 'monitor' });
    const s = openStream(envoy);
    const chunks = [sseDelta('mail jane.'), sseDelta('doe@corp.example'), SSE_DONE];
    sendChunks(s, chunks);
    expect(s.downstream.bodyText).toBe(chunks.join(''));
    expect(envoy.metrics.get('meshward.detector.email.direction.response.action.redact.mode.monitor.findings')).toBe(1n);
  });

  it('flushes held bytes at end of stream even without [DONE]', async () => {
    const envoy = await meshward(CONFIG);
    const s = openStream(envoy);
    sendChunks(s, [sseDelta('ends with jane')]);
    expect(streamedText(s.downstream.bodyText)).toBe('ends with jane');
    expect(s.downstream.endStream).toBe(true);
  });

  it('handles CRLF line endings and comments', async () => {
    const envoy = await meshward(CONFIG);
    const s = openStream(envoy);
    const ev = (t: string): string => `: keep-alive\r\ndata: {"choices":[{"index":0,"delta":{"content":${JSON.stringify(t)}}}]}\r\n\r\n`;
    sendChunks(s, [ev('to jane.doe@'), ev('corp.example!'), 'data: [DONE]\r\n\r\n']);
    expect(s.downstream.bodyText).not.toContain('jane');
    expect(s.downstream.bodyText).toContain('[EMAIL]');
  });

  it('reads Responses API streams (response.output_text.delta) and their done events', async () => {
    const envoy = await meshward(CONFIG);
    const s = envoy.newStream();
    const req = JSON.stringify({ model: 'gpt-4o', input: 'hi', stream: true });
    s.requestHeaders(requestHeaders('/v1/responses', req), false);
    s.requestBody(req, true);
    s.responseHeaders(SSE_HEADERS, false);
    const ev = (type: string, payload: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
    sendChunks(s, [
      ev('response.output_text.delta', { delta: 'mail jane.' }),
      ev('response.output_text.delta', { delta: 'doe@corp.example' }),
      ev('response.output_text.done', { text: 'mail jane.doe@corp.example' }),
    ]);
    const out = s.downstream.bodyText;
    expect(out).not.toContain('jane');
    expect((sseEvents(out)[2] as { text: string }).text).toBe('mail [EMAIL]');
  });

  it('a malformed event does not break the stream (failure_mode open reads it as text)', async () => {
    const envoy = await meshward(CONFIG);
    const s = openStream(envoy);
    sendChunks(s, ['data: {"choices": [oops jane.doe@corp.example\n\n', sseDelta('fine'), SSE_DONE]);
    expect(s.downstream.bodyText).toContain('[EMAIL]');
    expect(streamedText(s.downstream.bodyText.split('\n\n').slice(1).join('\n\n'))).toBe('fine');
    expect(auditLines(envoy).find((l) => l.direction === 'response')!.errors).toContain('malformed_json');
  });

  it('bounds what a stream may hold back: an unterminated PEM block is released at max_body_bytes', async () => {
    const envoy = await meshward({ ...CONFIG, detectors: { ...CONFIG.detectors, private_key: 'redact' }, max_body_bytes: 4096 });
    const s = openStream(envoy);
    let sentUp = 0;
    const push = (chunk: string): void => {
      sentUp += Buffer.byteLength(chunk);
      s.responseBody(chunk, false);
    };
    push(sseDelta('-----BEGIN PRIVATE KEY-----\n'));
    let maxHeld = 0;
    for (let i = 0; i < 60; i++) {
      push(sseDelta('MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n'));
      maxHeld = Math.max(maxHeld, sentUp - s.downstream.body.length);
    }
    expect(maxHeld).toBeLessThanOrEqual(4096 + 200);
    // With a 4 KiB limit the filter cannot hold the whole (never-ending) block: most of it went out.
    expect(s.downstream.body.length).toBeGreaterThan(60 * 60);
    s.responseBody(SSE_DONE, true);
    everyEventIsValid(s.downstream.bodyText);
    expect(auditLines(envoy).find((l) => l.direction === 'response')!.errors).toContain('hold_limit');
  });

  it('directions limit a detector to requests or responses', async () => {
    const envoy = await meshward({ detectors: { email: { action: 'redact', directions: ['request'] } } });
    const s = openStream(envoy);
    sendChunks(s, [sseDelta(`mail ${SAMPLES.email}`), SSE_DONE]);
    expect(streamedText(s.downstream.bodyText)).toBe(`mail ${SAMPLES.email}`);
  });

  it('failure_mode closed: a malformed event ends the stream with an error event', async () => {
    const envoy = await meshward({ ...CONFIG, failure_mode: 'closed' });
    const s = openStream(envoy);
    sendChunks(s, [sseDelta('fine, mail jane.'), 'data: {"choices": [oops\n\n', sseDelta('never sent'), SSE_DONE]);
    const out = s.downstream.bodyText;
    everyEventIsValid(out);
    const events = sseEvents(out);
    expect(events.at(-1)).toBe('[DONE]');
    expect((events.at(-2) as { error: { code: string } }).error.code).toBe('malformed_json');
    expect(out).not.toContain('never sent');
    expect(out).not.toContain('oops');
  });

  it('keeps n > 1 choices apart: values interleaved across choices are each seen whole', async () => {
    const envoy = await meshward(CONFIG);
    const s = openStream(envoy);
    sendChunks(s, [
      sseDelta('A: mail jane.', 0),
      sseDelta('B: mail john.', 1),
      sseDelta('doe@corp.', 0),
      sseDelta('smith@corp.', 1),
      sseDelta('example ok', 0),
      sseDelta('example ok', 1),
      SSE_DONE,
    ]);
    const out = s.downstream.bodyText;
    everyEventIsValid(out);
    const byChoice = new Map<number, string>();
    for (const e of sseEvents(out)) {
      if (typeof e !== 'object' || e === null || !('choices' in e)) continue;
      for (const c of (e as { choices: { index: number; delta: { content?: string } }[] }).choices) {
        byChoice.set(c.index, (byChoice.get(c.index) ?? '') + (c.delta.content ?? ''));
      }
    }
    expect(byChoice.get(0)).toBe('A: mail [EMAIL] ok');
    expect(byChoice.get(1)).toBe('B: mail [EMAIL] ok');
    expect(out).not.toMatch(/jane|john|smith/);
  });

  it('does not join deltas of different choices into a false finding', async () => {
    const envoy = await meshward(CONFIG);
    const s = openStream(envoy);
    const chunks = [sseDelta('call 4111 1111', 0), sseDelta(' 1111 1111 later', 1), SSE_DONE];
    sendChunks(s, chunks);
    expect(s.downstream.bodyText).toBe(chunks.join(''));
  });
});
