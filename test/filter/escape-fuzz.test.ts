// Seeded randomized checks of the offset map: JSON written with random escapes (\uXXXX for plain
// ASCII, \/, surrogate pairs, escaped quotes and newlines) around and inside emails, in whole
// bodies and in SSE streams cut at random points. The redacted output must be valid JSON whose
// decoded text equals the input text with every email replaced, and nothing else changed.
import { describe, expect, it } from 'vitest';
import { createXorshift32 } from '../../scripts/seeded-random.js';
import { SSE_DONE, SSE_HEADERS, chatRequest, meshward, requestHeaders, streamedText } from './helpers.js';

const WORDS = ['hello', 'the', 'model', 'café', 'naïve', '😀', '日本語', 'a"quote"', 'back\\slash', 'line\nbreak', 'tab\there', 'x/y', '<tag>', '100%'];

/** A text of words and emails; returns the text and the expected redacted text. */
function makeText(r: () => number): { text: string; expected: string } {
  const parts: string[] = [];
  const expected: string[] = [];
  const n = 3 + Math.floor(r() * 12);
  for (let i = 0; i < n; i++) {
    if (r() < 0.3) {
      const email = `user${Math.floor(r() * 1000)}.${['x', 'dev', 'ops'][Math.floor(r() * 3)]}@corp${Math.floor(r() * 10)}.example`;
      parts.push(email);
      expected.push('[EMAIL]');
    } else {
      const w = WORDS[Math.floor(r() * WORDS.length)]!;
      parts.push(w);
      expected.push(w);
    }
  }
  return { text: parts.join(' '), expected: expected.join(' ') };
}

/** JSON string literal of `s` with random (valid) escape choices. */
function jsonString(s: string, r: () => number): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += r() < 0.5 ? '\\n' : '\\u000a';
    else if (ch === '\t') out += '\\t';
    else if (ch === '/') out += r() < 0.5 ? '\\/' : '/';
    else if (cp > 0xffff) out += r() < 0.5 ? ch : [...ch].map(() => '').join('') + ch.split('').map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    else if (r() < 0.15) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + '"';
}

describe('randomized escapes: whole bodies', () => {
  it('200 bodies: valid JSON, only the emails changed', async () => {
    const envoy = await meshward({ detectors: { email: 'redact' } });
    const r = createXorshift32(20240601);
    for (let i = 0; i < 200; i++) {
      const a = makeText(r);
      const b = makeText(r);
      const body = `{"model":"gpt-4o","messages":[{"role":"system","content":${jsonString(a.text, r)}},{"role":"user","content":${jsonString(b.text, r)}}],"user":${jsonString('keep@corp.example', r)}}`;
      const s = envoy.newStream();
      s.requestHeaders(requestHeaders('/v1/chat/completions', body), false);
      s.requestBody(body, true);
      const out = JSON.parse(s.upstream.bodyText) as { messages: { content: string }[]; user: string };
      expect(out.messages[0]!.content, body).toBe(a.expected);
      expect(out.messages[1]!.content, body).toBe(b.expected);
      expect(out.user).toBe('keep@corp.example'); // not a prompt field
      s.complete();
    }
  });
});

describe('randomized escapes and cuts: SSE streams', () => {
  it('100 streams cut at random points: valid events, the joined deltas redacted', async () => {
    const envoy = await meshward({ detectors: { email: 'redact' } });
    const r = createXorshift32(777);
    for (let i = 0; i < 100; i++) {
      const { text, expected } = makeText(r);
      // Split the text into random deltas (code point boundaries), each as one event.
      const cps = [...text];
      let events = '';
      for (let p = 0; p < cps.length; ) {
        const n = 1 + Math.floor(r() * 12);
        const piece = cps.slice(p, p + n).join('');
        p += n;
        events += `data: {"id":"c","choices":[{"index":0,"delta":{"content":${jsonString(piece, r)}},"finish_reason":null}]}\n\n`;
      }
      events += SSE_DONE;
      const bytes = Buffer.from(events);
      const s = envoy.newStream();
      const req = chatRequest('hi', { stream: true });
      s.requestHeaders(requestHeaders('/v1/chat/completions', req), false);
      s.requestBody(req, true);
      s.responseHeaders(SSE_HEADERS, false);
      for (let p = 0; p < bytes.length; ) {
        const n = 1 + Math.floor(r() * 90);
        s.responseBody(bytes.subarray(p, p + n), p + n >= bytes.length);
        p += n;
      }
      expect(streamedText(s.downstream.bodyText), events).toBe(expected);
      s.complete();
    }
  });

  it('100 streams with a card split anywhere: the card never leaks and the stream ends cleanly', async () => {
    const envoy = await meshward({ detectors: { credit_card: 'block', email: 'redact' } });
    const r = createXorshift32(4242);
    for (let i = 0; i < 100; i++) {
      const before = makeText(r).text;
      const after = makeText(r).text;
      const text = `${before} card 4111 1111 1111 1111 ${after}`;
      const cps = [...text];
      let events = '';
      for (let p = 0; p < cps.length; ) {
        const n = 1 + Math.floor(r() * 10);
        events += `data: {"choices":[{"index":0,"delta":{"content":${jsonString(cps.slice(p, p + n).join(''), r)}}}]}\n\n`;
        p += n;
      }
      events += SSE_DONE;
      const bytes = Buffer.from(events);
      const s = envoy.newStream();
      const req = chatRequest('hi', { stream: true });
      s.requestHeaders(requestHeaders('/v1/chat/completions', req), false);
      s.requestBody(req, true);
      s.responseHeaders(SSE_HEADERS, false);
      for (let p = 0; p < bytes.length; ) {
        const n = 1 + Math.floor(r() * 70);
        s.responseBody(bytes.subarray(p, p + n), p + n >= bytes.length);
        p += n;
      }
      const out = s.downstream.bodyText;
      const parsed = out.split('\n\n').filter((e) => e.length > 0).map((e) => e.slice(6));
      expect(parsed.at(-1)).toBe('[DONE]');
      const err = JSON.parse(parsed.at(-2)!) as { error?: { code: string } };
      expect(err.error?.code, out).toBe('credit_card');
      const joined = parsed.slice(0, -2).map((d) => (JSON.parse(d) as { choices: { delta: { content: string } }[] }).choices[0]!.delta.content).join('');
      expect(joined.replace(/[^0-9]/g, ''), out).not.toContain('4111111111111111');
      expect(joined.startsWith(before.replace(/\S+@\S+/g, '[EMAIL]').slice(0, 5)) || joined.length < 5).toBe(true);
      s.complete();
    }
  });

  it('60 streams with 3 interleaved choices cut at random points: each choice redacted on its own', async () => {
    const envoy = await meshward({ detectors: { email: 'redact' } });
    const r = createXorshift32(9090);
    for (let i = 0; i < 60; i++) {
      const texts = [makeText(r), makeText(r), makeText(r)];
      const pieces = texts.map((t) => {
        const cps = [...t.text];
        const out: string[] = [];
        for (let p = 0; p < cps.length; ) {
          const n = 1 + Math.floor(r() * 8);
          out.push(cps.slice(p, p + n).join(''));
          p += n;
        }
        return out;
      });
      let events = '';
      const next = [0, 0, 0];
      while (next.some((n, c) => n < pieces[c]!.length)) {
        const c = Math.floor(r() * 3);
        if (next[c]! >= pieces[c]!.length) continue;
        events += `data: {"choices":[{"index":${c},"delta":{"content":${jsonString(pieces[c]![next[c]!]!, r)}}}]}\n\n`;
        next[c]!++;
      }
      events += SSE_DONE;
      const bytes = Buffer.from(events);
      const s = envoy.newStream();
      const req = chatRequest('hi', { stream: true, n: 3 });
      s.requestHeaders(requestHeaders('/v1/chat/completions', req), false);
      s.requestBody(req, true);
      s.responseHeaders(SSE_HEADERS, false);
      for (let p = 0; p < bytes.length; ) {
        const n = 1 + Math.floor(r() * 80);
        s.responseBody(bytes.subarray(p, p + n), p + n >= bytes.length);
        p += n;
      }
      const got = ['', '', ''];
      for (const e of s.downstream.bodyText.split('\n\n').filter((x) => x.startsWith('data: {'))) {
        const ev = JSON.parse(e.slice(6)) as { choices: { index: number; delta: { content: string } }[] };
        got[ev.choices[0]!.index] += ev.choices[0]!.delta.content;
      }
      expect(got, events).toEqual(texts.map((t) => t.expected));
      s.complete();
    }
  });
});
