/**
 * GET /v1/controller over a real controller (in-memory store and snapshot cache): the published
 * revision, groups with their per-type versions, failing groups with their error, a refused
 * publish, and the access rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createController, type Controller } from '../../../control-plane/src/controller/controller.js';
import { ControllerError } from '../../../control-plane/src/controller/controller-error.js';
import { groupSnapshotInput } from '../../../control-plane/src/controller/group-snapshot.js';
import { groupKeyOf } from '../../../control-plane/src/controller/node-group-key.js';
import { createStore, type Store } from '../../../control-plane/src/store/store.js';
import { createSnapshotCache } from '../../../control-plane/src/xds/snapshot-cache.js';
import { buildTestApp, chatModel, type TestApp } from './helper.js';

const EDGE = 'role=gateway;workload=ai/edge';
const EDGE2 = 'role=gateway;workload=ai/edge2';

describe('GET /v1/controller', () => {
  let store: Store;
  let controller: Controller;
  let t: TestApp;
  /** Builds of `ai/edge` fail while a model named "broken" exists (a translation the candidate check did not foresee). */
  const build: typeof groupSnapshotInput = (model, key, selector, options) => {
    if (key === EDGE && model.models.some((m) => m.name === 'broken')) {
      throw new ControllerError('UNTRANSLATABLE', `group "${key}": model "broken" cannot be translated`, { group: key });
    }
    return groupSnapshotInput(model, key, selector, options);
  };

  beforeAll(async () => {
    store = createStore({ path: ':memory:' });
    controller = createController({ store, cache: createSnapshotCache({ groupOf: groupKeyOf }), defaultTrustDomain: 'mesh.test', quietMs: 1, maxDelayMs: 5, groupSnapshot: build });
    t = await buildTestApp({ store, controller, dlpConfigSchema: false });
    store.commit(
      [
        { op: 'create', kind: 'models', name: 'chat', spec: chatModel() },
        { op: 'create', kind: 'workloads', name: 'ai/edge', spec: { name: 'edge', namespace: 'ai', serviceAccount: 'edge', role: 'gateway' } },
        { op: 'create', kind: 'workloads', name: 'ai/edge2', spec: { name: 'edge2', namespace: 'ai', serviceAccount: 'edge2', role: 'gateway', models: ['chat'] } },
      ],
      { actor: 'test' },
    );
    await controller.start();
  });
  afterAll(async () => {
    controller.stop();
    await t.close();
  });

  it('reports the published revision, when, and each group with its snapshot and per-type versions', async () => {
    const res = await t.call({ method: 'GET', url: '/v1/controller', token: t.viewer });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const rev = String(store.revision);
    expect(body).toMatchObject({ storeRevision: store.revision, publishedRevision: store.revision, inSyncWithStore: true, failingGroups: [] });
    expect(body.error).toBeUndefined();
    expect(Date.parse(body.lastPublishedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(body.groups).toEqual([
      { group: EDGE, version: rev, types: { CDS: rev, EDS: rev, LDS: rev, RDS: rev, ECDS: rev }, connectedStreams: 0 },
      { group: EDGE2, version: rev, types: { CDS: rev, EDS: rev, LDS: rev, RDS: rev, ECDS: rev }, connectedStreams: 0 },
    ]);
    // the OpenAPI document describes it
    const doc = (await t.call({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.paths['/v1/controller'].get.responses['200']).toBeDefined();
    expect(doc.paths['/v1/controller'].get.security).toEqual([{ bearerAuth: [] }]);
  });

  it('names a group that cannot be built, with its error, while its previous snapshot keeps serving', async () => {
    const before = (await t.call({ method: 'GET', url: '/v1/controller' })).json();
    const edgeBefore = before.groups.find((g: { group: string }) => g.group === EDGE);
    // written past the candidate check (e.g. by an older control plane)
    const { revision } = store.commit([{ op: 'create', kind: 'models', name: 'broken', spec: chatModel('broken') }], { actor: 'test' });
    await controller.flush();
    const body = (await t.call({ method: 'GET', url: '/v1/controller' })).json();
    expect(body.failingGroups).toEqual([
      { group: EDGE, version: edgeBefore.version, error: { code: 'UNTRANSLATABLE', message: `group "${EDGE}": model "broken" cannot be translated`, revision } },
    ]);
    const edge = body.groups.find((g: { group: string }) => g.group === EDGE);
    expect(edge).toMatchObject({ version: edgeBefore.version, types: edgeBefore.types, error: { code: 'UNTRANSLATABLE', revision } });
    // ai/edge2 routes only "chat": it was published at the new revision, its types unchanged
    const edge2 = body.groups.find((g: { group: string }) => g.group === EDGE2);
    expect(edge2).toMatchObject({ version: String(revision), types: edgeBefore.types });
    expect(edge2.error).toBeUndefined();
    store.commit([{ op: 'delete', kind: 'models', name: 'broken' }], { actor: 'test' });
    await controller.flush();
    expect((await t.call({ method: 'GET', url: '/v1/controller' })).json().failingGroups).toEqual([]);
  });

  it('reports a refused publish (invalid stored model) as the error, with the store ahead of the published revision', async () => {
    const published = controller.status().publishedRevision;
    const { revision } = store.commit([{ op: 'update', kind: 'models', name: 'chat', spec: { ...chatModel(), versions: [] } }], { actor: 'test' });
    await controller.flush();
    const body = (await t.call({ method: 'GET', url: '/v1/controller' })).json();
    expect(body).toMatchObject({ storeRevision: revision, publishedRevision: published, inSyncWithStore: false, error: { code: 'INVALID_MODEL', revision } });
    expect(body.error.message).toMatch(/invalid/);
    expect(Date.parse(body.lastPublishAt)).toBeGreaterThanOrEqual(Date.parse(body.lastPublishedAt));
    store.commit([{ op: 'update', kind: 'models', name: 'chat', spec: chatModel() }], { actor: 'test' });
    await controller.flush();
    expect((await t.call({ method: 'GET', url: '/v1/controller' })).json()).toMatchObject({ inSyncWithStore: true });
  });

  it('needs a token (401) and answers 503 when the API runs without a controller', async () => {
    const anon = await t.call({ method: 'GET', url: '/v1/controller', token: null });
    expect(anon.statusCode).toBe(401);
    expect(anon.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await t.call({ method: 'GET', url: '/v1/controller', token: 'mw_0000000000000000_' + 'A'.repeat(43) })).statusCode).toBe(401);
    expect(t.app.meshwardRoutes).toContainEqual({ method: 'GET', url: '/v1/controller', access: 'viewer' });
    const bare = await buildTestApp({ dlpConfigSchema: false });
    try {
      const res = await bare.call({ method: 'GET', url: '/v1/controller', token: bare.viewer });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 503, code: 'UNAVAILABLE', detail: expect.stringMatching(/no controller/) });
    } finally {
      await bare.close();
    }
  });
});
