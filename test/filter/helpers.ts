// Shared helpers for the filter suites: load the built meshward.wasm into the host emulator and
// drive typical OpenAI-style exchanges. Tests run against filter/build/meshward.wasm (built by
// `npm run build:filter`, which `npm test` runs first).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createEnvoyHost, runExchange, type EnvoyHost, type EnvoyHostOptions, type HttpStream } from '../host/index.js';
import type { ExchangeResult, MessageSpec } from '../host/index.js';
import type { HeaderPair } from '../host/index.js';

export const WASM_PATH = fileURLToPath(new URL('../../filter/build/meshward.wasm', import.meta.url));
let wasmBytes: Uint8Array | undefined;

/** The built module's bytes (read once per test file). */
export function wasm(): Uint8Array {
  wasmBytes ??= new Uint8Array(readFileSync(WASM_PATH));
  return wasmBytes;
}

export type Config = Record<string, unknown>;

/** An emulated Envoy running meshward with `config` (object or raw string). */
export async function meshward(config: Config | string = {}, options: Partial<EnvoyHostOptions> = {}): Promise<EnvoyHost> {
  return createEnvoyHost({
    wasm: wasm(),
    pluginConfig: typeof config === 'string' ? config : JSON.stringify(config),
    ...options,
  });
}

/** Valid, well-known test values (not real people or accounts). */
export const SAMPLES = {
  email: 'jane.doe@corp.example',
  card: '4111 1111 1111 1111',
  cardPlain: '4111111111111111',
  iban: 'GB82 WEST 1234 5698 7654 32',
  phone: '+1 415 555 2671',
  awsKey: 'AKIAIOSFODNN7EXAMPLE',
} as const;

export function chatRequest(content: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'system', content: 'You are helpful.' }, { role: 'user', content }], ...extra });
}

export function chatResponse(content: string): string {
  return JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion',
    model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  });
}

/** One OpenAI chat streaming event carrying `content` as its delta. */
export function sseDelta(content: string, index = 0): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'gpt-4o', choices: [{ index, delta: { content }, finish_reason: null }] })}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';

export function requestHeaders(path = '/v1/chat/completions', body?: string, extra: HeaderPair[] = []): HeaderPair[] {
  const h: HeaderPair[] = [
    [':method', 'POST'],
    [':path', path],
    [':authority', 'llm.internal'],
    ['content-type', 'application/json'],
    ['x-request-id', 'req-1'],
  ];
  if (body !== undefined) h.push(['content-length', String(Buffer.byteLength(body))]);
  return [...h, ...extra];
}

export function jsonResponseHeaders(body?: string): HeaderPair[] {
  const h: HeaderPair[] = [[':status', '200'], ['content-type', 'application/json']];
  if (body !== undefined) h.push(['content-length', String(Buffer.byteLength(body))]);
  return h;
}

export const SSE_HEADERS: HeaderPair[] = [[':status', '200'], ['content-type', 'text/event-stream']];

/** Sends a chat request (and optionally a response) through a new stream. */
export function chat(
  envoy: EnvoyHost,
  body: string,
  response?: MessageSpec,
  opts: { path?: string; principal?: string; worker?: number; chunkSize?: number; headers?: HeaderPair[] } = {},
): { stream: HttpStream; result: ExchangeResult } {
  const stream = envoy.worker(opts.worker ?? 0).newStream(
    opts.principal !== undefined ? { properties: { 'connection.uri_san_peer_certificate': opts.principal } } : {},
  );
  const request: MessageSpec = {
    headers: opts.headers ?? requestHeaders(opts.path, body),
    body,
    ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}),
  };
  const result = runExchange(stream, request, response);
  return { stream, result };
}

/** The audit log lines (parsed) emitted so far. */
export function auditLines(envoy: EnvoyHost): AuditLine[] {
  return envoy.logs
    .filter((l) => l.message.startsWith('{"meshward":"audit"'))
    .map((l) => JSON.parse(l.message) as AuditLine);
}

export interface AuditLine {
  meshward: 'audit';
  direction: 'request' | 'response';
  outcome: string;
  would: string;
  mode: string;
  principal: string;
  route: string;
  request_id: string;
  path: string;
  model: string;
  shape: string;
  bytes: number;
  stream: boolean;
  findings: { detector: string; count: number; action: string }[];
  errors: string[];
}

/** Parses each `data:` event of an SSE body; returns JSON payloads (or the raw string for [DONE]). */
export function sseEvents(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((e) => e.trim().length > 0)
    .map((e) => {
      const data = e
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      return data === '[DONE]' ? '[DONE]' : (JSON.parse(data) as unknown);
    });
}

/** The concatenated delta contents of an OpenAI chat stream. */
export function streamedText(text: string): string {
  return sseEvents(text)
    .filter((e): e is { choices: { delta: { content?: string } }[] } => typeof e === 'object' && e !== null && 'choices' in e)
    .map((e) => e.choices.map((c) => c.delta.content ?? '').join(''))
    .join('');
}

export function filterState(stream: HttpStream, key = 'meshward.summary'): unknown {
  const v = stream.filterState.get(key);
  return v === undefined ? undefined : JSON.parse(Buffer.from(v).toString('utf8'));
}
