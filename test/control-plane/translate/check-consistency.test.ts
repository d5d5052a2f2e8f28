/** checkConsistency finds every broken reference and names the resource and field. */
import { describe, expect, it } from 'vitest';
import { clone } from '@bufbuild/protobuf';
import { sampleModel } from '../model/fixtures.js';
import { checkConsistency, formatConsistencyError, translateAll, type TranslatedResources } from '../../../control-plane/src/translate/index.js';
import { ClusterSchema } from '../../../control-plane/src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ListenerSchema } from '../../../control-plane/src/gen/envoy/config/listener/v3/listener_pb.js';

const now = new Date('2026-11-25T10:00:00Z');
const gw = (): TranslatedResources => translateAll(sampleModel(), { role: 'gateway', workload: 'gw/edge' }, { now });
const found = (r: TranslatedResources) => checkConsistency(r).map(formatConsistencyError);

describe('checkConsistency', () => {
  it('accepts every translated group', () => {
    expect(found(gw())).toEqual([]);
  });

  it.each<[string, (r: TranslatedResources) => TranslatedResources, RegExp[]]>([
    ['missing route configuration', (r) => ({ ...r, routes: [] }), [/^Listener "gateway\|8443" filter_chains\[0\]\.filters\[0\]\.rds: route configuration "gateway\|8443" does not exist$/]],
    [
      'missing cluster',
      (r) => ({ ...r, clusters: r.clusters.filter((c) => c.name !== 'model|chat|v2') }),
      [/^RouteConfiguration "gateway\|8443" virtual_hosts\[0\]\.routes\[\d+\]\.route\.(cluster|weighted_clusters\.clusters\[1\]): cluster "model\|chat\|v2" does not exist$/],
    ],
    ['missing ClusterLoadAssignment', (r) => ({ ...r, endpoints: r.endpoints.filter((e) => e.clusterName !== 'model|embed|v1') }), [/^Cluster "model\|embed\|v1" eds_cluster_config: ClusterLoadAssignment "model\|embed\|v1" does not exist$/]],
    ['missing ECDS resource', (r) => ({ ...r, extensionConfigs: r.extensionConfigs.filter((e) => e.name !== 'meshward.dlp') }), [/http_filters\[2\]: extension config "meshward\.dlp" does not exist$/]],
    [
      'duplicate cluster',
      (r) => ({ ...r, clusters: [...r.clusters, clone(ClusterSchema, r.clusters[0]!)] }),
      [/^Cluster "model\|chat\|v1" name: two Cluster resources are named "model\|chat\|v1"$/],
    ],
    [
      'secret missing from secretNames',
      (r) => ({ ...r, secretNames: ['default'] }),
      [/^Cluster "model\|chat\|v1" transport_socket\.common_tls_context\.combined_validation_context\.validation_context_sds_secret_config: secret "ROOTCA" is missing from secretNames$/],
    ],
  ])('reports a %s', (_label, breakIt, expected) => {
    const errs = found(breakIt(gw()));
    expect(errs.length).toBeGreaterThanOrEqual(1);
    for (const re of expected) expect(errs.some((e) => re.test(e)), `${errs.join('\n')}`).toBe(true);
  });

  it('reports SDS names nobody serves when per-identity names differ', () => {
    const errs = checkConsistency(gw(), { perIdentitySecrets: ['spiffe-cert'] });
    expect(errs.some((e) => e.type === 'Listener' && /secret "default" is not served/.test(e.reason))).toBe(true);
    expect(errs.some((e) => e.type === 'Cluster' && e.name === 'model|chat|v1' && /secret "ROOTCA" is not served/.test(e.reason))).toBe(true);
  });

  it('reports a transport-protocol match without tls_inspector and a router that is not last', () => {
    const r = translateAll({ ...sampleModel(), mesh: { ...sampleModel().mesh, mtlsMode: 'PERMISSIVE' } }, { role: 'gateway', workload: 'gw/edge' }, { now });
    const l = clone(ListenerSchema, r.listeners[0]!);
    l.listenerFilters = [];
    expect(found({ ...r, listeners: [l] })).toContain('Listener "gateway|8443" listener_filters: filter chains match on transport_protocol but there is no tls_inspector');
  });

  it('reports a per-route filter config for a filter no listener has', () => {
    const m = sampleModel();
    // The legacy gateway exposes only `embed`; route configs built for all models but served by it
    // would reference meshward.dlp.chat, which its HCM lacks.
    const legacy = translateAll(m, { role: 'gateway', labels: { app: 'legacy' } }, { now });
    const full = gw();
    const mixed = { ...legacy, routes: full.routes, clusters: full.clusters, endpoints: full.endpoints };
    expect(found(mixed).some((e) => /no listener using this route has an HTTP filter "meshward\.dlp\.chat"/.test(e))).toBe(true);
  });
});
