import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMockModelServer, type MockModelServer } from '../../../control-plane/src/mock-model/mock-model-server.js';
import { chunkText, embeddingOf } from '../../../control-plane/src/mock-model/replies.js';

let server: MockModelServer;
let url: string;

beforeAll(async () => {
  server = createMockModelServer({ version: 'v2', chunkSize: 5 });
  ({ url } = await server.listen());
});
afterAll(() => server.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

function sseEvents(text: string): unknown[] {
  expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  return text
    .split('\n\n')
    .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
    .map((l) => JSON.parse(l.slice(6)));
}

describe('mock model server', () => {
  it('binds 127.0.0.1 by default', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers a chat completion with the version label, echoing the last user message', async () => {
    const res = await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'be nice' }, { role: 'user', content: 'hi there' }] });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-mock-model-version')).toBe('v2');
    const body = (await res.json()) as any;
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0].message).toEqual({ role: 'assistant', content: '[v2] echo: hi there' });
    expect(body.system_fingerprint).toBe('mock-v2');
    expect(body.usage).toEqual({ prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 });
  });

  it('streams chat deltas that reassemble to the reply, with a usage chunk when asked', async () => {
    const res = await post('/v1/chat/completions', {
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: [{ type: 'text', text: 'stream me' }] }],
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = sseEvents(await res.text()) as any[];
    const text = events.flatMap((e) => e.choices.map((c: any) => c.delta.content ?? '')).join('');
    expect(text).toBe('[v2] echo: stream me');
    expect(events.filter((e) => e.choices.length === 1 && e.choices[0].delta.content !== undefined).length).toBe(Math.ceil(text.length / 5));
    expect(events.at(-2).choices[0].finish_reason).toBe('stop');
    expect(events.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 4 } });
  });

  it('streams without a usage chunk by default', async () => {
    const res = await post('/v1/chat/completions', { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'x' }] });
    const events = sseEvents(await res.text()) as any[];
    expect(events.some((e) => e.usage !== undefined)).toBe(false);
  });

  it('x-mock-reply replaces the echoed text', async () => {
    const res = await post('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }, { 'x-mock-reply': 'secret AKIAIOSFODNN7EXAMPLE' });
    expect(((await res.json()) as any).choices[0].message.content).toBe('secret AKIAIOSFODNN7EXAMPLE');
  });

  it('serves /v1/completions (plain and streamed), /v1/embeddings and /v1/models', async () => {
    const c = (await (await post('/v1/completions', { model: 'gpt-4o-mini', prompt: 'one two' })).json()) as any;
    expect(c.choices[0].text).toBe('[v2] echo: one two');
    const s = await (await post('/v1/completions', { model: 'gpt-4o-mini', prompt: ['a', 'b'], stream: true })).text();
    expect((sseEvents(s) as any[]).map((e) => e.choices[0]?.text ?? '').join('')).toBe('[v2] echo: a\nb');
    const e = (await (await post('/v1/embeddings', { model: 'gpt-4o-mini', input: ['a', 'b'], dimensions: 4 })).json()) as any;
    expect(e.data).toHaveLength(2);
    expect(e.data[0].embedding).toHaveLength(4);
    expect(e.data[0].embedding).not.toEqual(e.data[1].embedding);
    const m = (await (await fetch(url + '/v1/models')).json()) as any;
    expect(m.data.map((x: any) => x.id)).toEqual(['gpt-4o-mini']);
  });

  it.each([
    ['not json', '{', 400, 'invalid_json'],
    ['no model', { messages: [{ role: 'user', content: 'x' }] }, 400, 'missing_model'],
    ['unknown model', { model: 'nope', messages: [{ role: 'user', content: 'x' }] }, 404, 'model_not_found'],
    ['no messages', { model: 'gpt-4o-mini' }, 400, 'invalid_messages'],
    ['bad role', { model: 'gpt-4o-mini', messages: [{ content: 'x' }] }, 400, 'invalid_messages'],
    ['bad stream', { model: 'gpt-4o-mini', stream: 'yes', messages: [{ role: 'user', content: 'x' }] }, 400, 'invalid_type'],
  ])('refuses %s with an OpenAI-style error', async (_n, body, status, code) => {
    const res = await post('/v1/chat/completions', body);
    expect(res.status).toBe(status);
    expect(((await res.json()) as any).error.code).toBe(code);
  });

  it('404 for unknown paths, 405 for wrong methods', async () => {
    expect((await fetch(url + '/nope')).status).toBe(404);
    const r = await fetch(url + '/v1/chat/completions');
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
  });

  it('rejects a bad version label', () => {
    expect(() => createMockModelServer({ version: 'has space' })).toThrow(/version/);
  });

  it('pure helpers are deterministic', () => {
    expect(chunkText('abcdefg', 3)).toEqual(['abc', 'def', 'g']);
    expect(embeddingOf('x', 3)).toEqual(embeddingOf('x', 3));
  });
});

describe('mock-model main (npm run mock-model)', () => {
  it('prints where it listens, serves, exits 0 on SIGTERM; exits 2 naming a bad flag', async () => {
    const { spawn, spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const main = fileURLToPath(new URL('../../../control-plane/src/mock-model/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main, '--version', 'canary', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const base = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const res = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(((await res.json()) as any).choices[0].message.content).toBe('[canary] echo: hi');
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', main, '--chunk-size', '0'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--chunk-size: must be an integer from 1/);
  }, 30_000);
});
