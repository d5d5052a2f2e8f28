import { afterEach, describe, expect, it, vi } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '../../../control-plane/src/gen/envoy/config/route/v3/route_pb.js';
import { TypeUrl, createPublisher, createSnapshotCache, type PublishResult, type SnapshotInput } from './support.js';
import { meshResources } from './fixtures.js';
import { startHarness } from './harness.js';
import { SotwAdsClient } from '../../xds-clients/sotw-ads-client.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('createPublisher (debounce)', () => {
  it('coalesces a burst into one publish after the quiet window', async () => {
    vi.useFakeTimers();
    const cache = createSnapshotCache();
    const builds: number[][] = [];
    const results: PublishResult[] = [];
    let n = 0;
    const p = createPublisher<number>({
      cache,
      quietMs: 100,
      maxDelayMs: 1000,
      build: (changes) => {
        builds.push([...changes]);
        return new Map<string, SnapshotInput>([['g', { version: `v${++n}`, resources: meshResources({ weights: [n, 100 - n] }) }]]);
      },
      onPublish: (r) => results.push(r),
    });
    for (let i = 0; i < 5; i++) {
      p.notify(i);
      await vi.advanceTimersByTimeAsync(50);
    }
    expect(builds).toEqual([]);
    expect(p.pending).toBe(5);
    await vi.advanceTimersByTimeAsync(100);
    expect(builds).toEqual([[0, 1, 2, 3, 4]]);
    expect(results[0]).toMatchObject({ changes: 5, published: [{ group: 'g', version: 'v1' }], error: undefined });
    expect(cache.getSnapshot('g')!.version).toBe('v1');
  });

  it('publishes at the maximum delay even if changes keep coming', async () => {
    vi.useFakeTimers();
    const cache = createSnapshotCache();
    let builds = 0;
    const p = createPublisher<string>({
      cache,
      quietMs: 100,
      maxDelayMs: 300,
      build: () => new Map([['g', { version: `v${++builds}`, resources: meshResources({ weights: [builds, 1] }) }]]),
    });
    for (let t = 0; t < 10; t++) {
      p.notify('c');
      await vi.advanceTimersByTimeAsync(60);
    }
    // 600 ms of continuous changes with a 300 ms cap: two publishes so far.
    expect(builds).toBe(2);
    p.close();
  });

  it('refuses the whole batch when one group is inconsistent, naming group, resource and reason; previous snapshots keep serving', async () => {
    const cache = createSnapshotCache();
    const p = createPublisher<string>({
      cache,
      build: (changes) =>
        new Map<string, SnapshotInput>([
          ['a', { version: changes.join('+'), resources: meshResources() }],
          [
            'b',
            {
              version: changes.join('+'),
              resources: changes.includes('break')
                ? meshResources().map((m) =>
                    m.$typeName === 'envoy.config.route.v3.RouteConfiguration'
                      ? create(RouteConfigurationSchema, {
                          name: 'routes',
                          virtualHosts: [{ name: 'v', domains: ['*'], routes: [{ match: { pathSpecifier: { case: 'prefix', value: '/' } }, action: { case: 'route', value: { clusterSpecifier: { case: 'cluster', value: 'ghost' } } } }] }],
                        })
                      : m,
                  )
                : meshResources(),
            },
          ],
        ]),
    });
    p.notify('first');
    const ok = await p.flush();
    expect(ok.published.map((x) => x.group)).toEqual(['a', 'b']);
    p.notify('break');
    const refused = await p.flush();
    expect(refused.published).toEqual([]);
    expect(refused.refusedGroup).toBe('b');
    expect(refused.error?.code).toBe('INCONSISTENT_SNAPSHOT');
    expect(refused.error?.message).toMatch(/^group "b": RDS "routes": .*names cluster "ghost"/);
    expect(refused.error?.typeUrl).toBe(TypeUrl.RouteConfiguration);
    expect(cache.getSnapshot('a')!.version).toBe('first');
    expect(cache.getSnapshot('b')!.version).toBe('first');
  });

  it('rejects bad timing options with the fields named', () => {
    expect(() => createPublisher({ cache: createSnapshotCache(), build: () => new Map(), quietMs: 500, maxDelayMs: 100 })).toThrow(/^quietMs\/maxDelayMs: /);
  });

  it('end to end: a burst of 25 changes reaches a connected Envoy as ONE push of the last state', async () => {
    const h = await startHarness();
    let n = 0;
    const p = createPublisher<number>({
      cache: h.cache,
      quietMs: 50,
      maxDelayMs: 2000,
      build: (changes) => new Map([['role=sidecar', { version: `b${++n}`, resources: meshResources({ weights: [changes.at(-1) ?? 1, 100] }) }]]),
    });
    p.notify(0);
    await p.flush();
    const c = await SotwAdsClient.connect({ address: h.address, node: { id: 'burst', metadata: { role: 'sidecar' } } });
    c.subscribe(TypeUrl.RouteConfiguration, ['routes']);
    expect((await c.responses.next()).versionInfo).toBe('b1');
    for (let i = 1; i <= 25; i++) {
      p.notify(i);
      await new Promise((r) => setTimeout(r, 5));
    }
    const push = await c.responses.next(() => true, 3000);
    expect(push.versionInfo).toBe('b2');
    const route = push.resources.get('routes') as unknown as { virtualHosts: Array<{ routes: Array<{ action: { value: { clusterSpecifier: { value: { clusters: Array<{ weight: number }> } } } } }> }> };
    expect(route.virtualHosts[0]!.routes[0]!.action.value.clusterSpecifier.value.clusters[0]!.weight).toBe(25);
    await c.responses.none(() => true, 200);
    p.close();
    c.close();
    await h.close();
  });
});
