import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, chatModel, gatewayWorkload, type TestApp } from './helper.js';

/** `?dryRun=true` on writes: every check runs, the answer shows the would-be result, nothing is written. */
describe('server-side dry run of writes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dlpConfigSchema: false });
    await t.call({ method: 'POST', url: '/v1/models', payload: chatModel() });
    await t.call({ method: 'POST', url: '/v1/rollouts', payload: { name: 'r', model: 'chat', steps: [{ weights: { v1: 0, v2: 100 } }] } });
  });
  afterAll(async () => t.close());

  const state = () => JSON.stringify({ rev: t.store.revision, res: t.store.snapshot().resources, audit: t.store.audit.query({ limit: 1 }).items[0]?.id });

  it('create, update, delete, weights, rollout actions and mesh: would-be answers, no writes', async () => {
    const before = state();
    const rev = t.store.revision;
    const create = await t.call({ method: 'POST', url: '/v1/workloads?dryRun=true', payload: gatewayWorkload('dry') });
    expect(create.statusCode).toBe(201);
    expect(create.headers['meshward-dry-run']).toBe('true');
    expect(create.headers['location']).toBeUndefined();
    expect(create.json()).toMatchObject({ name: 'dry', status: { spiffeId: 'spiffe://meshward.local/ns/ai/sa/dry' }, metadata: { resourceVersion: rev + 1 } });
    const etag = (await t.call({ method: 'GET', url: '/v1/models/chat' })).headers['etag'] as string;
    const put = await t.call({ method: 'PUT', url: '/v1/models/chat?dryRun=true', payload: { ...chatModel(), timeoutMs: 5 }, headers: { 'if-match': etag } });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ timeoutMs: 5, metadata: { generation: 2 } });
    const weights = await t.call({ method: 'PUT', url: '/v1/models/chat/weights?dryRun=true', payload: { v1: 1, v2: 99 }, headers: { 'if-match': etag } });
    expect(weights.json().versions.map((v: { weight: number }) => v.weight)).toEqual([1, 99]);
    const advance = await t.call({ method: 'POST', url: '/v1/rollouts/r/advance?dryRun=true' });
    expect(advance.json().status).toMatchObject({ phase: 'Completed', currentStep: 0 });
    const mesh = await t.call({ method: 'PUT', url: '/v1/mesh?dryRun=true', payload: { trustDomain: 'meshward.local', mtlsMode: 'PERMISSIVE' }, headers: { 'if-match': '*' } });
    expect(mesh.json()).toMatchObject({ mtlsMode: 'PERMISSIVE' });
    const del = await t.call({ method: 'DELETE', url: '/v1/rollouts/r?dryRun=true' });
    expect(del.statusCode).toBe(200);
    expect(del.headers['meshward-dry-run']).toBe('true');
    expect(state()).toBe(before);
  });

  it('reports the same errors a real write would', async () => {
    const before = state();
    const bad = await t.call({ method: 'POST', url: '/v1/rate-limits?dryRun=true', payload: { name: 'x', model: 'nope', bucket: { maxTokens: 1, fillIntervalMs: 100 } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('/model');
    const referenced = await t.call({ method: 'DELETE', url: '/v1/models/chat?dryRun=true' });
    expect(referenced.statusCode).toBe(200); // the rollout does not pin the model in the mesh model
    await t.call({ method: 'POST', url: '/v1/rate-limits', payload: { name: 'rl', model: 'chat', bucket: { maxTokens: 1, fillIntervalMs: 100 } } });
    const after = state();
    expect((await t.call({ method: 'DELETE', url: '/v1/models/chat?dryRun=true' })).statusCode).toBe(409);
    expect((await t.call({ method: 'PUT', url: '/v1/models/chat?dryRun=true', payload: chatModel(), headers: { 'if-match': '"1"' } })).statusCode).toBe(412);
    expect((await t.call({ method: 'POST', url: '/v1/workloads?dryRun=maybe', payload: gatewayWorkload('q') })).statusCode).toBe(400);
    expect((await t.call({ method: 'POST', url: '/v1/workloads?dryRun=true', payload: gatewayWorkload('q'), token: t.viewer })).statusCode).toBe(403);
    expect(state()).toBe(after);
    expect(before).not.toBe(after);
  });
});
