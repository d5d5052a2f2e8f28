import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../../control-plane/src/ca/clock.js';
import { createController, type Controller } from '../../../control-plane/src/controller/controller.js';
import { groupKeyOf } from '../../../control-plane/src/controller/node-group-key.js';
import { groupSnapshotInput } from '../../../control-plane/src/controller/group-snapshot.js';
import { gatewayListenerName } from '../../../control-plane/src/translate/names.js';
import type { Message } from '@bufbuild/protobuf';
import { createModelValidator } from '../../../control-plane/src/api/model-bridge.js';
import { createStore, type Change, type Store } from '../../../control-plane/src/store/store.js';
import { StoreError } from '../../../control-plane/src/store/store-error.js';
import { createSnapshotCache, type SnapshotCache } from '../../../control-plane/src/xds/snapshot-cache.js';
import { TypeUrl } from '../../../control-plane/src/xds/type-urls.js';
import { createNodeFromMetadata } from './helpers.js';

const TD = 'meshward.test';

interface Rig {
  store: Store;
  cache: SnapshotCache;
  controller: Controller;
  clock: ManualClock;
  commit(changes: Change[]): number;
  published: Array<{ revision: number; groups: string[]; error?: string }>;
}

let rigs: Rig[] = [];
afterEach(() => {
  for (const r of rigs) {
    r.controller.stop();
    r.store.close();
  }
  rigs = [];
});

function rig(
  startMs = Date.parse('2026-11-23T07:59:30Z') /* a Monday, 08:59:30 in Paris */,
  groupSnapshot: typeof groupSnapshotInput = groupSnapshotInput,
): Rig {
  const store = createStore({ path: ':memory:' });
  const cache = createSnapshotCache({ groupOf: groupKeyOf });
  const clock = createManualClock(startMs);
  const published: Rig['published'] = [];
  const controller = createController({
    store,
    cache,
    clock,
    defaultTrustDomain: TD,
    quietMs: 5,
    maxDelayMs: 20,
    groupSnapshot,
    onPublish: (result, status) =>
      published.push({ revision: status.storeRevision, groups: result.published.map((p) => p.group), ...(result.error ? { error: result.error.message } : {}) }),
  });
  const modelCheck = createModelValidator({ defaultTrustDomain: TD, current: () => store.snapshot() });
  const r: Rig = {
    store,
    cache,
    controller,
    clock,
    published,
    commit(changes) {
      return store.commit(changes, {
        actor: 'test',
        validate: (c, ch) => {
          modelCheck(c, ch);
          controller.validateCandidate(c, ch);
        },
      }).revision;
    },
  };
  rigs.push(r);
  return r;
}

const mesh: Change = { op: 'create', kind: 'mesh', name: 'mesh', spec: { trustDomain: TD } };
const edge = { name: 'edge', namespace: 'gw', serviceAccount: 'edge', role: 'gateway', labels: { app: 'edge' } };
const chat = (w1: number, w2: number) => ({
  name: 'chat',
  modelNames: ['chat'],
  versions: [
    { name: 'v1', weight: w1, endpoints: [{ address: '10.0.0.1', port: 8000 }] },
    { name: 'v2', weight: w2, endpoints: [{ address: '10.0.0.2', port: 8000 }] },
  ],
});
const GW = 'role=gateway;workload=gw/edge';

/** Waits for the debounced publish that follows a commit. */
async function settle(r: Rig, revision: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (r.controller.status().publishedRevision === revision) return;
    await new Promise((res) => setTimeout(res, 5));
  }
  throw new Error(`revision ${revision} was not published: ${JSON.stringify(r.controller.status())}`);
}

describe('controller', () => {
  it('publishes every workload group at the store revision on start, then follows commits (debounced)', async () => {
    const r = rig();
    const rev1 = r.commit([mesh, { op: 'create', kind: 'workloads', name: 'gw/edge', spec: edge }, { op: 'create', kind: 'models', name: 'chat', spec: chat(90, 10) }]);
    const started = await r.controller.start();
    expect(started.error).toBeUndefined();
    expect(started.published).toEqual([{ group: GW, version: String(rev1) }]);
    const snap = r.cache.getSnapshot(GW)!;
    expect([...snap.type(TypeUrl.Listener).resources.keys()]).toEqual([gatewayListenerName(8443)]);
    expect(snap.type(TypeUrl.Cluster).resources.size).toBe(2);

    // a burst of two commits → one publish at the last revision
    const before = r.published.length;
    r.commit([{ op: 'update', kind: 'models', name: 'chat', spec: chat(80, 20) }]);
    const rev3 = r.commit([{ op: 'update', kind: 'models', name: 'chat', spec: chat(50, 50) }]);
    await settle(r, rev3);
    expect(r.published.length).toBe(before + 1);
    const after = r.cache.getSnapshot(GW)!;
    expect(after.version).toBe(String(rev3));
    // only the routes changed: RDS carries the new revision, LDS/CDS keep theirs
    expect(after.type(TypeUrl.RouteConfiguration).version).toBe(String(rev3));
    expect(after.type(TypeUrl.Listener).version).toBe(String(rev1));
    expect(after.type(TypeUrl.Cluster).version).toBe(String(rev1));
  });

  it('refuses a change that would make a workload snapshot unservable, naming the workload; the previous snapshot keeps serving', async () => {
    const r = rig(undefined, poisonBuild);
    const rev = r.commit([mesh, { op: 'create', kind: 'workloads', name: 'gw/edge', spec: edge }, { op: 'create', kind: 'models', name: 'chat', spec: chat(90, 10) }]);
    await r.controller.start();
    const served = r.cache.getSnapshot(GW)!;
    expect(served.version).toBe(String(rev));

    let err: unknown;
    try {
      r.commit([{ op: 'create', kind: 'models', name: 'poison', spec: { ...chat(50, 50), name: 'poison', modelNames: ['poison'] } }]);
    } catch (e) {
      err = e;
    }
    expect(StoreError.is(err, 'INVALID')).toBe(true);
    const e = err as StoreError;
    // the xDS consistency check names the route and the missing cluster
    expect(e.message).toMatch(/^the change would produce an xDS snapshot that cannot be served for workload "gw\/edge": RDS "[^"]+": .*poison/);
    expect(e.issues[0]).toMatchObject({ resource: { kind: 'workloads', name: 'gw/edge' }, reason: expect.stringMatching(/would be inconsistent/) });
    expect(r.store.revision).toBe(rev);
    expect(r.store.get('models', 'poison')).toBeUndefined();
    await r.controller.flush();
    expect(r.cache.getSnapshot(GW)).toBe(served);
    // an unrelated change still goes through
    const next = r.commit([{ op: 'update', kind: 'models', name: 'chat', spec: chat(60, 40) }]);
    await settle(r, next);
    expect(r.cache.getSnapshot(GW)!.version).toBe(String(next));
  });

  it('keeps serving the last good snapshot of a group that cannot be built, reports it, and serves other groups', async () => {
    const r = rig(undefined, poisonBuild);
    const other = { name: 'edge2', namespace: 'gw', serviceAccount: 'edge2', role: 'gateway', models: ['chat'] };
    r.commit([
      mesh,
      { op: 'create', kind: 'workloads', name: 'gw/edge', spec: edge },
      { op: 'create', kind: 'workloads', name: 'gw/edge2', spec: other },
      { op: 'create', kind: 'models', name: 'chat', spec: chat(90, 10) },
    ]);
    await r.controller.start();
    const served = r.cache.getSnapshot(GW)!;
    // written without the candidate check (e.g. by an older control plane)
    const rev = r.store.commit([{ op: 'create', kind: 'models', name: 'poison', spec: { ...chat(50, 50), name: 'poison', modelNames: ['poison'] } }], { actor: 'test' }).revision;
    await r.controller.flush();
    const status = r.controller.status();
    expect(r.cache.getSnapshot(GW)).toBe(served);
    expect(status.groups.find((g) => g.group === GW)).toMatchObject({
      version: served.version,
      error: { code: 'INCONSISTENT', revision: rev, message: expect.stringMatching(/poison/) },
    });
    // gw/edge2 does not route to the poison model: it gets the new revision
    expect(r.cache.getSnapshot('role=gateway;workload=gw/edge2')!.version).toBe(String(rev));
    expect(status.groups.find((g) => g.group === 'role=gateway;workload=gw/edge2')!.error).toBeUndefined();
  });

  it('refuses to publish an invalid stored model as a whole and recovers when it is fixed', async () => {
    const r = rig();
    r.commit([mesh, { op: 'create', kind: 'workloads', name: 'gw/edge', spec: edge }, { op: 'create', kind: 'models', name: 'chat', spec: chat(90, 10) }]);
    await r.controller.start();
    const served = r.cache.getSnapshot(GW)!;
    r.store.commit([{ op: 'update', kind: 'models', name: 'chat', spec: { ...chat(90, 10), versions: [] } }], { actor: 'test' });
    const refused = await r.controller.flush();
    expect(refused.error?.message).toMatch(/stored model at revision \d+ is invalid/);
    expect(r.controller.status().error?.code).toBe('INVALID_MODEL');
    expect(r.cache.getSnapshot(GW)).toBe(served);
    const fixed = r.store.commit([{ op: 'update', kind: 'models', name: 'chat', spec: chat(70, 30) }], { actor: 'test' }).revision;
    await r.controller.flush();
    expect(r.controller.status().error).toBeUndefined();
    expect(r.cache.getSnapshot(GW)!.version).toBe(String(fixed));
  });

  it('flips time-windowed authorization rules at the window boundary (injected clock) with a new version', async () => {
    const r = rig(); // Monday 08:59:30 Europe/Paris
    const policy = {
      name: 'office-hours',
      rules: [{ from: [`spiffe://${TD}/*`], to: ['infer'], when: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00', timeZone: 'Europe/Paris' }] }],
    };
    const rev = r.commit([
      mesh,
      { op: 'create', kind: 'workloads', name: 'gw/edge', spec: edge },
      { op: 'create', kind: 'models', name: 'chat', spec: chat(90, 10) },
      { op: 'create', kind: 'authorization-policies', name: 'office-hours', spec: policy },
    ]);
    await r.controller.start();
    const closed = r.cache.getSnapshot(GW)!;
    expect(closed.version).toBe(`${rev}.w0`);
    expect(r.controller.status().nextWindowFlip?.toISOString()).toBe('2026-11-23T08:00:00.000Z');
    const rbacBefore = closed.type(TypeUrl.Listener).digest;

    await r.clock.advance(29_000); // 08:59:59: nothing yet
    expect(r.cache.getSnapshot(GW)).toBe(closed);
    await r.clock.advance(1_000); // 09:00:00 Paris: the window opens
    await settleVersion(r, `${rev}.w1`);
    const open = r.cache.getSnapshot(GW)!;
    expect(open.type(TypeUrl.Listener).digest).not.toBe(rbacBefore);
    expect(open.type(TypeUrl.Listener).version).toBe(`${rev}.w1`);
    expect(r.controller.status().nextWindowFlip?.toISOString()).toBe('2026-11-23T16:00:00.000Z');

    await r.clock.advance(8 * 3_600_000); // 17:00 Paris: closes again, same content as before
    await settleVersion(r, `${rev}.w0`);
    expect(r.cache.getSnapshot(GW)!.type(TypeUrl.Listener).digest).toBe(rbacBefore);
  });

  it('builds a label-matched group when its first stream connects, and authorizes nodes against the workload identity', async () => {
    const r = rig();
    r.commit([mesh, { op: 'create', kind: 'workloads', name: 'gw/edge', spec: edge }, { op: 'create', kind: 'models', name: 'chat', spec: chat(90, 10) }]);
    await r.controller.start();
    const byLabels = groupKeyOf(createNodeFromMetadata({ role: 'gateway', labels: { app: 'edge', pod: 'x' } }));
    expect(byLabels).toBe('role=gateway;labels=app=edge,pod=x');
    expect(r.cache.getSnapshot(byLabels)).toBeUndefined();
    // what the fleet's connect event triggers: the group is built on the next publish
    const fleet = fakeFleet();
    const c2 = createController({ store: r.store, cache: r.cache, clock: r.clock, defaultTrustDomain: TD, fleet });
    await c2.start();
    fleet.connect(byLabels);
    for (let i = 0; i < 100 && r.cache.getSnapshot(byLabels) === undefined; i++) await new Promise((res) => setTimeout(res, 5));
    expect(r.cache.getSnapshot(byLabels)!.version).toBe(String(r.store.revision));
    c2.stop();

    const own = { id: `spiffe://${TD}/ns/gw/sa/edge`, method: 'join-token' };
    const other = { id: `spiffe://${TD}/ns/apps/sa/intruder`, method: 'join-token' };
    const node = createNodeFromMetadata({ role: 'gateway', 'meshward.workload': 'gw/edge' }, 'edge-1');
    expect(() => r.controller.authorizeNode(own, node)).not.toThrow();
    expect(() => r.controller.authorizeNode(other, node)).toThrow(/asks for the configuration of workload "gw\/edge" .* authenticated as spiffe:\/\/meshward.test\/ns\/apps\/sa\/intruder/);
    expect(() => r.controller.authorizeNode(other, createNodeFromMetadata({ role: 'gateway', labels: { app: 'edge' } }))).toThrow(/PERMISSION|authenticated as/);
    // a node declaring another identity is refused by the CA's check
    expect(() => r.controller.authorizeNode(own, createNodeFromMetadata({ 'meshward.identity': other.id, 'meshward.workload': 'gw/edge' }))).toThrow(/does not match/);
    // nodes that resolve to no workload, several, or the wrong role get a reason
    expect(() => r.controller.authorizeNode(own, createNodeFromMetadata({}, 'bare'))).toThrow(/node "bare": its metadata must name its workload/);
    expect(() => r.controller.authorizeNode(own, createNodeFromMetadata({ 'meshward.workload': 'gw/nope' }, 'n'))).toThrow(/names workload "gw\/nope", which does not exist/);
    expect(() => r.controller.authorizeNode(own, createNodeFromMetadata({ role: 'sidecar', 'meshward.workload': 'gw/edge' }, 'n'))).toThrow(/says role sidecar, but workload "gw\/edge" has role gateway/);
    expect(() => r.controller.authorizeNode(own, createNodeFromMetadata({ role: 'gateway', labels: { app: 'other' } }, 'n'))).toThrow(/matches no workload/);
    // without an authenticator there is nothing to check against
    expect(() => r.controller.authorizeNode(undefined, createNodeFromMetadata({}))).not.toThrow();
  });
});

async function settleVersion(r: Rig, version: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (r.cache.getSnapshot(GW)?.version === version) return;
    await new Promise((res) => setTimeout(res, 5));
  }
  throw new Error(`version ${version} never published (have ${r.cache.getSnapshot(GW)?.version})`);
}

/** A FleetView stand-in that can emit `connect` for a group. */
function fakeFleet() {
  const listeners = new Set<(s: { group: string; nodeId: string; streamId: number }) => void>();
  const streams: Array<{ group: string }> = [];
  const view = {
    size: 0,
    streams: () => streams as never[],
    byNode: () => [],
    on(_e: string, l: never) {
      listeners.add(l);
      return view;
    },
    off(_e: string, l: never) {
      listeners.delete(l);
      return view;
    },
    connect(group: string) {
      streams.push({ group });
      for (const l of listeners) l({ group, nodeId: 'n', streamId: 1 });
    },
  };
  return view as typeof view & import('../../../control-plane/src/xds/fleet-view.js').FleetView;
}

/** translate/ as usual, but the clusters of a model named `poison` go missing (its routes then dangle). */
const poisonBuild: typeof groupSnapshotInput = (model, key, selector, options) => {
  const input = groupSnapshotInput(model, key, selector, options);
  if (!model.models.some((m) => m.name === 'poison')) return input;
  const resources = (input.resources as readonly Message[]).filter(
    (m) => !(m.$typeName === 'envoy.config.cluster.v3.Cluster' && (m as unknown as { name: string }).name.includes('poison')),
  );
  return { ...input, resources };
};
