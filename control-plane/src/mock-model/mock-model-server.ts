/**
 * A small OpenAI-compatible model server for demos, docker compose and tests. Not a model: it
 * answers deterministically (see replies.ts) and labels every answer with its `version`, so a
 * canary split and DLP redaction are visible from the client side.
 *
 * Endpoints:
 * - `POST /v1/chat/completions`: replies `[<version>] echo: <last user message>`; `stream: true`
 *   answers Server-Sent Events (`chat.completion.chunk` objects whose `choices[0].delta.content`
 *   carries `chunkSize` characters each, then a chunk with `finish_reason: "stop"`, then — when
 *   `stream_options.include_usage` — a chunk with empty `choices` and `usage`, then `data: [DONE]`).
 * - `POST /v1/completions`: the same over `prompt` (string or array of strings), streaming too.
 * - `POST /v1/embeddings`: deterministic unit vectors (`dimensions`, default 8).
 * - `GET /v1/models`: the configured model ids.
 * - `GET /healthz`: `ok`.
 * Every response carries `x-mock-model-version: <version>`; JSON bodies carry
 * `system_fingerprint: "mock-<version>"`. A request header `x-mock-reply` replaces the echoed text
 * (so a test can make the *model* emit a secret, e.g. split across stream chunks).
 * Bad requests answer 400 with an OpenAI-style `{"error":{"message","type","param","code"}}` naming
 * the field; unknown paths 404; wrong methods 405.
 *
 * Lifecycle: `listen()` binds (127.0.0.1 and an ephemeral port by default) and resolves the bound
 * URL; `close()` stops accepting, ends open connections and resolves when the server is closed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chunkText, contentText, countTokens, embeddingOf, replyText } from './replies.js';

export interface MockModelOptions {
  /** Label shown in every reply (`v1`, `v2`, `canary`...). Required: it is the point of the mock. */
  readonly version: string;
  /** Defaults to 127.0.0.1. */
  readonly host?: string;
  /** Defaults to 0 (ephemeral). */
  readonly port?: number;
  /** Model ids served by /v1/models and accepted in requests. Defaults to `['gpt-4o-mini']`; `*` in the list accepts any. */
  readonly models?: readonly string[];
  /** Characters per streamed delta. Defaults to 8. */
  readonly chunkSize?: number;
  /** Pause between streamed chunks in ms. Defaults to 0. */
  readonly chunkDelayMs?: number;
  /** Largest accepted request body. Defaults to 1 MiB (413 above). */
  readonly maxBodyBytes?: number;
}

export interface MockModelServer {
  listen(): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
  /** Requests answered so far, per path. */
  readonly requestCount: Readonly<Record<string, number>>;
}

/** A request the mock refuses, with the OpenAI error fields. */
class MockRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null,
    readonly code: string,
  ) {
    super(message);
  }
}

const CREATED = 1_700_000_000; // fixed: replies are deterministic

export function createMockModelServer(options: MockModelOptions): MockModelServer {
  if (typeof options.version !== 'string' || !/^[A-Za-z0-9._-]{1,63}$/.test(options.version)) {
    throw new TypeError(`version: must be 1-63 characters of [A-Za-z0-9._-], got ${JSON.stringify(options.version)}`);
  }
  const version = options.version;
  const models = options.models ?? ['gpt-4o-mini'];
  const chunkSize = options.chunkSize ?? 8;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new TypeError(`chunkSize: must be an integer >= 1, got ${chunkSize}`);
  const chunkDelayMs = options.chunkDelayMs ?? 0;
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const counts: Record<string, number> = {};
  let seq = 0;

  const readJson = (req: IncomingMessage): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBodyBytes) {
          reject(new MockRequestError(413, `request body larger than ${maxBodyBytes} bytes`, null, 'body_too_large'));
          req.destroy();
          return;
        }
        parts.push(c);
      });
      req.on('error', reject);
      req.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          reject(new MockRequestError(400, 'request body is not valid JSON', null, 'invalid_json'));
          return;
        }
        if (body === null || typeof body !== 'object' || Array.isArray(body)) {
          reject(new MockRequestError(400, 'request body must be a JSON object', null, 'invalid_json'));
          return;
        }
        resolve(body as Record<string, unknown>);
      });
    });

  const modelOf = (body: Record<string, unknown>): string => {
    const m = body['model'];
    if (typeof m !== 'string' || m === '') throw new MockRequestError(400, 'model: required, a non-empty string', 'model', 'missing_model');
    if (!models.includes('*') && !models.includes(m)) {
      throw new MockRequestError(404, `model: "${m}" does not exist (this server has ${models.join(', ')})`, 'model', 'model_not_found');
    }
    return m;
  };

  const headersOut = (contentType: string): Record<string, string> => ({ 'content-type': contentType, 'x-mock-model-version': version });

  const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { ...headersOut('application/json'), 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  };

  const stream = async (res: ServerResponse, events: readonly unknown[]): Promise<void> => {
    res.writeHead(200, { ...headersOut('text/event-stream'), 'cache-control': 'no-cache' });
    for (const e of events) {
      res.write(`data: ${JSON.stringify(e)}\n\n`);
      if (chunkDelayMs > 0) await new Promise((r) => setTimeout(r, chunkDelayMs));
    }
    res.end('data: [DONE]\n\n');
  };

  const overrideOf = (req: IncomingMessage): string | undefined => {
    const v = req.headers['x-mock-reply'];
    return typeof v === 'string' ? v : undefined;
  };

  const streamFlags = (body: Record<string, unknown>): { stream: boolean; usage: boolean } => {
    const s = body['stream'];
    if (s !== undefined && typeof s !== 'boolean') throw new MockRequestError(400, 'stream: must be a boolean', 'stream', 'invalid_type');
    const so = body['stream_options'];
    if (so !== undefined && so !== null && (typeof so !== 'object' || Array.isArray(so))) {
      throw new MockRequestError(400, 'stream_options: must be an object', 'stream_options', 'invalid_type');
    }
    return { stream: s === true, usage: s === true && (so as { include_usage?: unknown } | undefined)?.include_usage === true };
  };

  const chat = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readJson(req);
    const model = modelOf(body);
    const messages = body['messages'];
    if (!Array.isArray(messages) || messages.length === 0) {
      throw new MockRequestError(400, 'messages: required, a non-empty array', 'messages', 'invalid_messages');
    }
    messages.forEach((m, i) => {
      if (m === null || typeof m !== 'object' || typeof (m as { role?: unknown }).role !== 'string') {
        throw new MockRequestError(400, `messages[${i}].role: required, a string`, `messages[${i}].role`, 'invalid_messages');
      }
    });
    const flags = streamFlags(body);
    const lastUser = [...messages].reverse().find((m) => (m as { role: string }).role === 'user') as { content?: unknown } | undefined;
    const prompt = messages.map((m) => contentText((m as { content?: unknown }).content)).join(' ');
    const text = overrideOf(req) ?? replyText(version, contentText(lastUser?.content));
    const id = `chatcmpl-${version}-${++seq}`;
    const usage = { prompt_tokens: countTokens(prompt), completion_tokens: countTokens(text), total_tokens: countTokens(prompt) + countTokens(text) };
    const base = { id, created: CREATED, model, system_fingerprint: `mock-${version}` };
    if (!flags.stream) {
      sendJson(res, 200, {
        ...base,
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        usage,
      });
      return;
    }
    const events: unknown[] = chunkText(text, chunkSize).map((piece, i) => ({
      ...base,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: i === 0 ? { role: 'assistant', content: piece } : { content: piece }, finish_reason: null }],
    }));
    events.push({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    if (flags.usage) events.push({ ...base, object: 'chat.completion.chunk', choices: [], usage });
    await stream(res, events);
  };

  const completions = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readJson(req);
    const model = modelOf(body);
    const p = body['prompt'];
    const prompt = typeof p === 'string' ? p : Array.isArray(p) && p.every((x) => typeof x === 'string') ? p.join('\n') : undefined;
    if (prompt === undefined) throw new MockRequestError(400, 'prompt: required, a string or an array of strings', 'prompt', 'invalid_prompt');
    const flags = streamFlags(body);
    const text = overrideOf(req) ?? replyText(version, prompt);
    const id = `cmpl-${version}-${++seq}`;
    const usage = { prompt_tokens: countTokens(prompt), completion_tokens: countTokens(text), total_tokens: countTokens(prompt) + countTokens(text) };
    const base = { id, object: 'text_completion', created: CREATED, model, system_fingerprint: `mock-${version}` };
    if (!flags.stream) {
      sendJson(res, 200, { ...base, choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop' }], usage });
      return;
    }
    const events: unknown[] = chunkText(text, chunkSize).map((piece) => ({ ...base, choices: [{ index: 0, text: piece, logprobs: null, finish_reason: null }] }));
    events.push({ ...base, choices: [{ index: 0, text: '', logprobs: null, finish_reason: 'stop' }] });
    if (flags.usage) events.push({ ...base, choices: [], usage });
    await stream(res, events);
  };

  const embeddings = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readJson(req);
    const model = modelOf(body);
    const input = body['input'];
    const inputs = typeof input === 'string' ? [input] : Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string') ? (input as string[]) : undefined;
    if (inputs === undefined) throw new MockRequestError(400, 'input: required, a string or a non-empty array of strings', 'input', 'invalid_input');
    const dims = body['dimensions'] ?? 8;
    if (!Number.isInteger(dims) || (dims as number) < 1 || (dims as number) > 4096) {
      throw new MockRequestError(400, 'dimensions: must be an integer from 1 to 4096', 'dimensions', 'invalid_dimensions');
    }
    const tokens = inputs.reduce((n, s) => n + countTokens(s), 0);
    sendJson(res, 200, {
      object: 'list',
      model,
      data: inputs.map((s, index) => ({ object: 'embedding', index, embedding: embeddingOf(`${version}:${s}`, dims as number) })),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  };

  const routes: Record<string, { method: string; handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void }> = {
    '/v1/chat/completions': { method: 'POST', handle: chat },
    '/v1/completions': { method: 'POST', handle: completions },
    '/v1/embeddings': { method: 'POST', handle: embeddings },
    '/v1/models': {
      method: 'GET',
      handle: (_req, res) =>
        sendJson(res, 200, { object: 'list', data: models.filter((m) => m !== '*').map((id) => ({ id, object: 'model', created: CREATED, owned_by: `mock-${version}` })) }),
    },
    '/healthz': {
      method: 'GET',
      handle: (_req, res) => {
        res.writeHead(200, headersOut('text/plain'));
        res.end('ok\n');
      },
    },
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes[path];
    const fail = (err: unknown): void => {
      const e = err instanceof MockRequestError ? err : new MockRequestError(500, 'internal error', null, 'internal_error');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, e.status, { error: { message: e.message, type: e.status >= 500 ? 'server_error' : 'invalid_request_error', param: e.param, code: e.code } });
    };
    if (route === undefined) {
      fail(new MockRequestError(404, `no route ${req.method ?? ''} ${path}`, null, 'not_found'));
      return;
    }
    if (req.method !== route.method) {
      res.setHeader('allow', route.method);
      fail(new MockRequestError(405, `${path} accepts ${route.method} only`, null, 'method_not_allowed'));
      return;
    }
    counts[path] = (counts[path] ?? 0) + 1;
    Promise.resolve()
      .then(() => route.handle(req, res))
      .catch(fail);
  });

  return {
    requestCount: counts,
    listen() {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
          resolve({ url: `http://${host}:${a.port}`, port: a.port });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
