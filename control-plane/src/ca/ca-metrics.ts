/**
 * Issuance metrics on a prom-client registry the caller owns (the control plane's `/metrics`).
 * Metric names are stable public names.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface CaMetrics {
  issued(kind: 'initial' | 'renewal' | 'ca_rotation'): void;
  failed(): void;
  revoked(): void;
  authFailure(method: 'join_token' | 'mtls' | 'none'): void;
}

/**
 * Registers:
 * - `meshward_ca_certificates_issued_total{kind}`: every workload certificate issued
 *   (`initial`, `renewal`, `ca_rotation`);
 * - `meshward_ca_certificates_rotated_total`: re-issues of a live identity (renewal + CA rotation);
 * - `meshward_ca_issuance_failures_total`;
 * - `meshward_ca_certificates_revoked_total`;
 * - `meshward_ca_stream_auth_failures_total{method}`;
 * - `meshward_ca_soonest_certificate_expiry_seconds`: seconds until the soonest-expiring current
 *   workload certificate expires (NaN while no workload holds one, so `< threshold` alerts stay quiet);
 * - `meshward_ca_active_identities`.
 */
export function createCaMetrics(
  registry: Registry,
  probe: () => { readonly soonestNotAfterMs: number | undefined; readonly activeIdentities: number; readonly nowMs: number },
): CaMetrics {
  const issued = new Counter({ name: 'meshward_ca_certificates_issued_total', help: 'Workload certificates issued, by kind.', labelNames: ['kind'] as const, registers: [registry] });
  const rotated = new Counter({ name: 'meshward_ca_certificates_rotated_total', help: 'Workload certificates re-issued for a live identity (renewal or CA rotation).', registers: [registry] });
  const failed = new Counter({ name: 'meshward_ca_issuance_failures_total', help: 'Failed workload certificate issuances.', registers: [registry] });
  const revoked = new Counter({ name: 'meshward_ca_certificates_revoked_total', help: 'Workload certificates revoked.', registers: [registry] });
  const authFailures = new Counter({ name: 'meshward_ca_stream_auth_failures_total', help: 'xDS streams refused by the CA authenticator, by credential.', labelNames: ['method'] as const, registers: [registry] });
  new Gauge({
    name: 'meshward_ca_soonest_certificate_expiry_seconds',
    help: 'Seconds until the soonest-expiring current workload certificate expires.',
    registers: [registry],
    collect() {
      const p = probe();
      this.set(p.soonestNotAfterMs === undefined ? Number.NaN : (p.soonestNotAfterMs - p.nowMs) / 1000);
    },
  });
  new Gauge({
    name: 'meshward_ca_active_identities',
    help: 'Workload identities holding a current certificate.',
    registers: [registry],
    collect() {
      this.set(probe().activeIdentities);
    },
  });
  for (const k of ['initial', 'renewal', 'ca_rotation'] as const) issued.inc({ kind: k }, 0);
  return {
    issued(kind) {
      issued.inc({ kind });
      if (kind !== 'initial') rotated.inc();
    },
    failed: () => failed.inc(),
    revoked: () => revoked.inc(),
    authFailure: (method) => authFailures.inc({ method }),
  };
}

/** Metrics sink that records nothing (no registry given). */
export const NO_CA_METRICS: CaMetrics = { issued() {}, failed() {}, revoked() {}, authFailure() {} };
