import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, chatModel, type TestApp } from './helper.js';

describe('POST /v1/explain', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ trustDomain: 'mesh.test', dlpConfigSchema: false });
    await t.call({ method: 'POST', url: '/v1/models', payload: chatModel() });
    await t.call({ method: 'POST', url: '/v1/workloads', payload: { name: 'gw', namespace: 'edge', serviceAccount: 'gw', role: 'gateway' } });
    await t.call({
      method: 'POST',
      url: '/v1/authorization-policies',
      payload: { name: 'team-a', rules: [{ from: ['spiffe://mesh.test/ns/team-a/*'], to: ['infer'], models: ['chat'], when: [{ start: '08:00', end: '18:00' }] }] },
    });
  });
  afterAll(async () => t.close());

  it('answers allowed/denied with the deciding rule for a viewer, at the current config version', async () => {
    const allowed = await t.call({
      method: 'POST',
      url: '/v1/explain',
      token: t.viewer,
      payload: { caller: 'spiffe://mesh.test/ns/team-a/sa/app', model: 'chat-model', operation: 'infer', time: '2026-03-02T10:00:00Z', workload: 'edge/gw' },
    });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json()).toMatchObject({
      allowed: true,
      decision: 'ALLOW',
      decidingRule: { policy: 'team-a', rule: 0 },
      resolvedModel: 'chat',
      configVersion: t.store.revision,
      time: '2026-03-02T10:00:00.000Z',
    });
    const late = await t.call({
      method: 'POST',
      url: '/v1/explain',
      payload: { caller: 'spiffe://mesh.test/ns/team-a/sa/app', model: 'chat', operation: { method: 'POST', path: '/v1/chat/completions' }, time: '2026-03-02T20:00:00Z' },
    });
    expect(late.json()).toMatchObject({ allowed: false, decision: 'DENY', rules: [{ policy: 'team-a', failed: ['when'] }] });
    const plaintext = await t.call({ method: 'POST', url: '/v1/explain', payload: { caller: null, model: 'chat', operation: 'infer' } });
    expect(plaintext.json().allowed).toBe(false);
  });

  it('validates its input', async () => {
    const bad = await t.call({ method: 'POST', url: '/v1/explain', payload: { caller: 5, model: '', operation: 'fly', time: 'noon' } });
    expect(bad.statusCode).toBe(400);
    const fields = bad.json().errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['/caller', '/model', '/operation', '/time']));
    const noWorkload = await t.call({ method: 'POST', url: '/v1/explain', payload: { caller: null, model: 'chat', operation: 'infer', workload: 'edge/none' } });
    expect(noWorkload.json().errors[0].field).toBe('/workload');
  });
});
