import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, gatewayWorkload, type TestApp } from './helper.js';

describe('OpenAPI, docs, health and metrics', () => {
  let t: TestApp;
  const xdsRegistry = new Registry();
  const pushes = new Counter({ name: 'meshward_xds_pushes_total', help: 'test', registers: [xdsRegistry] });
  let ready: string | undefined = 'xds server not listening yet';
  beforeAll(async () => {
    t = await buildTestApp({ metricsRegistries: [xdsRegistry], notReadyReason: () => ready, dlpConfigSchema: false });
  });
  afterAll(async () => t.close());

  it('serves an OpenAPI 3 document describing every /v1 route with schemas and bearer auth', async () => {
    expect((await t.call({ method: 'GET', url: '/openapi.json', token: null })).statusCode).toBe(401);
    const r = await t.call({ method: 'GET', url: '/openapi.json', token: t.viewer });
    expect(r.statusCode).toBe(200);
    const doc = r.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${path}`);
    }
    for (const r of t.app.meshwardRoutes.filter((x) => x.url.startsWith('/v1/'))) {
      const openapiPath = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
      expect(documented.has(`${r.method} ${openapiPath}`), `${r.method} ${openapiPath}`).toBe(true);
    }
    const post = doc.paths['/v1/workloads'].post;
    expect(post.requestBody.content['application/json'].schema.properties.role.enum).toEqual(['gateway', 'sidecar', 'proxyless']);
    expect(post.responses['201'].content['application/json'].schema.properties.metadata).toBeDefined();
    expect(post.responses['409']).toBeDefined();
    expect(doc.paths['/healthz'].get.security).toBeUndefined();
  });

  it('renders the docs UI for a token holder', async () => {
    const html = await t.call({ method: 'GET', url: '/docs/', token: t.viewer });
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect((await t.call({ method: 'GET', url: '/docs/', token: null })).statusCode).toBe(401);
  });

  it('can serve docs publicly when asked', async () => {
    const pub = await buildTestApp({ publicDocs: true, dlpConfigSchema: false });
    expect((await pub.call({ method: 'GET', url: '/openapi.json', token: null })).statusCode).toBe(200);
    expect((await pub.call({ method: 'GET', url: '/docs/', token: null })).statusCode).toBe(200);
    expect((await pub.call({ method: 'GET', url: '/v1/workloads', token: null })).statusCode).toBe(401);
    await pub.close();
  });

  it('readyz follows the readiness check; healthz stays up', async () => {
    const notReady = await t.call({ method: 'GET', url: '/readyz', token: null });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().detail).toMatch(/xds server not listening/);
    ready = undefined;
    expect((await t.call({ method: 'GET', url: '/readyz', token: null })).statusCode).toBe(200);
    expect((await t.call({ method: 'GET', url: '/healthz', token: null })).statusCode).toBe(200);
  });

  it('exposes Prometheus metrics (token required): API requests, latency, config revision, and other modules', async () => {
    await t.call({ method: 'POST', url: '/v1/workloads', payload: gatewayWorkload() });
    await t.call({ method: 'GET', url: '/v1/workloads', token: null });
    pushes.inc(3);
    expect((await t.call({ method: 'GET', url: '/metrics', token: null })).statusCode).toBe(401);
    const r = await t.call({ method: 'GET', url: '/metrics', token: t.viewer });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.body).toContain('meshward_api_requests_total{method="POST",route="/v1/workloads",status="201"} 1');
    expect(r.body).toMatch(/meshward_api_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/v1\/workloads"\}/);
    expect(r.body).toContain(`meshward_config_revision ${t.store.revision}`);
    expect(r.body).toContain('meshward_config_changes_total{kind="workloads",op="create"} 1');
    expect(r.body).toContain('meshward_api_auth_failures_total{reason="missing"}');
    expect(r.body).toContain('meshward_xds_pushes_total 3');
  });
});
