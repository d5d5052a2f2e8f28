/**
 * Model versions → Clusters and ClusterLoadAssignments.
 *
 * - One cluster per model version, `model|<model>|<version>`: EDS over ADS when every endpoint is
 *   an IP literal (the ClusterLoadAssignment carries the endpoints), else STRICT_DNS with the
 *   endpoints inline (Envoy only; proxyless gRPC needs IPs). Round robin; 5 s connect timeout.
 * - `http2`/`grpc` models get explicit HTTP/2 upstream protocol options.
 * - Upstream TLS `MUTUAL` (default): mesh mTLS with SDS secrets; the peer must present one of the
 *   version's expected identities (see expectedPeer).
 * - Endpoints are grouped by locality (grpc requires a locality on every group and skips groups
 *   without a weight, so each group's weight is the sum of its endpoints' weights).
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { ClusterSchema, Cluster_DiscoveryType, type Cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import {
  ClusterLoadAssignmentSchema,
  type ClusterLoadAssignment,
} from '../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import type { LocalityLbEndpointsSchema } from '../gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { HttpProtocolOptionsSchema } from '../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { isIP } from 'node:net';
import type { MeshModel } from '../model/mesh-model.js';
import type { ModelEndpoint, ModelService, ModelVersion } from '../model/model-service.js';
import { UPSTREAM_HTTP_PROTOCOL_OPTIONS, localAppClusterName, modelClusterName } from './names.js';
import { adsConfigSource, ms, packAny } from './proto-helpers.js';
import { upstreamMtlsSocket, type PeerIdentityMatch } from './tls.js';
import { workloadSpiffeId } from '../model/workload.js';

export const CONNECT_TIMEOUT_MS = 5000;

export interface ClusterOptions {
  /** Attach the upstream mTLS transport socket per the version's upstreamTls. Defaults to true. */
  readonly tls?: boolean;
  /** Force EDS even for hostnames (callers that cannot use DNS clusters validate IPs themselves). */
  readonly edsOnly?: boolean;
}

function isHttp2(svc: ModelService): boolean {
  return svc.protocol === 'http2' || svc.protocol === 'grpc';
}

function http2Options(): Record<string, ReturnType<typeof packAny>> {
  return {
    [UPSTREAM_HTTP_PROTOCOL_OPTIONS]: packAny(HttpProtocolOptionsSchema, {
      upstreamProtocolOptions: { case: 'explicitHttpConfig', value: { protocolConfig: { case: 'http2ProtocolOptions', value: {} } } },
    }),
  };
}

/** True when EDS can carry the version's endpoints (all IP literals). */
export function usesEds(v: ModelVersion): boolean {
  return v.endpoints.every((e) => isIP(e.address) !== 0);
}

function localityKey(e: ModelEndpoint): string {
  return JSON.stringify([e.locality?.region ?? '', e.locality?.zone ?? '', e.locality?.subZone ?? '']);
}

function localityGroups(endpoints: readonly ModelEndpoint[]): MessageInitShape<typeof LocalityLbEndpointsSchema>[] {
  const groups = new Map<string, ModelEndpoint[]>();
  for (const e of endpoints) {
    const k = localityKey(e);
    const g = groups.get(k);
    if (g) g.push(e);
    else groups.set(k, [e]);
  }
  return [...groups.values()].map((eps) => ({
    locality: { region: eps[0]!.locality?.region ?? '', zone: eps[0]!.locality?.zone ?? '', subZone: eps[0]!.locality?.subZone ?? '' },
    loadBalancingWeight: eps.reduce((s, e) => s + (e.weight ?? 1), 0),
    lbEndpoints: eps.map((e) => ({
      hostIdentifier: {
        case: 'endpoint' as const,
        value: {
          address: { address: { case: 'socketAddress' as const, value: { address: e.address, portSpecifier: { case: 'portValue' as const, value: e.port } } } },
        },
      },
      loadBalancingWeight: e.weight ?? 1,
    })),
  }));
}

/** The ClusterLoadAssignment of a version's EDS cluster. */
export function versionLoadAssignment(svc: ModelService, v: ModelVersion): ClusterLoadAssignment {
  return create(ClusterLoadAssignmentSchema, {
    clusterName: modelClusterName(svc.name, v.name),
    endpoints: localityGroups(v.endpoints),
  });
}

/**
 * Who a version's servers must be: its `identities`; else the identities of the workloads that
 * declare they serve it (sidecars, proxyless servers); else anyone in the trust domain.
 */
export function expectedPeer(model: MeshModel, svc: ModelService, v: ModelVersion): PeerIdentityMatch {
  if (v.identities && v.identities.length > 0) return { kind: 'exact', spiffeIds: v.identities };
  const serving = model.workloads
    .filter((w) => w.serves?.model === svc.name && w.serves.version === v.name)
    .map((w) => workloadSpiffeId(model.mesh, w));
  const ids = [...new Set(serving)].sort();
  return ids.length > 0 ? { kind: 'exact', spiffeIds: ids } : { kind: 'trustDomain', trustDomain: model.mesh.trustDomain };
}

/** The cluster of one model version. */
export function versionCluster(model: MeshModel, svc: ModelService, v: ModelVersion, opts: ClusterOptions = {}): Cluster {
  const name = modelClusterName(svc.name, v.name);
  const eds = opts.edsOnly === true || usesEds(v);
  const tls = (opts.tls ?? true) && (v.upstreamTls ?? 'MUTUAL') === 'MUTUAL';
  return create(ClusterSchema, {
    name,
    connectTimeout: ms(CONNECT_TIMEOUT_MS),
    ...(eds
      ? {
          clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.EDS },
          edsClusterConfig: { edsConfig: adsConfigSource() },
        }
      : {
          clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STRICT_DNS },
          loadAssignment: { clusterName: name, endpoints: localityGroups(v.endpoints) },
        }),
    ...(isHttp2(svc) ? { typedExtensionProtocolOptions: http2Options() } : {}),
    ...(tls ? { transportSocket: upstreamMtlsSocket(expectedPeer(model, svc, v), isHttp2(svc)) } : {}),
  });
}

/** A sidecar's local model server: STATIC 127.0.0.1:<appPort>, plaintext (loopback only). */
export function localAppCluster(svc: ModelService, appPort: number): Cluster {
  const name = localAppClusterName(appPort);
  return create(ClusterSchema, {
    name,
    connectTimeout: ms(CONNECT_TIMEOUT_MS),
    clusterDiscoveryType: { case: 'type', value: Cluster_DiscoveryType.STATIC },
    loadAssignment: {
      clusterName: name,
      endpoints: localityGroups([{ address: '127.0.0.1', port: appPort }]),
    },
    ...(isHttp2(svc) ? { typedExtensionProtocolOptions: http2Options() } : {}),
  });
}
