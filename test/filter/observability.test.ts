// Every finding is visible: metric names (tag-extractable), the audit line, the filter-state
// summary; logging gated on Envoy's level; the matched value never appears anywhere.
import { describe, expect, it } from 'vitest';
import { SAMPLES, SSE_DONE, SSE_HEADERS, auditLines, chat, chatRequest, chatResponse, filterState, jsonResponseHeaders, meshward, requestHeaders, sseDelta } from './helpers.js';

const CONFIG = { detectors: { email: 'redact', credit_card: 'block', phone: 'alert' } };
const PRINCIPAL = 'spiffe://corp.example/ns/app/sa/chat';

// The tag-extraction regexes documented in docs/filter.md, applied the way Envoy does.
const TAGS: [string, RegExp][] = [
  ['meshward_detector', /^wasmcustom\.meshward\.detector\.((.+?)\.)direction\./],
  ['meshward_direction', /^wasmcustom\.meshward\..*?(direction\.(request|response)\.)/],
  ['meshward_action', /^wasmcustom\.meshward\.detector\..*?(action\.([a-z]+)\.)/],
  ['meshward_mode', /^wasmcustom\.meshward\.detector\..*?(mode\.([a-z]+)\.)findings$/],
  ['meshward_outcome', /^wasmcustom\.meshward\.direction\..*?(outcome\.([a-z]+)\.)messages$/],
  ['meshward_error', /^wasmcustom\.meshward\.direction\..*?(error\.([a-z_]+)\.)errors$/],
];
function extract(name: string): { name: string; tags: Record<string, string> } {
  const full = `wasmcustom.${name}`;
  let out = full;
  const tags: Record<string, string> = {};
  for (const [tag, re] of TAGS) {
    const m = re.exec(full);
    if (!m) continue;
    tags[tag] = m[2]!;
    out = out.replace(m[1]!, '');
  }
  return { name: out, tags };
}

describe('metrics', () => {
  it('counts findings per detector, direction, action and mode, and messages per outcome', async () => {
    const envoy = await meshward(CONFIG);
    const resp = chatResponse(`call ${SAMPLES.phone}`);
    chat(envoy, chatRequest(`mail ${SAMPLES.email} and ${'x'} ops@corp.example`), { headers: jsonResponseHeaders(resp), body: resp });
    chat(envoy, chatRequest(`card ${SAMPLES.card}`));
    const m = envoy.metrics;
    expect(m.get('meshward.detector.email.direction.request.action.redact.mode.enforce.findings')).toBe(2n);
    expect(m.get('meshward.detector.phone.direction.response.action.alert.mode.enforce.findings')).toBe(1n);
    expect(m.get('meshward.detector.credit_card.direction.request.action.block.mode.enforce.findings')).toBe(1n);
    expect(m.get('meshward.direction.request.outcome.redact.messages')).toBe(1n);
    expect(m.get('meshward.direction.request.outcome.block.messages')).toBe(1n);
    expect(m.get('meshward.direction.response.outcome.alert.messages')).toBe(1n);
    expect(m.get('meshward.direction.request.inspected_bytes')).toBeGreaterThan(100n);
  });

  it('names split into tags with the documented stats_config regexes', () => {
    expect(extract('meshward.detector.credit_card.direction.request.action.block.mode.enforce.findings')).toEqual({
      name: 'wasmcustom.meshward.detector.findings',
      tags: { meshward_detector: 'credit_card', meshward_direction: 'request', meshward_action: 'block', meshward_mode: 'enforce' },
    });
    expect(extract('meshward.direction.response.outcome.allow.messages')).toEqual({
      name: 'wasmcustom.meshward.messages',
      tags: { meshward_direction: 'response', meshward_outcome: 'allow' },
    });
    expect(extract('meshward.direction.request.error.body_too_large.errors')).toEqual({
      name: 'wasmcustom.meshward.errors',
      tags: { meshward_direction: 'request', meshward_error: 'body_too_large' },
    });
  });
});

describe('audit log', () => {
  it('one line per inspected message with ids, counts, actions, principal, route, request id; never the value', async () => {
    const envoy = await meshward(CONFIG, { properties: { 'xds.route_name': 'llm-route' } });
    const resp = chatResponse('done');
    chat(envoy, chatRequest(`mail ${SAMPLES.email}`), { headers: jsonResponseHeaders(resp), body: resp }, {
      principal: PRINCIPAL,
      headers: requestHeaders('/v1/chat/completions?api_key=secret-in-query', chatRequest(`mail ${SAMPLES.email}`)),
    });
    const lines = auditLines(envoy);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({
      meshward: 'audit',
      direction: 'request',
      outcome: 'redact',
      would: 'redact',
      mode: 'enforce',
      principal: PRINCIPAL,
      route: 'llm-route',
      request_id: 'req-1',
      path: '/v1/chat/completions',
      model: 'gpt-4o',
      shape: 'openai_chat',
      bytes: Buffer.byteLength(chatRequest(`mail ${SAMPLES.email}`)),
      stream: false,
      findings: [{ detector: 'email', count: 1, action: 'redact' }],
      errors: [],
    });
    expect(lines[1]).toMatchObject({ direction: 'response', outcome: 'allow', findings: [] });
    const all = envoy.logs.map((l) => l.message).join('\n');
    expect(all).not.toContain('jane');
    expect(all).not.toContain('secret-in-query');
  });

  it('audit.log "findings" logs only messages with findings; "off" none', async () => {
    const a = await meshward({ ...CONFIG, audit: { log: 'findings' } });
    chat(a, chatRequest('clean'));
    chat(a, chatRequest(`mail ${SAMPLES.email}`));
    expect(auditLines(a)).toHaveLength(1);
    const b = await meshward({ ...CONFIG, audit: { log: 'off' } });
    chat(b, chatRequest(`mail ${SAMPLES.email}`));
    expect(auditLines(b)).toHaveLength(0);
  });

  it('is gated on the log level', async () => {
    const envoy = await meshward(CONFIG, { logLevel: 'warn' });
    chat(envoy, chatRequest(`mail ${SAMPLES.email}`));
    expect(auditLines(envoy)).toHaveLength(0);
    expect(envoy.logs.filter((l) => l.source === 'proxy_log')).toHaveLength(0);
  });

  it('streams log one response line at the end, with the stream flag', async () => {
    const envoy = await meshward(CONFIG);
    const s = envoy.newStream();
    const req = chatRequest('hi', { stream: true });
    s.requestHeaders(requestHeaders('/v1/chat/completions', req), false);
    s.requestBody(req, true);
    s.responseHeaders(SSE_HEADERS, false);
    s.responseBody(sseDelta('mail jane.doe@'), false);
    s.responseBody(sseDelta('corp.example and ops@corp.example'), false);
    expect(auditLines(envoy).filter((l) => l.direction === 'response')).toHaveLength(0);
    s.responseBody(SSE_DONE, true);
    const line = auditLines(envoy).find((l) => l.direction === 'response')!;
    expect(line).toMatchObject({ stream: true, outcome: 'redact', findings: [{ detector: 'email', count: 2, action: 'redact' }] });
  });
});

describe('incomplete streams', () => {
  it('a stream the client abandons is still reported in the access-log phase', async () => {
    const envoy = await meshward(CONFIG);
    const s = envoy.newStream();
    const req = chatRequest('hi', { stream: true });
    s.requestHeaders(requestHeaders('/v1/chat/completions', req), false);
    s.requestBody(req, true);
    s.responseHeaders(SSE_HEADERS, false);
    s.responseBody(sseDelta(`mail ${SAMPLES.email} and more`), false);
    s.resetByClient();
    s.complete();
    const line = auditLines(envoy).find((l) => l.direction === 'response')!;
    expect(line).toMatchObject({ stream: true, errors: ['incomplete'], findings: [{ detector: 'email', count: 1, action: 'redact' }] });
  });
});

describe('filter state', () => {
  it('meshward.summary carries the same summary for access logs', async () => {
    const envoy = await meshward(CONFIG);
    const resp = chatResponse(`call ${SAMPLES.phone}`);
    const { stream } = chat(envoy, chatRequest(`mail ${SAMPLES.email}`), { headers: jsonResponseHeaders(resp), body: resp });
    expect(filterState(stream)).toEqual({
      outcome: 'redact',
      request: { outcome: 'redact', findings: { email: 1 } },
      response: { outcome: 'alert', findings: { phone: 1 } },
    });
    stream.complete();
  });

  it('is set for blocked requests too', async () => {
    const envoy = await meshward(CONFIG);
    const { stream } = chat(envoy, chatRequest(`card ${SAMPLES.card}`));
    expect(filterState(stream)).toEqual({ outcome: 'block', request: { outcome: 'block', findings: { credit_card: 1 } }, response: null });
  });
});
