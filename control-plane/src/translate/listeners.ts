/**
 * Gateway and sidecar inbound listeners, per the workload's mTLS mode:
 * - STRICT: one filter chain whose transport socket requires a client certificate (SDS `default`
 *   as server cert, `ROOTCA` to validate, URI SAN in the trust domain).
 * - PERMISSIVE: tls_inspector listener filter and two filter chains matched on transport protocol,
 *   `tls` (same mTLS socket) and `raw_buffer` (plaintext), as Istio does; the HCM is the same, so
 *   RBAC decides what plaintext callers (no identity) may do.
 * Both carry, unless the mesh disables access logging, a listener-level gRPC access log
 * ({@link listenerAccessLog}) beside the HCM's HTTP one: the only log that sees refused handshakes.
 */
import { create } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { TrafficDirection } from '../gen/envoy/config/core/v3/base_pb.js';
import { ListenerSchema, type Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChainSchema } from '../gen/envoy/config/listener/v3/listener_components_pb.js';
import { AccessLogSchema, type AccessLog } from '../gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { ApiVersion } from '../gen/envoy/config/core/v3/config_source_pb.js';
import { TcpGrpcAccessLogConfigSchema } from '../gen/envoy/extensions/access_loggers/grpc/v3/als_pb.js';
import { TlsInspectorSchema } from '../gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { MtlsMode } from '../model/mesh-settings.js';
import { ACCESS_LOGGER_TCP_GRPC, ALS_CLUSTER, ALS_LOG_NAME, LISTENER_FILTER_TLS_INSPECTOR, NETWORK_FILTER_HCM } from './names.js';
import { packAny } from './proto-helpers.js';
import { downstreamMtlsSocket } from './tls.js';

export interface InboundListenerInput {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly mtlsMode: MtlsMode;
  readonly trustDomain: string;
  /** Packed HttpConnectionManager. */
  readonly hcm: Any;
  /** Adds {@link listenerAccessLog} as `Listener.access_log` (callers pass the HCM's setting). */
  readonly accessLog: boolean;
}

/**
 * The listener-level (connection) gRPC access log: `envoy.access_loggers.tcp_grpc` to the static
 * `meshward_als` cluster, log name `meshward`, transport API v3. Its entries reach the ALS server
 * as `tcp_logs` (TCPAccessLogEntry), where a non-empty downstream transport failure reason counts
 * as a failed-mTLS denial in the closed loop.
 *
 * Why it is needed: the HCM's HTTP access log only logs HTTP streams, and a connection whose TLS
 * handshake is refused (no client certificate, untrusted chain, SAN outside the trust domain)
 * never gets one. In Envoy (source/common/listener_manager/active_stream_listener_base.cc) the
 * listener's access logs are written for every accepted connection when it is destroyed, after
 * the close event has copied the connection's transport failure reason (e.g. the TLS verify
 * error) into its stream info as `downstream_transport_failure_reason`; they are also written
 * for connections closed before any filter chain, when none matches (response flag NR). So this
 * log sees each refused handshake once, and also one entry per normal connection (those carry
 * no failure reason and the decoder drops them).
 */
export function listenerAccessLog(): AccessLog {
  return create(AccessLogSchema, {
    name: ACCESS_LOGGER_TCP_GRPC,
    configType: {
      case: 'typedConfig',
      value: packAny(TcpGrpcAccessLogConfigSchema, {
        commonConfig: {
          logName: ALS_LOG_NAME,
          grpcService: { targetSpecifier: { case: 'envoyGrpc', value: { clusterName: ALS_CLUSTER } } },
          transportApiVersion: ApiVersion.V3,
        },
      }),
    },
  });
}

export function inboundListener(input: InboundListenerInput): Listener {
  const filters = [{ name: NETWORK_FILTER_HCM, configType: { case: 'typedConfig' as const, value: input.hcm } }];
  const mtlsChain: MessageInitShape<typeof FilterChainSchema> = {
    name: 'mtls',
    filters,
    transportSocket: downstreamMtlsSocket(input.trustDomain),
  };
  const permissive = input.mtlsMode === 'PERMISSIVE';
  return create(ListenerSchema, {
    name: input.name,
    address: { address: { case: 'socketAddress', value: { address: input.address, portSpecifier: { case: 'portValue', value: input.port } } } },
    trafficDirection: TrafficDirection.INBOUND,
    accessLog: input.accessLog ? [listenerAccessLog()] : [],
    ...(permissive
      ? {
          listenerFilters: [{ name: LISTENER_FILTER_TLS_INSPECTOR, configType: { case: 'typedConfig', value: packAny(TlsInspectorSchema, {}) } }],
          filterChains: [
            { ...mtlsChain, filterChainMatch: { transportProtocol: 'tls' } },
            { name: 'plaintext', filterChainMatch: { transportProtocol: 'raw_buffer' }, filters },
          ],
        }
      : { filterChains: [mtlsChain] }),
  });
}
