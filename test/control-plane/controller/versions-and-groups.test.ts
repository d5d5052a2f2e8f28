import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { groupKeyOf, parseGroupKey, UNRESOLVED_GROUP } from '../../../control-plane/src/controller/node-group-key.js';
import { nextWindowFlip, revisionOfVersion, snapshotVersion } from '../../../control-plane/src/controller/snapshot-version.js';
import { createTypeVersionFile, seedSnapshot, typeVersionsOf } from '../../../control-plane/src/controller/type-versions.js';
import { createMeshModel, type MeshModel } from '../../../control-plane/src/model/index.js';
import { createSnapshot } from '../../../control-plane/src/xds/snapshot.js';
import { createSnapshotCache } from '../../../control-plane/src/xds/snapshot-cache.js';
import { TypeUrl } from '../../../control-plane/src/xds/type-urls.js';
import { create } from '@bufbuild/protobuf';
import { ClusterSchema } from '../../../control-plane/src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { RouteConfigurationSchema } from '../../../control-plane/src/gen/envoy/config/route/v3/route_pb.js';
import { createNodeFromMetadata } from './helpers.js';

describe('node group keys', () => {
  it.each([
    [{ role: 'gateway', 'meshward.workload': 'gw/edge', labels: { app: 'x' } }, 'role=gateway;workload=gw/edge', { role: 'gateway', workload: 'gw/edge' }],
    [{ 'meshward.workload': 'gw/edge' }, 'role=*;workload=gw/edge', { role: undefined, workload: 'gw/edge' }],
    [{ 'meshward.role': 'sidecar', labels: { tier: 'gold', app: 'chat' } }, 'role=sidecar;labels=app=chat,tier=gold', { role: 'sidecar', labels: { app: 'chat', tier: 'gold' } }],
    [{ role: 'proxyless', labels: { 'a,b': 'c=d;e' } }, 'role=proxyless;labels=a%2Cb=c%3Dd%3Be', { role: 'proxyless', labels: { 'a,b': 'c=d;e' } }],
    [{ role: 'gateway' }, 'role=gateway;labels=', { role: 'gateway', labels: {} }],
    [{ role: 'ingress' }, UNRESOLVED_GROUP, undefined],
    [{}, UNRESOLVED_GROUP, undefined],
    [{ 'meshward.workload': 'not a workload' }, UNRESOLVED_GROUP, undefined],
  ] as const)('%j → %s', (metadata, key, selector) => {
    expect(groupKeyOf(createNodeFromMetadata(metadata as never))).toBe(key);
    expect(parseGroupKey(key)).toEqual(selector);
  });
});

function windowed(): MeshModel {
  return {
    ...createMeshModel('meshward.test'),
    authorizationPolicies: [
      { name: 'a', rules: [{ to: ['infer'], when: [{ start: '09:00', end: '17:00' }] }, { to: ['read_models'] }] },
      { name: 'b', rules: [{ to: ['admin'], when: [{ start: '22:00', end: '06:00' }, { days: ['sat'], start: '00:00', end: '24:00' }] }] },
    ],
  };
}

describe('snapshot versions', () => {
  it('is the store revision without time windows, and revision + open-window bits with them', () => {
    expect(snapshotVersion(42, createMeshModel('meshward.test'), new Date())).toBe('42');
    expect(snapshotVersion(42, windowed(), new Date('2026-11-23T10:00:00Z'))).toBe('42.w100'); // Monday 10:00 UTC
    expect(snapshotVersion(42, windowed(), new Date('2026-11-28T23:00:00Z'))).toBe('42.w011'); // Saturday 23:00 UTC
    expect(revisionOfVersion('42.w011')).toBe(42);
    expect(revisionOfVersion('42')).toBe(42);
    expect(revisionOfVersion('abc')).toBeNaN();
    expect(nextWindowFlip(windowed(), new Date('2026-11-23T10:00:00Z'))?.toISOString()).toBe('2026-11-23T17:00:00.000Z');
    expect(nextWindowFlip(createMeshModel('meshward.test'), new Date())).toBeUndefined();
  });
});

describe('per-type versions across restarts', () => {
  const cluster = (name: string) => create(ClusterSchema, { name, connectTimeout: { seconds: 1n } });
  const routes = (weight: number) => create(RouteConfigurationSchema, { name: 'r', virtualHosts: [{ name: 'vh', domains: [`w${weight}`] }] });

  it('a fresh process serves unchanged types under the versions recorded before the restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-versions-'));
    try {
      // process 1: revision 3 publishes clusters + routes, revision 5 changes only the routes
      const file1 = createTypeVersionFile(join(dir, 'v.json'));
      const cache1 = createSnapshotCache();
      cache1.setSnapshot('g', createSnapshot({ version: '3', resources: [cluster('a'), routes(1)] }, { consistencyCheck: false }));
      const s5 = cache1.setSnapshot('g', createSnapshot({ version: '5', resources: [cluster('a'), routes(2)] }, { consistencyCheck: false }));
      expect(s5.type(TypeUrl.Cluster).version).toBe('3');
      file1.record([['g', typeVersionsOf(s5)]]);
      expect(JSON.parse(readFileSync(join(dir, 'v.json'), 'utf8')).groups.g[TypeUrl.Cluster]).toMatchObject({ version: '3' });

      // process 2: same content at revision 5
      const file2 = createTypeVersionFile(join(dir, 'v.json'));
      const fresh = createSnapshot({ version: '5', resources: [cluster('a'), routes(2)] }, { consistencyCheck: false });
      expect(fresh.type(TypeUrl.Cluster).version).toBe('5');
      const seeded = createSnapshotCache().setSnapshot('g', seedSnapshot(fresh, file2.get('g')));
      expect(seeded.version).toBe('5');
      expect(seeded.type(TypeUrl.Cluster).version).toBe('3');
      expect(seeded.type(TypeUrl.RouteConfiguration).version).toBe('5');
      expect(seeded.type(TypeUrl.Cluster).sotwBody(undefined)).toEqual(s5.type(TypeUrl.Cluster).sotwBody(undefined));

      // content that changed while down is not relabelled
      const changed = createSnapshot({ version: '6', resources: [cluster('b'), routes(2)] }, { consistencyCheck: false });
      const reseeded = seedSnapshot(changed, file2.get('g'));
      expect(reseeded.type(TypeUrl.Cluster).version).toBe('6');
      expect(reseeded.type(TypeUrl.RouteConfiguration).version).toBe('5');
      // no record: unchanged
      expect(seedSnapshot(changed, undefined)).toBe(changed);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing or corrupt record file means no seeding, reported once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-versions-'));
    try {
      const errors: unknown[] = [];
      expect(createTypeVersionFile(join(dir, 'none.json'), (e) => errors.push(e)).get('g')).toBeUndefined();
      expect(errors).toEqual([]);
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, '{not json');
      expect(createTypeVersionFile(bad, (e) => errors.push(e)).get('g')).toBeUndefined();
      expect(errors).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
