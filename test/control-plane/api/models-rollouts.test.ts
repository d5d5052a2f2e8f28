import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, chatModel, type TestApp } from './helper.js';

describe('/v1/models and /v1/rollouts', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ dlpConfigSchema: false });
  });
  afterAll(async () => t.close());

  const weights = async (name = 'chat') =>
    ((await t.call({ method: 'GET', url: `/v1/models/${name}` })).json().versions as { name: string; weight: number }[]).map((v) => [v.name, v.weight]);

  it('creates a model with versions and refuses invalid ones with the field named', async () => {
    const r = await t.call({ method: 'POST', url: '/v1/models', payload: chatModel() });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ kind: 'Model', name: 'chat', versions: [{ name: 'v1', weight: 90 }, { name: 'v2', weight: 10 }] });
    const sum = await t.call({ method: 'POST', url: '/v1/models', payload: { ...chatModel('b'), versions: [{ name: 'v1', weight: 50, endpoints: [{ address: '10.0.0.1', port: 1 }] }, { name: 'v2', weight: 20, endpoints: [{ address: '10.0.0.1', port: 1 }] }] } });
    expect(sum.statusCode).toBe(400);
    expect(sum.json().errors[0]).toMatchObject({ field: '/versions', reason: expect.stringMatching(/sum to 70, must sum to 100/) });
    const port = await t.call({ method: 'POST', url: '/v1/models', payload: { ...chatModel('c'), versions: [{ name: 'v1', endpoints: [{ address: '10.0.0.1', port: 70000 }] }] } });
    expect(port.statusCode).toBe(400);
    expect(port.json().errors[0]).toMatchObject({ field: '/versions/0/endpoints/0/port', reason: 'must be <= 65535' });
    const empty = await t.call({ method: 'POST', url: '/v1/models', payload: { name: 'd', versions: [] } });
    expect(empty.json().errors[0]).toMatchObject({ field: '/versions', reason: 'must NOT have fewer than 1 items' });
    const host = await t.call({ method: 'POST', url: '/v1/models', payload: { ...chatModel('e'), modelNames: ['e'], versions: [{ name: 'v1', endpoints: [{ address: 'not a host!', port: 80 }] }] } });
    expect(host.json().errors[0]).toMatchObject({ field: '/versions/0/endpoints/0/address' });
    // model names must not be claimed twice
    const clash = await t.call({ method: 'POST', url: '/v1/models', payload: { ...chatModel('f'), modelNames: ['chat-model'] } });
    expect(clash.statusCode).toBe(400);
    expect(clash.json().detail).toMatch(/already served by model 'chat'/);
  });

  it('sets weights with PUT /weights (If-Match required) and validates them', async () => {
    const etag = (await t.call({ method: 'GET', url: '/v1/models/chat' })).headers['etag'] as string;
    expect((await t.call({ method: 'PUT', url: '/v1/models/chat/weights', payload: { v1: 50, v2: 50 } })).statusCode).toBe(428);
    const bad = await t.call({ method: 'PUT', url: '/v1/models/chat/weights', payload: { v1: 50, v2: 40 }, headers: { 'if-match': etag } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toMatch(/sum to 90/);
    const unknown = await t.call({ method: 'PUT', url: '/v1/models/chat/weights', payload: { v1: 50, v3: 50 }, headers: { 'if-match': etag } });
    expect(unknown.json().errors[0].field).toBe('/v3');
    const ok = await t.call({ method: 'PUT', url: '/v1/models/chat/weights', payload: { v1: 50, v2: 50 }, headers: { 'if-match': etag } });
    expect(ok.statusCode).toBe(200);
    expect(Number(ok.headers['meshward-config-version'])).toBe(t.store.revision);
    expect(await weights()).toEqual([['v1', 50], ['v2', 50]]);
    expect((await t.call({ method: 'PUT', url: '/v1/models/chat/weights', payload: { v1: 100, v2: 0 }, headers: { 'if-match': etag } })).statusCode).toBe(412);
  });

  it('refuses to delete a model that other resources reference (409) and names the referrer', async () => {
    await t.call({ method: 'POST', url: '/v1/rate-limits', payload: { name: 'chat-rl', model: 'chat', bucket: { maxTokens: 10, fillIntervalMs: 1000 } } });
    const del = await t.call({ method: 'DELETE', url: '/v1/models/chat' });
    expect(del.statusCode).toBe(409);
    expect(del.json()).toMatchObject({ code: 'REFERENCED' });
    expect(del.json().errors[0].reason).toMatch(/rateLimit chat-rl/);
    expect(t.store.get('models', 'chat')).toBeDefined();
    await t.call({ method: 'DELETE', url: '/v1/rate-limits/chat-rl' });
  });

  it('walks a rollout step by step, each step one commit of rollout + model, then completes', async () => {
    const etag = (await t.call({ method: 'GET', url: '/v1/models/chat' })).headers['etag'] as string;
    await t.call({ method: 'PUT', url: '/v1/models/chat/weights', payload: { v1: 100, v2: 0 }, headers: { 'if-match': etag } });
    const bad = await t.call({ method: 'POST', url: '/v1/rollouts', payload: { name: 'bad', model: 'chat', steps: [{ weights: { v1: 90, v2: 20 } }] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('/steps/0/weights');
    const noModel = await t.call({ method: 'POST', url: '/v1/rollouts', payload: { name: 'bad', model: 'nope', steps: [{ weights: { v1: 100 } }] } });
    expect(noModel.json().errors[0].field).toBe('/model');
    const created = await t.call({
      method: 'POST',
      url: '/v1/rollouts',
      payload: { name: 'canary', model: 'chat', steps: [{ weights: { v1: 90, v2: 10 }, pauseSeconds: 300 }, { weights: { v1: 50, v2: 50 } }, { weights: { v1: 0, v2: 100 } }] },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().status).toEqual({ phase: 'Pending', currentStep: -1 });
    // the progress is server-owned: clients cannot write it
    const forged = await t.call({ method: 'POST', url: '/v1/rollouts', payload: { name: 'x', model: 'chat', steps: [{ weights: { v1: 100, v2: 0 } }], progress: { phase: 'Completed' } } });
    expect(forged.statusCode).toBe(400);
    const steps: [string, number][][] = [];
    for (let i = 0; i < 3; i++) {
      const before = t.store.revision;
      const r = await t.call({ method: 'POST', url: '/v1/rollouts/canary/advance', payload: { reason: `step ${i}` } });
      expect(r.statusCode).toBe(200);
      expect(t.store.revision).toBe(before + 1);
      expect(r.json().status).toMatchObject({ phase: i === 2 ? 'Completed' : 'Progressing', currentStep: i, baseline: { v1: 100, v2: 0 } });
      steps.push((await weights()) as [string, number][]);
      const audit = (await t.call({ method: 'GET', url: `/v1/audit?since=1970-01-01T00:00:00Z&limit=2` })).json().items;
      expect(audit.map((e: { kind: string; revision: number; reason: string }) => [e.kind, e.revision, e.reason]).sort()).toEqual([
        ['models', before + 1, `step ${i}`],
        ['rollouts', before + 1, `step ${i}`],
      ]);
    }
    expect(steps).toEqual([
      [['v1', 90], ['v2', 10]],
      [['v1', 50], ['v2', 50]],
      [['v1', 0], ['v2', 100]],
    ]);
    expect((await t.call({ method: 'POST', url: '/v1/rollouts/canary/advance' })).statusCode).toBe(409);
    expect((await t.call({ method: 'POST', url: '/v1/rollouts/canary/advance', token: t.viewer })).statusCode).toBe(403);
    expect((await t.call({ method: 'POST', url: '/v1/rollouts/nope/advance' })).statusCode).toBe(404);
  });

  it('aborts a rollout back to its baseline, and allows one progressing rollout per model', async () => {
    const etag = (await t.call({ method: 'GET', url: '/v1/models/chat' })).headers['etag'] as string;
    await t.call({ method: 'PUT', url: '/v1/models/chat/weights', payload: { v1: 100, v2: 0 }, headers: { 'if-match': etag } });
    await t.call({ method: 'POST', url: '/v1/rollouts', payload: { name: 'r1', model: 'chat', steps: [{ weights: { v1: 80, v2: 20 } }, { weights: { v1: 0, v2: 100 } }] } });
    await t.call({ method: 'POST', url: '/v1/rollouts', payload: { name: 'r2', model: 'chat', steps: [{ weights: { v1: 70, v2: 30 } }, { weights: { v1: 0, v2: 100 } }] } });
    const r1 = await t.call({ method: 'POST', url: '/v1/rollouts/r1/advance' });
    expect(await weights()).toEqual([['v1', 80], ['v2', 20]]);
    expect((await t.call({ method: 'POST', url: '/v1/rollouts/r2/advance' })).statusCode).toBe(409);
    // If-Match on actions
    expect((await t.call({ method: 'POST', url: '/v1/rollouts/r1/abort', headers: { 'if-match': '"1"' } })).statusCode).toBe(412);
    const abort = await t.call({ method: 'POST', url: '/v1/rollouts/r1/abort', headers: { 'if-match': r1.headers['etag'] as string } });
    expect(abort.statusCode).toBe(200);
    expect(abort.json().status).toMatchObject({ phase: 'Aborted', message: expect.stringMatching(/baseline/) });
    expect(await weights()).toEqual([['v1', 100], ['v2', 0]]);
    expect((await t.call({ method: 'POST', url: '/v1/rollouts/r1/abort' })).statusCode).toBe(409);
    // a rollout's plan can be edited (PUT) without touching its progress
    const r2 = (await t.call({ method: 'GET', url: '/v1/rollouts/r2' })).json();
    const put = await t.call({ method: 'PUT', url: '/v1/rollouts/r2', payload: { ...r2, steps: [{ weights: { v1: 60, v2: 40 } }] }, headers: { 'if-match': `"${r2.metadata.resourceVersion}"` } });
    expect(put.statusCode).toBe(200);
    expect(put.json().status).toEqual({ phase: 'Pending', currentStep: -1 });
    expect((await t.call({ method: 'POST', url: '/v1/rollouts/r2/advance' })).json().status.phase).toBe('Completed');
    expect(await weights()).toEqual([['v1', 60], ['v2', 40]]);
  });
});

describe('the controller-provided candidate check', () => {
  it('turns a typed refusal into a 400 and writes nothing; a plain bug stays a 500', async () => {
    class TranslateError extends Error {
      readonly code = 'INCONSISTENT';
    }
    let mode: 'typed' | 'bug' | 'ok' = 'typed';
    const t = await buildTestApp({
      dlpConfigSchema: false,
      validateCandidate: (candidate) => {
        if (candidate.resources.models.length === 0) return;
        if (mode === 'typed') throw new TranslateError('route chat names missing cluster chat-v9');
        if (mode === 'bug') throw new TypeError('x is undefined');
      },
    });
    const before = t.store.revision;
    const r = await t.call({ method: 'POST', url: '/v1/models', payload: chatModel() });
    expect(r.statusCode).toBe(400);
    expect(r.json().detail).toMatch(/cannot be built from this change: route chat names missing cluster/);
    mode = 'bug';
    const bug = await t.call({ method: 'POST', url: '/v1/models', payload: chatModel() });
    expect(bug.statusCode).toBe(500);
    expect(bug.json().detail).not.toMatch(/undefined/);
    expect(t.store.revision).toBe(before);
    mode = 'ok';
    expect((await t.call({ method: 'POST', url: '/v1/models', payload: chatModel() })).statusCode).toBe(201);
    await t.close();
  });
});
