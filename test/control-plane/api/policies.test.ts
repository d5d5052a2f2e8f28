import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDlpEngine, type DryRunHostFactory } from '../../../control-plane/src/api/dlp-engine.js';
import { createEnvoyHost } from '../../host/index.js';
import { buildTestApp, chatModel, type TestApp } from './helper.js';

// The real compiled filter through the same host emulator the filter's tests use.
const createHost: DryRunHostFactory = (o) => createEnvoyHost(o);
const WASM = new URL('../../../filter/build/meshward.wasm', import.meta.url).pathname;

describe('authorization policies, rate limits, filter modules, DLP policies', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ trustDomain: 'mesh.test', dlp: createDlpEngine({ wasm: WASM, createHost }) });
    expect((await t.call({ method: 'POST', url: '/v1/models', payload: chatModel() })).statusCode).toBe(201);
  });
  afterAll(async () => t.close());

  it('authorization policies: accepted with rules, windows and dry-run; invalid ones name the field', async () => {
    const ok = await t.call({
      method: 'POST',
      url: '/v1/authorization-policies',
      payload: {
        name: 'team-a',
        rules: [{ from: ['spiffe://mesh.test/ns/team-a/*'], to: ['infer'], models: ['chat'], when: [{ days: ['mon', 'tue'], start: '08:00', end: '18:00', timeZone: 'Europe/Paris' }] }],
        dryRun: true,
      },
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ kind: 'AuthorizationPolicy', dryRun: true });
    const cases: [unknown, string, RegExp][] = [
      [{ name: 'p1', rules: [] }, '/rules', /fewer than 1/],
      [{ name: 'p2', rules: [{ to: ['delete_everything'] }] }, '/rules/0/to/0', /must be one of/],
      [{ name: 'p3', rules: [{ from: ['spiffe://other.domain/ns/a/sa/b'] }] }, '/rules/0/from/0', /outside the mesh's trust domain/],
      [{ name: 'p4', rules: [{ from: ['spiffe://mesh.test/ns/*/sa/x'] }] }, '/rules/0/from/0', /only allowed alone or as the last path segment/],
      [{ name: 'p5', rules: [{ when: [{ start: '25:00', end: '10:00' }] }] }, '/rules/0/when/0/start', /pattern/],
      [{ name: 'p6', rules: [{ when: [{ start: '08:00', end: '10:00', timeZone: 'Mars/Olympus' }] }] }, '/rules/0/when/0/timeZone', /IANA/],
      [{ name: 'p7', rules: [{ headers: [{ name: 'x-a', op: 'regex', value: '(?=x)' }] }] }, '/rules/0/headers/0/value', /RE2/],
      [{ name: 'p8', rules: [{ models: ['nope'] }] }, '/rules/0/models/0', /does not exist/],
      [{ name: 'p9', rules: [{}], workloads: ['ai/nobody'] }, '/workloads/0', /does not exist/],
      [{ name: 'p10', rules: [{}], action: 'DENY' }, '/action', /must be one of "ALLOW"/],
    ];
    for (const [payload, field, reason] of cases) {
      const r = await t.call({ method: 'POST', url: '/v1/authorization-policies', payload: payload as object });
      expect(r.statusCode, JSON.stringify(payload)).toBe(400);
      const issue = (r.json().errors as { field: string; reason: string }[]).find((e) => e.field === field);
      expect(issue, `${JSON.stringify(payload)} → ${r.body}`).toBeDefined();
      expect(issue!.reason).toMatch(reason);
    }
    expect(t.store.snapshot().resources['authorization-policies'].map((r) => r.name)).toEqual(['team-a']);
  });

  it('rate limits: one per model, buckets bounded', async () => {
    const ok = await t.call({ method: 'POST', url: '/v1/rate-limits', payload: { name: 'rl', model: 'chat', bucket: { maxTokens: 100, fillIntervalMs: 1000 }, callers: [{ principal: 'spiffe://mesh.test/ns/a/sa/b', bucket: { maxTokens: 5, fillIntervalMs: 1000 } }] } });
    expect(ok.statusCode).toBe(201);
    const second = await t.call({ method: 'POST', url: '/v1/rate-limits', payload: { name: 'rl2', model: 'chat', bucket: { maxTokens: 1, fillIntervalMs: 1000 } } });
    expect(second.statusCode).toBe(400);
    expect(second.json().errors[0]).toMatchObject({ field: '/model', reason: expect.stringMatching(/already has rate limit 'rl'/) });
    const fast = await t.call({ method: 'POST', url: '/v1/rate-limits', payload: { name: 'rl3', model: 'chat', bucket: { maxTokens: 1, fillIntervalMs: 10 } } });
    expect(fast.json().errors[0]).toMatchObject({ field: '/bucket/fillIntervalMs', reason: 'must be >= 50' });
    const empty = await t.call({ method: 'POST', url: '/v1/rate-limits', payload: { name: 'rl4', model: 'chat' } });
    expect(empty.statusCode).toBe(400);
  });

  it('DLP policies need a filter module; the filter schema and the compiled filter both check the config', async () => {
    const policy = { name: 'global', scope: { kind: 'global' }, config: { mode: 'enforce', detectors: { email: { action: 'redact' } } } };
    const noModule = await t.call({ method: 'POST', url: '/v1/dlp-policies', payload: policy });
    expect(noModule.statusCode).toBe(400);
    expect(noModule.json().errors[0].field).toBe('/module');
    const mod = await t.call({ method: 'POST', url: '/v1/filter-modules', payload: { name: 'default', source: { kind: 'local', path: '/etc/meshward/meshward.wasm' } } });
    expect(mod.statusCode).toBe(201);
    const remote = await t.call({ method: 'POST', url: '/v1/filter-modules', payload: { name: 'remote', source: { kind: 'remote', url: 'https://example.com/m.wasm' } } });
    expect(remote.json().errors[0]).toMatchObject({ field: '/sha256', reason: expect.stringMatching(/required for a remote module/) });
    // the filter's JSON Schema (filter/config.schema.json)
    const schemaBad = await t.call({ method: 'POST', url: '/v1/dlp-policies', payload: { ...policy, config: { mode: 'loud', colour: 1 } } });
    expect(schemaBad.statusCode).toBe(400);
    const fields = schemaBad.json().errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['/config/mode', '/config/colour']));
    const created = await t.call({ method: 'POST', url: '/v1/dlp-policies', payload: policy });
    expect(created.statusCode).toBe(201);
    const dupScope = await t.call({ method: 'POST', url: '/v1/dlp-policies', payload: { ...policy, name: 'global2' } });
    expect(dupScope.json().errors[0]).toMatchObject({ field: '/scope', reason: expect.stringMatching(/already has scope global/) });
    const perModel = await t.call({ method: 'POST', url: '/v1/dlp-policies', payload: { name: 'chat-dlp', scope: { kind: 'model', model: 'chat' }, config: { mode: 'monitor' } } });
    expect(perModel.statusCode).toBe(201);
    const noScopeModel = await t.call({ method: 'POST', url: '/v1/dlp-policies', payload: { name: 'x', scope: { kind: 'model' }, config: {} } });
    expect(noScopeModel.json().errors[0].field).toBe('/scope/model');
  });

  it('a config the schema accepts but the compiled filter refuses is rejected naming the field', async () => {
    // hash redaction needs a hash_key (the schema cannot express it; the filter's configure does)
    const r = await t.call({ method: 'POST', url: '/v1/dlp-policies/dry-run', payload: { config: { redaction: { style: 'hash' } }, payload: '{}' } });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors[0].field).toMatch(/^\/config/);
    expect(r.json().detail).toMatch(/refused by the compiled filter/);
  });

  it('dry-runs the real filter over a sample: redaction, block, and stored policies (viewer allowed)', async () => {
    const chat = (content: string) => JSON.stringify({ model: 'chat-model', messages: [{ role: 'user', content }] });
    const redact = await t.call({ method: 'POST', url: '/v1/dlp-policies/dry-run', token: t.viewer, payload: { policy: 'global', payload: chat('write to bob@example.com please') } });
    expect(redact.statusCode).toBe(200);
    expect(redact.json()).toMatchObject({ verdict: 'redact', findings: [{ detector: 'email', count: 1, action: 'redact' }] });
    expect(redact.json().output).not.toContain('bob@example.com');
    expect(JSON.parse(redact.json().output).messages[0].content).toMatch(/^write to .+ please$/);
    const block = await t.call({
      method: 'POST',
      url: '/v1/dlp-policies/dry-run',
      payload: { config: { detectors: { credit_card: { action: 'block' } } }, payload: chat('card 4111 1111 1111 1111') },
    });
    expect(block.json()).toMatchObject({ verdict: 'block', findings: [{ detector: 'credit_card' }], localReply: { status: 403 } });
    expect(block.json().output).toBeUndefined();
    const clean = await t.call({ method: 'POST', url: '/v1/dlp-policies/dry-run', payload: { policy: 'global', payload: chat('hello') } });
    expect(clean.json()).toMatchObject({ verdict: 'allow', findings: [] });
    expect((await t.call({ method: 'POST', url: '/v1/dlp-policies/dry-run', payload: { policy: 'nope', payload: '{}' } })).statusCode).toBe(404);
    const both = await t.call({ method: 'POST', url: '/v1/dlp-policies/dry-run', payload: { policy: 'global', config: {}, payload: '{}' } });
    expect(both.statusCode).toBe(400);
    expect((await t.call({ method: 'POST', url: '/v1/dlp-policies/dry-run', token: null, payload: { policy: 'global', payload: '' } })).statusCode).toBe(401);
    // nothing was written by dry runs
    expect(t.store.snapshot().resources['dlp-policies'].map((r) => r.name)).toEqual(['chat-dlp', 'global']);
  });

  it('dry-runs per-caller overrides with the caller the proxy would see', async () => {
    const config = { detectors: { email: { action: 'redact' } }, principals: [{ match: 'spiffe://mesh.test/ns/trusted/*', detectors: { email: 'off' } }] };
    const payload = JSON.stringify({ model: 'chat-model', messages: [{ role: 'user', content: 'bob@example.com' }] });
    const anon = await t.call({ method: 'POST', url: '/v1/dlp-policies/dry-run', payload: { config, payload } });
    expect(anon.json().verdict).toBe('redact');
    const trusted = await t.call({ method: 'POST', url: '/v1/dlp-policies/dry-run', payload: { config, payload, caller: 'spiffe://mesh.test/ns/trusted/sa/app' } });
    expect(trusted.statusCode).toBe(200);
    expect(trusted.json().output).toContain('bob@example.com');
    expect(trusted.json().verdict).not.toBe('redact');
  });

  it('never shows the hash redaction key: masked in responses and audit, kept on GET→PUT round trips', async () => {
    const key = 'a-very-secret-hmac-key-0123456789';
    expect((await t.call({ method: 'POST', url: '/v1/models', payload: chatModel('chat2') })).statusCode).toBe(201);
    const created = await t.call({
      method: 'POST',
      url: '/v1/dlp-policies',
      payload: { name: 'hashed', scope: { kind: 'model', model: 'chat2' }, config: { redaction: { style: 'hash', hash_key: key }, detectors: { email: { action: 'redact' } } } },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.body).not.toContain(key);
    const got = await t.call({ method: 'GET', url: '/v1/dlp-policies/hashed', token: t.viewer });
    expect(got.body).not.toContain(key);
    const placeholder = got.json().config.redaction.hash_key as string;
    expect(placeholder).toMatch(/^redacted:sha256:[0-9a-f]{12}$/);
    expect((await t.call({ method: 'GET', url: '/v1/dlp-policies' })).body).not.toContain(key);
    expect((await t.call({ method: 'GET', url: '/v1/audit?kind=dlp-policies&name=hashed', token: t.viewer })).body).not.toContain(key);
    // round trip: the placeholder keeps the stored key
    const body = got.json();
    const put = await t.call({ method: 'PUT', url: '/v1/dlp-policies/hashed', payload: { ...body, failureMode: 'FAIL_OPEN' }, headers: { 'if-match': got.headers['etag'] as string } });
    expect(put.statusCode, put.body).toBe(200);
    expect((t.store.get('dlp-policies', 'hashed')!.spec as { config: { redaction: { hash_key: string } } }).config.redaction.hash_key).toBe(key);
    // a placeholder that does not match, or on create, is refused
    const wrong = await t.call({ method: 'PUT', url: '/v1/dlp-policies/hashed', payload: { ...body, config: { ...body.config, redaction: { style: 'hash', hash_key: 'redacted:sha256:000000000000' } } }, headers: { 'if-match': '*' } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors[0].field).toBe('/config/redaction/hash_key');
    const onCreate = await t.call({ method: 'POST', url: '/v1/dlp-policies', payload: { ...body, name: 'copy', metadata: undefined } });
    expect(onCreate.statusCode).toBe(400);
    expect(onCreate.json().errors[0].field).toBe('/config/redaction/hash_key');
  });

  it('dry run answers 503 without an engine', async () => {
    const bare = await buildTestApp({ dlpConfigSchema: false });
    const r = await bare.call({ method: 'POST', url: '/v1/dlp-policies/dry-run', payload: { config: {}, payload: '{}' } });
    expect(r.statusCode).toBe(503);
    await bare.close();
  });
});
