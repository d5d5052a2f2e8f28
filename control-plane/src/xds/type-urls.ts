import type { DescMessage, Message } from '@bufbuild/protobuf';
import { ListenerSchema } from '../gen/envoy/config/listener/v3/listener_pb.js';
import { RouteConfigurationSchema } from '../gen/envoy/config/route/v3/route_pb.js';
import { ClusterSchema } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { ClusterLoadAssignmentSchema } from '../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { SecretSchema } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { TypedExtensionConfigSchema } from '../gen/envoy/config/core/v3/extension_pb.js';

const PREFIX = 'type.googleapis.com/';

/** The six resource types meshward serves over ADS, by their xDS typeUrl. */
export const TypeUrl = {
  Listener: `${PREFIX}envoy.config.listener.v3.Listener`,
  RouteConfiguration: `${PREFIX}envoy.config.route.v3.RouteConfiguration`,
  Cluster: `${PREFIX}envoy.config.cluster.v3.Cluster`,
  ClusterLoadAssignment: `${PREFIX}envoy.config.endpoint.v3.ClusterLoadAssignment`,
  Secret: `${PREFIX}envoy.extensions.transport_sockets.tls.v3.Secret`,
  TypedExtensionConfig: `${PREFIX}envoy.config.core.v3.TypedExtensionConfig`,
} as const;
export type TypeUrl = (typeof TypeUrl)[keyof typeof TypeUrl];

/** All served typeUrls, in the order Envoy wants them pushed (CDS before EDS, LDS before RDS). */
export const ALL_TYPE_URLS: readonly TypeUrl[] = [
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
  TypeUrl.Secret,
  TypeUrl.TypedExtensionConfig,
];

/** Short names used in logs, metrics and the fleet view. */
export const SHORT_NAME: Readonly<Record<TypeUrl, string>> = {
  [TypeUrl.Listener]: 'LDS',
  [TypeUrl.RouteConfiguration]: 'RDS',
  [TypeUrl.Cluster]: 'CDS',
  [TypeUrl.ClusterLoadAssignment]: 'EDS',
  [TypeUrl.Secret]: 'SDS',
  [TypeUrl.TypedExtensionConfig]: 'ECDS',
};

/** LDS and CDS support wildcard subscriptions; RDS/EDS/SDS/ECDS are always requested by name. */
export function isWildcardType(typeUrl: TypeUrl): boolean {
  return typeUrl === TypeUrl.Listener || typeUrl === TypeUrl.Cluster;
}

export function isTypeUrl(value: string): value is TypeUrl {
  return Object.prototype.hasOwnProperty.call(SHORT_NAME, value);
}

const SCHEMAS: Readonly<Record<TypeUrl, DescMessage>> = {
  [TypeUrl.Listener]: ListenerSchema,
  [TypeUrl.RouteConfiguration]: RouteConfigurationSchema,
  [TypeUrl.Cluster]: ClusterSchema,
  [TypeUrl.ClusterLoadAssignment]: ClusterLoadAssignmentSchema,
  [TypeUrl.Secret]: SecretSchema,
  [TypeUrl.TypedExtensionConfig]: TypedExtensionConfigSchema,
};

/** The generated schema of a served typeUrl. */
export function schemaOf(typeUrl: TypeUrl): DescMessage {
  return SCHEMAS[typeUrl];
}

/** The typeUrl of a generated message, or undefined when meshward does not serve that type. */
export function typeUrlOfMessage(message: Message): TypeUrl | undefined {
  const url = PREFIX + message.$typeName;
  return isTypeUrl(url) ? url : undefined;
}

/**
 * The xDS resource name of a message: `name` for every type except ClusterLoadAssignment, whose
 * name is its `cluster_name`.
 */
export function resourceNameOf(message: Message): string {
  const m = message as unknown as { name?: unknown; clusterName?: unknown };
  const name = message.$typeName === 'envoy.config.endpoint.v3.ClusterLoadAssignment' ? m.clusterName : m.name;
  return typeof name === 'string' ? name : '';
}
