import { create, type Message } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { ListenerSchema } from '../../../control-plane/src/gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../../../control-plane/src/gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema, Cluster_DiscoveryType } from '../../../control-plane/src/gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../../../control-plane/src/gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { TypedExtensionConfigSchema } from '../../../control-plane/src/gen/envoy/config/core/v3/extension_pb.js';
import { SecretSchema, type Secret } from '../../../control-plane/src/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { HttpConnectionManagerSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { RouterSchema } from '../../../control-plane/src/gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { DownstreamTlsContextSchema } from '../../../control-plane/src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { StringValueSchema } from '@bufbuild/protobuf/wkt';

const ads = { configSourceSpecifier: { case: 'ads' as const, value: {} } };

export interface MeshOptions {
  /** Weights of the v1/v2 split. Defaults to 90/10. */
  readonly weights?: readonly [number, number];
  /** Listener port. Defaults to 10000. */
  readonly port?: number;
  /** Value of the ECDS filter config (a StringValue, stands in for the Wasm filter config). */
  readonly filterConfig?: string;
  /** Extra listeners (to make resources differ between groups). */
  readonly extraListener?: string;
  /** Include the TLS transport socket naming SDS `default` / `ROOTCA`. Defaults to true. */
  readonly tls?: boolean;
}

/**
 * A consistent Envoy configuration: listener (HCM → RDS `routes`, ECDS filter `meshward`, TLS via
 * SDS) → route (weighted v1/v2) → EDS clusters → ClusterLoadAssignments.
 */
export function meshResources(options: MeshOptions = {}): Message[] {
  const [w1, w2] = options.weights ?? [90, 10];
  const hcm = create(HttpConnectionManagerSchema, {
    statPrefix: 'ingress',
    routeSpecifier: { case: 'rds', value: { routeConfigName: 'routes', configSource: ads } },
    httpFilters: [
      { name: 'meshward', configType: { case: 'configDiscovery', value: { configSource: ads, typeUrls: ['type.googleapis.com/google.protobuf.StringValue'] } } },
      { name: 'envoy.filters.http.router', configType: { case: 'typedConfig', value: anyPack(RouterSchema, create(RouterSchema)) } },
    ],
  });
  const tls = create(DownstreamTlsContextSchema, {
    commonTlsContext: {
      tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: ads }],
      validationContextType: { case: 'validationContextSdsSecretConfig', value: { name: 'ROOTCA', sdsConfig: ads } },
    },
  });
  const listener = (name: string, port: number): Message =>
    create(ListenerSchema, {
      name,
      address: { address: { case: 'socketAddress', value: { address: '0.0.0.0', portSpecifier: { case: 'portValue', value: port } } } },
      filterChains: [
        {
          filters: [{ name: 'envoy.filters.network.http_connection_manager', configType: { case: 'typedConfig', value: anyPack(HttpConnectionManagerSchema, hcm) } }],
          ...(options.tls !== false
            ? { transportSocket: { name: 'envoy.transport_sockets.tls', configType: { case: 'typedConfig', value: anyPack(DownstreamTlsContextSchema, tls) } } }
            : {}),
        },
      ],
    });
  const route = create(RouteConfigurationSchema, {
    name: 'routes',
    virtualHosts: [
      {
        name: 'models',
        domains: ['*'],
        routes: [
          {
            match: { pathSpecifier: { case: 'prefix', value: '/' } },
            action: {
              case: 'route',
              value: {
                clusterSpecifier: {
                  case: 'weightedClusters',
                  value: { clusters: [{ name: 'model-v1', weight: w1 }, { name: 'model-v2', weight: w2 }] },
                },
              },
            },
          },
        ],
      },
    ],
  });
  const cluster = (name: string): Message =>
    create(ClusterSchema, {
      name,
      clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
      edsClusterConfig: { edsConfig: ads },
    });
  const cla = (name: string, port: number): Message =>
    create(ClusterLoadAssignmentSchema, {
      clusterName: name,
      endpoints: [
        {
          loadBalancingWeight: 1,
          lbEndpoints: [
            {
              hostIdentifier: {
                case: 'endpoint',
                value: { address: { address: { case: 'socketAddress', value: { address: '127.0.0.1', portSpecifier: { case: 'portValue', value: port } } } } },
              },
            },
          ],
        },
      ],
    });
  const ecds = create(TypedExtensionConfigSchema, {
    name: 'meshward',
    typedConfig: anyPack(StringValueSchema, create(StringValueSchema, { value: options.filterConfig ?? '{"mode":"block"}' })),
  });
  const out: Message[] = [
    listener('ingress', options.port ?? 10000),
    route,
    cluster('model-v1'),
    cluster('model-v2'),
    cla('model-v1', 9001),
    cla('model-v2', 9002),
    ecds,
  ];
  if (options.extraListener !== undefined) out.push(listener(options.extraListener, (options.port ?? 10000) + 1));
  return out;
}

/** A Secret pair for one identity: `default` (cert + key, PEM placeholders) and `ROOTCA`. */
export function secretsOf(identityId: string, generation = 1): Secret[] {
  return [
    create(SecretSchema, {
      name: 'default',
      type: {
        case: 'tlsCertificate',
        value: {
          certificateChain: { specifier: { case: 'inlineString', value: `CERT(${identityId}#${generation})` } },
          privateKey: { specifier: { case: 'inlineString', value: `KEY(${identityId}#${generation})` } },
        },
      },
    }),
    create(SecretSchema, {
      name: 'ROOTCA',
      type: { case: 'validationContext', value: { trustedCa: { specifier: { case: 'inlineString', value: 'ROOT-BUNDLE' } } } },
    }),
  ];
}
