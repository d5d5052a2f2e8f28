/**
 * Gateway and sidecar inbound listeners, per the workload's mTLS mode:
 * - STRICT: one filter chain whose transport socket requires a client certificate (SDS `default`
 *   as server cert, `ROOTCA` to validate, URI SAN in the trust domain).
 * - PERMISSIVE: tls_inspector listener filter and two filter chains matched on transport protocol,
 *   `tls` (same mTLS socket) and `raw_buffer` (plaintext), as Istio does; the HCM is the same, so
 *   RBAC decides what plaintext callers (no identity) may do.
 */
import { create } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { TrafficDirection } from '../gen/envoy/config/core/v3/base_pb.js';
import { ListenerSchema, type Listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import type { FilterChainSchema } from '../gen/envoy/config/listener/v3/listener_components_pb.js';
import { TlsInspectorSchema } from '../gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { MtlsMode } from '../model/mesh-settings.js';
import { LISTENER_FILTER_TLS_INSPECTOR, NETWORK_FILTER_HCM } from './names.js';
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
