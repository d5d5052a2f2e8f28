/** The output of translation for one node group: one immutable set of Envoy resources. */
import type { Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import type { TypedExtensionConfig } from '../gen/envoy/config/core/v3/extension_pb.js';
import type { ClusterLoadAssignment } from '../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import type { RouteConfiguration } from '../gen/envoy/config/route/v3/route_pb.js';

export interface TranslatedResources {
  /** LDS. */
  readonly listeners: readonly Listener[];
  /** RDS. */
  readonly routes: readonly RouteConfiguration[];
  /** CDS. */
  readonly clusters: readonly Cluster[];
  /** EDS, one per EDS cluster (cluster_name = the cluster's name). */
  readonly endpoints: readonly ClusterLoadAssignment[];
  /** ECDS (envoy.config.core.v3.TypedExtensionConfig). */
  readonly extensionConfigs: readonly TypedExtensionConfig[];
  /**
   * SDS secret names the resources reference, sorted. They are per identity (served by the CA for
   * the stream's own identity), never part of a group snapshot.
   */
  readonly secretNames: readonly string[];
}
