/**
 * A workload: one deployable unit with one identity, fronted by an Envoy (gateway or sidecar) or
 * speaking xDS itself (proxyless gRPC). Replicas of a workload share the identity and the xDS
 * snapshot (translate/ produces one resource set per workload, not per replica).
 */
import { DEFAULT_MTLS_MODE, type MeshSettings, type MtlsMode } from './mesh-settings.js';
import { formatSpiffeId } from './spiffe-id.js';

/**
 * - `gateway`: an Envoy in front of model versions (routes by path / model name, version splits).
 * - `sidecar`: an Envoy in front of one local model server (inbound listener to 127.0.0.1:<appPort>).
 * - `proxyless`: a gRPC application using gRPC's own xDS client (@grpc/grpc-js-xds): as a client it
 *   resolves `xds:///<model>` targets; as a server (when `serves` is set) it gets a server listener.
 */
export type WorkloadRole = 'gateway' | 'sidecar' | 'proxyless';

export const WORKLOAD_ROLES: readonly WorkloadRole[] = ['gateway', 'sidecar', 'proxyless'];

/** Default inbound listener port of a gateway Envoy (plaintext and/or mTLS per the mTLS mode). */
export const DEFAULT_GATEWAY_PORT = 8443;
/** Default inbound listener port of a sidecar Envoy (Istio's inbound capture port). */
export const DEFAULT_SIDECAR_PORT = 15006;
/** Default port of the local model server behind a sidecar (vLLM's and most OpenAI servers' default). */
export const DEFAULT_APP_PORT = 8000;

export interface Workload {
  /** Unique within its namespace; RFC 1123 label (lower-case, digits, '-'; max 63). */
  readonly name: string;
  /** Kubernetes-style namespace; RFC 1123 label. Part of the identity. */
  readonly namespace: string;
  /** Service account; RFC 1123 label. Part of the identity. */
  readonly serviceAccount: string;
  readonly role: WorkloadRole;
  /**
   * Free-form labels. Envoys report theirs in node metadata (`labels`); the control plane matches a
   * node to this workload by `meshward.workload: <namespace>/<name>` in node metadata, or by role
   * and these labels being a subset of the node's labels (see translate/'s node groups).
   */
  readonly labels?: Readonly<Record<string, string>>;
  /** Overrides the namespace's and the mesh's mode (see {@link resolveMtlsMode}). */
  readonly mtlsMode?: MtlsMode;
  /**
   * Where the Envoy (or proxyless gRPC server) listens for inbound traffic. `address` defaults to
   * `0.0.0.0`; `port` defaults to {@link DEFAULT_GATEWAY_PORT} (gateway) or
   * {@link DEFAULT_SIDECAR_PORT} (sidecar) and is required for a proxyless server.
   */
  readonly listener?: {
    readonly address?: string;
    readonly port?: number;
  };
  /**
   * The model version this workload serves: required for a sidecar (the local model server it
   * fronts), optional for a proxyless workload (it then also gets a gRPC server listener).
   * `appPort` is the local model server's port (sidecar only; default {@link DEFAULT_APP_PORT}).
   */
  readonly serves?: {
    readonly model: string;
    readonly version: string;
    readonly appPort?: number;
  };
  /**
   * Gateway and proxyless client: names of the models (ModelService.name) it routes to. Absent
   * means every model in the mesh; an empty list means none.
   */
  readonly models?: readonly string[];
}

/** The workload's SPIFFE ID, `spiffe://<td>/ns/<namespace>/sa/<serviceAccount>`. */
export function workloadSpiffeId(mesh: MeshSettings, w: Pick<Workload, 'namespace' | 'serviceAccount'>): string {
  return formatSpiffeId(mesh.trustDomain, w.namespace, w.serviceAccount);
}

/** Effective mTLS mode: the workload's, else its namespace's, else the mesh's, else STRICT. */
export function resolveMtlsMode(mesh: MeshSettings, w: Pick<Workload, 'namespace' | 'mtlsMode'>): MtlsMode {
  return w.mtlsMode ?? mesh.namespaceMtlsModes?.[w.namespace] ?? mesh.mtlsMode ?? DEFAULT_MTLS_MODE;
}

/** `<namespace>/<name>`: how node metadata and references name a workload. */
export function workloadKey(w: Pick<Workload, 'namespace' | 'name'>): string {
  return `${w.namespace}/${w.name}`;
}
