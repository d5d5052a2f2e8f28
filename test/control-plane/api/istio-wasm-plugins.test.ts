/** GET /v1/dlp-policies/{name}/wasm-plugin through inject(): admin only, 404, 400 naming the parameter. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from './helper.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
  expect((await t.call({ method: 'POST', url: '/v1/filter-modules', payload: { name: 'default', source: { kind: 'local', path: '/m.wasm' } } })).statusCode).toBe(201);
  const res = await t.call({
    method: 'POST',
    url: '/v1/dlp-policies',
    payload: { name: 'global', scope: { kind: 'global' }, config: { detectors: { email: 'redact' } }, failureMode: 'FAIL_OPEN' },
  });
  expect(res.statusCode).toBe(201);
});
afterAll(() => t.close());

const url = (q: string) => `/v1/dlp-policies/global/wasm-plugin?${q}`;

describe('GET /v1/dlp-policies/{name}/wasm-plugin', () => {
  it('answers the WasmPlugin for the stored policy', async () => {
    const res = await t.call({ method: 'GET', url: url('url=oci://ghcr.io/acme/meshward-filter:0.1.0&namespace=ai&selector=app=chat,tier=model&ports=8000&priority=3') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      apiVersion: 'extensions.istio.io/v1alpha1',
      kind: 'WasmPlugin',
      metadata: { name: 'meshward-global', namespace: 'ai' },
      spec: {
        selector: { matchLabels: { app: 'chat', tier: 'model' } },
        phase: 'STATS',
        priority: 3,
        failStrategy: 'FAIL_OPEN',
        match: [{ mode: 'SERVER', ports: [{ number: 8000 }] }],
        pluginConfig: { detectors: { email: 'redact' } },
      },
    });
  });

  it('is admin only (the config may hold secrets)', async () => {
    expect((await t.call({ method: 'GET', url: url('url=oci://r/x:1'), token: t.viewer })).statusCode).toBe(403);
    expect((await t.call({ method: 'GET', url: url('url=oci://r/x:1'), token: null })).statusCode).toBe(401);
  });

  it('404 for an unknown policy; 400 naming the parameter for bad options', async () => {
    expect((await t.call({ method: 'GET', url: '/v1/dlp-policies/nope/wasm-plugin?url=oci://r/x:1' })).statusCode).toBe(404);
    for (const [q, field] of [
      ['url=https://x/y.wasm', 'sha256'],
      ['url=ftp://x/y', 'url'],
      ['url=oci://r/x:1&selector=novalue', 'selector'],
      ['url=oci://r/x:1&ports=0', 'ports'],
      ['url=oci://r/x:1&phase=LATE', 'phase'],
      ['', 'url'],
    ] as const) {
      const res = await t.call({ method: 'GET', url: url(q) });
      expect(res.statusCode, q).toBe(400);
      expect(JSON.stringify(res.json()), q).toContain(field);
    }
  });
});
