/**
 * Resources for proxyless gRPC (@grpc/grpc-js-xds, gRPC's own xDS client: state of the world only,
 * no ECDS, no SDS), shaped by what its resource validators accept:
 * - client: a Listener named after the `xds:///<model>` target holding an ApiListener with an HCM
 *   (RDS over ADS, http_filters = [router]; grpc requires the router last and rejects non-optional
 *   filters it has no client implementation of, RBAC included);
 * - server: the Listener named from grpc's default server template, whose socket_address must equal
 *   the address the server bound (`ip:port`), no listener filters, one filter chain holding exactly
 *   one network filter (the HCM: RBAC when asked + router), RDS to a route configuration whose routes
 *   all use non_forwarding_action (others make grpc reject matching RPCs).
 * Clusters are EDS over ADS without transport sockets (grpc's TLS comes from certificate providers,
 * not SDS); endpoints must be IP literals, each locality group has a locality and a weight.
 */
import { create } from '@bufbuild/protobuf';
import { TrafficDirection } from '../gen/envoy/config/core/v3/base_pb.js';
import { ListenerSchema, type Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import { HttpConnectionManagerSchema } from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { HttpFilter } from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { grpcServerListenerName, grpcServerRouteName, NETWORK_FILTER_HCM, proxylessRouteName } from './names.js';
import { adsConfigSource, packAny } from './proto-helpers.js';
import { rbacHttpFilter, routerHttpFilter } from './http-connection-manager.js';
import type { TranslatedRbac } from './rbac.js';

/** The client-side ApiListener for `xds:///<target>`; routes come from `proxyless|<model>`. */
export function proxylessClientListener(target: string, model: string = target): Listener {
  return create(ListenerSchema, {
    name: target,
    apiListener: {
      apiListener: packAny(HttpConnectionManagerSchema, {
        statPrefix: 'meshward_proxyless',
        routeSpecifier: { case: 'rds', value: { configSource: adsConfigSource(), routeConfigName: proxylessRouteName(model) } },
        httpFilters: [routerHttpFilter()],
      }),
    },
  });
}

/**
 * The server-side Listener for an xDS-enabled grpc-js server bound to `address:port` (the exact
 * string given to bindAsync). `rbac` undefined leaves RBAC out (grpc then needs no
 * GRPC_XDS_EXPERIMENTAL_RBAC); when given, it must be enabled in the server's environment or the
 * server rejects the listener.
 */
export function grpcServerListener(address: string, port: number, rbac: TranslatedRbac | undefined): Listener {
  const httpFilters: HttpFilter[] = [];
  if (rbac) httpFilters.push(rbacHttpFilter(rbac, true));
  httpFilters.push(routerHttpFilter());
  return create(ListenerSchema, {
    name: grpcServerListenerName(address, port),
    address: { address: { case: 'socketAddress', value: { address, portSpecifier: { case: 'portValue', value: port } } } },
    trafficDirection: TrafficDirection.INBOUND,
    filterChains: [
      {
        name: 'inbound',
        filters: [
          {
            name: NETWORK_FILTER_HCM,
            configType: {
              case: 'typedConfig',
              value: packAny(HttpConnectionManagerSchema, {
                statPrefix: 'meshward_grpc_inbound',
                routeSpecifier: { case: 'rds', value: { configSource: adsConfigSource(), routeConfigName: grpcServerRouteName(address, port) } },
                httpFilters,
              }),
            },
          },
        ],
      },
    ],
  });
}
