// Several streams interleaved on one worker VM (and across workers): per-stream state never leaks
// between them, and contexts are released.
import { describe, expect, it } from 'vitest';
import type { HttpStream } from '../host/index.js';
import { SAMPLES, SSE_DONE, SSE_HEADERS, chatRequest, meshward, requestHeaders, sseDelta, streamedText } from './helpers.js';

const CONFIG = {
  detectors: { email: 'redact', credit_card: 'block' },
  principals: [{ match: 'spiffe://corp.example/ns/batch/*', mode: 'monitor' }],
};

describe('concurrent streams', () => {
  it('interleaved request bodies keep their own buffers, principals and verdicts', async () => {
    const envoy = await meshward(CONFIG);
    const bodies = [
      chatRequest(`a: mail ${SAMPLES.email}`),
      chatRequest(`b: card ${SAMPLES.card}`),
      chatRequest('c: nothing here'),
      chatRequest(`d: card ${SAMPLES.card}`),
    ];
    const principals = [undefined, undefined, undefined, 'spiffe://corp.example/ns/batch/sa/x'];
    const streams: HttpStream[] = bodies.map((_, i) =>
      envoy.newStream(principals[i] ? { properties: { 'connection.uri_san_peer_certificate': principals[i]! } } : {}),
    );
    streams.forEach((s, i) => s.requestHeaders(requestHeaders('/v1/chat/completions', bodies[i]), false));
    // Interleave 16-byte chunks of all four bodies.
    const step = 16;
    const max = Math.max(...bodies.map((b) => b.length));
    for (let off = 0; off < max; off += step) {
      streams.forEach((s, i) => {
        const b = bodies[i]!;
        if (off < b.length) s.requestBody(b.slice(off, off + step), off + step >= b.length);
      });
    }
    expect(JSON.parse(streams[0]!.upstream.bodyText).messages[1].content).toBe('a: mail [EMAIL]');
    expect(streams[1]!.localReply?.status).toBe(403);
    expect(streams[2]!.upstream.bodyText).toBe(bodies[2]);
    expect(streams[3]!.upstream.bodyText).toBe(bodies[3]); // monitor principal
    for (const s of streams) s.complete();
  });

  it('interleaved SSE streams carry their own held tails', async () => {
    const envoy = await meshward(CONFIG);
    const open = (): HttpStream => {
      const s = envoy.newStream();
      const req = chatRequest('hi', { stream: true });
      s.requestHeaders(requestHeaders('/v1/chat/completions', req), false);
      s.requestBody(req, true);
      s.responseHeaders(SSE_HEADERS, false);
      return s;
    };
    const a = open();
    const b = open();
    a.responseBody(sseDelta('A writes to jane.'), false);
    b.responseBody(sseDelta('B writes to john.'), false);
    a.responseBody(sseDelta('doe@corp.example'), false);
    b.responseBody(sseDelta('smith and more'), false);
    a.responseBody(SSE_DONE, true);
    b.responseBody(SSE_DONE, true);
    expect(streamedText(a.downstream.bodyText)).toBe('A writes to [EMAIL]');
    expect(streamedText(b.downstream.bodyText)).toBe('B writes to john.smith and more');
    a.complete();
    b.complete();
  });

  it('many sequential streams do not grow the VM (buffers are reused, contexts released)', async () => {
    const envoy = await meshward(CONFIG);
    const run = (): void => {
      const s = envoy.newStream();
      const body = chatRequest(`mail ${SAMPLES.email} ${'padding '.repeat(500)}`);
      s.requestHeaders(requestHeaders('/v1/chat/completions', body), false);
      s.requestBody(body, true);
      s.responseHeaders([[':status', '200'], ['content-type', 'application/json']], false);
      s.responseBody('{"choices":[]}', true);
      s.complete();
    };
    for (let i = 0; i < 50; i++) run();
    const after50 = envoy.worker(0).memoryBytes;
    for (let i = 0; i < 300; i++) run();
    expect(envoy.worker(0).memoryBytes).toBe(after50);
    expect(envoy.worker(0).openStreams).toHaveLength(0);
  });
});
