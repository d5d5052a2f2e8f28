/**
 * The resource set of the xDS benchmark: 20 model services × 2 versions — 1 listener, 1 route
 * configuration (20 virtual hosts, weighted v1/v2 splits), 40 EDS clusters, 40 ClusterLoadAssignments
 * (3 endpoints each), 1 ECDS config. `split` is the weight of model-0's v2 (the change pushed).
 */
import { create, type Message } from '@bufbuild/protobuf';
import { anyPack, StringValueSchema } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../control-plane/src/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../control-plane/src/gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema, Cluster_DiscoveryType } from '../../control-plane/src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../control-plane/src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { TypedExtensionConfigSchema } from '../../control-plane/src/gen/envoy/config/core/v3/extension_pb.js';
import { HttpConnectionManagerSchema } from '../../control-plane/src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouterSchema } from '../../control-plane/src/gen/envoy/extensions/filters/http/router/v3/router_pb.js';

const SERVICES = 20;
const ads = { configSourceSpecifier: { case: 'ads' as const, value: {} } };
export const clusterNames: string[] = Array.from({ length: SERVICES }, (_, i) => [`model-${i}-v1`, `model-${i}-v2`]).flat();

export function benchResources(split: number): Message[] {
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: 'ingress',
    routeSpecifier: { case: 'rds', value: { routeConfigName: 'routes', configSource: ads } },
    httpFilters: [
      { name: 'meshward', configType: { case: 'configDiscovery', value: { configSource: ads, typeUrls: ['type.googleapis.com/google.protobuf.StringValue'] } } },
      { name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema)) } },
    ],
  });
  const out: Message[] = [
    create(ListenerSchema, {
      name: 'ingress',
      address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: 10000 } } } },
      filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) } }] }],
    }),
    create(RouteConfigurationSchema, {
      name: 'routes',
      virtualHosts: Array.from({ length: SERVICES }, (_, i) => ({
        name: `model-${i}`,
        domains: [`model-${i}.mesh.local`, `model-${i}`],
        routes: [
          {
            match: { pathSpecifier: { case: 'prefix' as const, value: '/' }, headers: [{ name: 'x-model-version', headerMatchSpecifier: { case: 'presentMatch' as const, value: false } }] },
            action: {
              case: 'route' as const,
              value: {
                timeout: { seconds: 30n },
                clusterSpecifier: {
                  case: 'weightedClusters' as const,
                  value: { clusters: [{ name: `model-${i}-v1`, weight: 100 - (i === 0 ? split : 10) }, { name: `model-${i}-v2`, weight: i === 0 ? split : 10 }] },
                },
              },
            },
          },
        ],
      })),
    }),
    create(TypedExtensionConfigSchema, { name: 'meshward', typedConfig: anyPack(StringValueSchema, create(StringValueSchema, { value: '{"mode":"block"}' })) }),
  ];
  for (const [k, name] of clusterNames.entries()) {
    out.push(create(ClusterSchema, { name, clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS }, edsClusterConfig: { edsConfig: ads }, connectTimeout: { seconds: 1n } }));
    out.push(
      create(ClusterLoadAssignmentSchema, {
        clusterName: name,
        endpoints: [
          {
            locality: { region: 'local', zone: 'z1' },
            loadBalancingWeight: 1,
            lbEndpoints: [1, 2, 3].map((j) => ({
              hostIdentifier: {
                case: 'endpoint' as const,
                value: { address: { address: { case: 'socketAddress' as const, value: { address: `10.0.${k}.${j}`, portSpecifier: { case: 'portValue' as const, value: 8000 } } } } },
              },
            })),
          },
        ],
      }),
    );
  }
  return out;
}

