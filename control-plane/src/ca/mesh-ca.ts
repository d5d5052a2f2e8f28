/**
 * The mesh CA: the one object the control plane wires in. It owns the certificate authority,
 * every live workload's current certificate (the SDS `default` secret), the renewal and CA
 * rotation scheduler, join tokens and metrics, and signals which identities' secrets changed.
 *
 * Lifecycle: `await createMeshCa(options)` loads or creates the CA; workloads become *active* when
 * their secrets are first asked for ({@link MeshCa.currentCertificate}); each active identity's
 * certificate is re-issued at `renewAtFraction` of its lifetime and the change is signalled;
 * `deactivate()` forgets an identity (no more renewals); `close()` stops every timer.
 *
 * CA rotation ({@link MeshCa.rotateCa}), in three phases persisted in the CaStore:
 * 1. `publish`: the new CA joins the trust bundle (old + new roots) while the old one still signs;
 *    every identity's ROOTCA is pushed. Lasts `propagationDelayMs`.
 * 2. `reissue`: the new CA signs; every active identity is re-issued from it right away
 *    (bounded concurrency). Peers trust both roots, so old and new leaves interoperate.
 * 3. `retire`: once every active identity holds a certificate from the new CA, wait
 *    `propagationDelayMs` for the pushes to land, then drop the old root from the bundle and
 *    delete its key.
 *
 * Revocation ({@link MeshCa.revokeCertificate}): the certificate goes on its CA's CRL (in every
 * ROOTCA pushed from then on), the identity is blocked (no renewal, no secrets, no stream auth) and
 * its join tokens are revoked; issuing a new join token for it lifts the block.
 */
import type { Registry } from 'prom-client';
import { CaError } from './ca-error.js';
import { createCaMetrics, NO_CA_METRICS, type CaMetrics } from './ca-metrics.js';
import type { CaStore, StoredRotation } from './ca-store.js';
import {
  createCertificateAuthority,
  type AuthorityView,
  type CertificateAuthority,
  type IssuedSvid,
  type VerifiedPeer,
} from './certificate-authority.js';
import { createSystemClock, type Clock, type ClockTimer } from './clock.js';
import type { CertificatePage, CertificateQuery, IssuedCertificateRecord, IssuedCertificateStore } from './issued-certificate-store.js';
import { createMemoryJoinTokenStore, type JoinTokenRecord, type JoinTokenStore } from './join-token-store.js';
import { createJoinTokens, type IssuedJoinToken, type JoinTokens } from './join-tokens.js';
import type { KeyAlgorithm } from './key-material.js';
import type { OperatorCaFiles } from './operator-ca.js';
import type { ServerNames } from './svid.js';
import type { TrustBundle } from './trust-bundle.js';
import { workloadIdentity, type WorkloadIdentity } from './workload-identity.js';

export interface MeshCaOptions {
  readonly trustDomain: string;
  readonly store: CaStore;
  readonly certificates?: IssuedCertificateStore;
  readonly joinTokenStore?: JoinTokenStore;
  readonly clock?: Clock;
  /** prom-client registry for issuance metrics; none are recorded when absent. */
  readonly registry?: Registry;
  readonly caKeyAlgorithm?: KeyAlgorithm;
  readonly caValidityMs?: number;
  readonly operatorCa?: OperatorCaFiles;
  readonly workloadKeyAlgorithm?: KeyAlgorithm;
  /** Workload certificate lifetime. Defaults to 24 h. */
  readonly workloadCertTtlMs?: number;
  /** Fraction of a certificate's lifetime after which it is re-issued. Defaults to 0.5; (0, 0.9]. */
  readonly renewAtFraction?: number;
  /** CA rotation: how long each of the publish and retire phases waits. Defaults to 5 minutes. */
  readonly propagationDelayMs?: number;
  /** Concurrent issuances during a CA rotation's re-issue phase. Defaults to 64. */
  readonly reissueConcurrency?: number;
  readonly crlValidityMs?: number;
  readonly joinTokenDefaultTtlMs?: number;
  readonly joinTokenMaxTtlMs?: number;
  /**
   * How long expired certificates and join tokens stay listed before housekeeping (every 6 h)
   * forgets them. Defaults to 7 days.
   */
  readonly recordRetentionMs?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** Status of a CA rotation, for the API. */
export interface CaRotationStatus {
  readonly phase: StoredRotation['phase'];
  readonly fromId: string;
  readonly toId: string;
  readonly startedAt: string;
  readonly phaseDeadline: string;
  /** Active identities whose certificate is not yet from the new CA. */
  readonly pendingIdentities: number;
}

/** Which identities' SDS secrets changed: a list, or `undefined` for every identity (new ROOTCA). */
export type SecretsChangedListener = (spiffeIds: readonly string[] | undefined) => void;

export interface MeshCa {
  readonly trustDomain: string;
  /** The clock every timer of the CA runs on. */
  readonly clock: Clock;
  readonly authority: CertificateAuthority;
  readonly joinTokens: JoinTokens;
  /** Parses a SPIFFE ID of this trust domain. @throws CaError INVALID_SPIFFE_ID */
  parseIdentity(spiffeId: unknown, field?: string): WorkloadIdentity;

  // --- for the xDS side ---
  /**
   * The identity's current certificate, issuing one if it has none (or it is about to expire);
   * activates the identity (renewals from now on). Concurrent calls share one issuance.
   * @throws CaError PERMISSION_DENIED when the identity is blocked by a revocation.
   */
  currentCertificate(identity: WorkloadIdentity): Promise<IssuedSvid>;
  bundle(): TrustBundle;
  /** Stops renewing the identity and forgets its certificate (e.g. its last stream closed long ago). */
  deactivate(spiffeId: string): void;
  activeIdentities(): readonly string[];
  isBlocked(spiffeId: string): boolean;
  /** Verifies a peer certificate (DER) for stream authentication; see CertificateAuthority. */
  verifyPeerCertificate(der: Uint8Array): Promise<VerifiedPeer>;
  onSecretsChanged(listener: SecretsChangedListener): () => void;
  readonly metrics: CaMetrics;

  // --- for the REST API ---
  listCertificates(query?: CertificateQuery): Promise<CertificatePage>;
  getCertificate(serialNumber: string): Promise<IssuedCertificateRecord | undefined>;
  /** @throws CaError NOT_FOUND */
  revokeCertificate(serialNumber: string, reason?: string): Promise<IssuedCertificateRecord>;
  /** Re-issues one identity's certificate now (it must be active). @throws CaError NOT_FOUND */
  renew(spiffeId: string): Promise<IssuedSvid>;
  authorities(): readonly AuthorityView[];
  /** Starts a CA rotation. @throws CaError CONFLICT if one is running. */
  rotateCa(options?: { readonly keyAlgorithm?: KeyAlgorithm } | { readonly operatorCa: OperatorCaFiles }): Promise<CaRotationStatus>;
  rotationStatus(): CaRotationStatus | undefined;
  /** Issues a join token for one identity (and lifts a revocation block on it). */
  issueJoinToken(spiffeId: string, options?: { readonly ttlMs?: number; readonly description?: string }): Promise<IssuedJoinToken>;
  revokeJoinToken(tokenId: string): Promise<JoinTokenRecord>;
  listJoinTokens(filter?: { readonly spiffeId?: string }): Promise<readonly JoinTokenRecord[]>;
  /**
   * Issues (and keeps renewing) the control plane's own serving certificate: the SPIFFE ID
   * `spiffe://<td>/ns/meshward-system/sa/control-plane` plus the DNS names / IPs clients dial.
   * Such a certificate cannot authenticate an xDS stream (it has more than one SAN).
   */
  servingCertificate(options?: ServingCertificateOptions): Promise<ServingCertificate>;
  /** Resolves when the scheduler's in-flight work (renewals, rotation phases) has settled. */
  idle(): Promise<void>;
  close(): void;
}

interface Entry {
  identity: WorkloadIdentity;
  svid: IssuedSvid | undefined;
  pending: Promise<IssuedSvid> | undefined;
  timer: ClockTimer | undefined;
  /** Serving certificates only: extra SANs and who to tell about a new certificate. */
  serverNames?: ServerNames;
  onRenewed?: () => void;
}

/** The control plane's own TLS material for its xDS (and API) endpoint. */
export interface ServingMaterial {
  readonly spiffeId: string;
  /** Leaf + intermediates, PEM. */
  readonly certificateChain: string;
  readonly privateKey: string;
  /** The trust bundle's roots: the CA for client certificates (mTLS on the xDS connection). */
  readonly clientCa: string;
  readonly notAfterMs: number;
}

/**
 * A serving certificate kept current by the mesh CA: renewed like a workload's, re-issued in a CA
 * rotation, and re-announced whenever the trust bundle (client CA) changes. Plug into the xDS
 * server's credentials: `serving.onChange((m) => creds.update(m))`.
 */
export interface ServingCertificate {
  current(): ServingMaterial;
  onChange(listener: (material: ServingMaterial) => void): () => void;
  /** Stops renewing it. */
  close(): void;
}

export interface ServingCertificateOptions {
  /** Defaults to `meshward-system`. */
  readonly namespace?: string;
  /** Defaults to `control-plane`. */
  readonly serviceAccount?: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

export async function createMeshCa(options: MeshCaOptions): Promise<MeshCa> {
  const clock = options.clock ?? createSystemClock();
  const log = options.log ?? (() => {});
  const renewAtFraction = options.renewAtFraction ?? 0.5;
  if (typeof renewAtFraction !== 'number' || !(renewAtFraction > 0 && renewAtFraction <= 0.9)) {
    throw new CaError('INVALID_ARGUMENT', 'renewAtFraction: must be a number in (0, 0.9]');
  }
  const propagationDelayMs = options.propagationDelayMs ?? 5 * 60_000;
  if (typeof propagationDelayMs !== 'number' || !(propagationDelayMs >= 0)) {
    throw new CaError('INVALID_ARGUMENT', 'propagationDelayMs: must be a number of milliseconds >= 0');
  }
  const concurrency = options.reissueConcurrency ?? 64;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new CaError('INVALID_ARGUMENT', 'reissueConcurrency: must be an integer >= 1');

  const entries = new Map<string, Entry>();
  const serving = new Set<Entry>();
  const live = (e: Entry): boolean => entries.get(e.identity.spiffeId) === e || serving.has(e);
  const blocked = new Set<string>();
  const listeners = new Set<SecretsChangedListener>();
  const inflight = new Set<Promise<unknown>>();
  let closed = false;
  let rotationTimer: ClockTimer | undefined;
  let housekeepingTimer: ClockTimer | undefined;
  const retentionMs = options.recordRetentionMs ?? 7 * 24 * 3600_000;
  if (typeof retentionMs !== 'number' || !(retentionMs >= 0)) throw new CaError('INVALID_ARGUMENT', 'recordRetentionMs: must be a number of milliseconds >= 0');

  const emit = (ids: readonly string[] | undefined): void => {
    for (const l of listeners) {
      try {
        l(ids);
      } catch (err) {
        log('error', `secrets listener failed: ${(err as Error).message}`);
      }
    }
  };
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => {});
    return p;
  };

  const authority = await createCertificateAuthority({
    trustDomain: options.trustDomain,
    store: options.store,
    clock,
    log,
    ...(options.certificates ? { certificates: options.certificates } : {}),
    ...(options.caKeyAlgorithm ? { caKeyAlgorithm: options.caKeyAlgorithm } : {}),
    ...(options.caValidityMs !== undefined ? { caValidityMs: options.caValidityMs } : {}),
    ...(options.operatorCa ? { operatorCa: options.operatorCa } : {}),
    ...(options.workloadKeyAlgorithm ? { workloadKeyAlgorithm: options.workloadKeyAlgorithm } : {}),
    ...(options.workloadCertTtlMs !== undefined ? { workloadCertTtlMs: options.workloadCertTtlMs } : {}),
    ...(options.crlValidityMs !== undefined ? { crlValidityMs: options.crlValidityMs } : {}),
  });
  // Every bundle change (roots or CRLs) changes every identity's ROOTCA.
  authority.onBundleChanged(() => emit(undefined));

  const joinTokens = createJoinTokens({
    store: options.joinTokenStore ?? createMemoryJoinTokenStore(),
    clock,
    ...(options.joinTokenDefaultTtlMs !== undefined ? { defaultTtlMs: options.joinTokenDefaultTtlMs } : {}),
    ...(options.joinTokenMaxTtlMs !== undefined ? { maxTtlMs: options.joinTokenMaxTtlMs } : {}),
  });

  const metrics = options.registry
    ? createCaMetrics(options.registry, () => {
        let soonest: number | undefined;
        for (const e of entries.values()) if (e.svid && (soonest === undefined || e.svid.notAfterMs < soonest)) soonest = e.svid.notAfterMs;
        return { soonestNotAfterMs: soonest, activeIdentities: entries.size, nowMs: clock.now() };
      })
    : NO_CA_METRICS;

  const scheduleRenewal = (e: Entry): void => {
    if (e.timer) clock.clearTimer(e.timer);
    e.timer = undefined;
    if (closed || !e.svid) return;
    const svid = e.svid;
    const renewAt = svid.issuedAtMs + renewAtFraction * (svid.notAfterMs - svid.issuedAtMs);
    e.timer = clock.setTimer(() => track(renewEntry(e, 'renewal').then(() => {}, () => {})), renewAt - clock.now());
  };

  /** Issues a new certificate for a live entry; on failure retries later, keeping the old one. */
  const renewEntry = async (e: Entry, kind: 'initial' | 'renewal' | 'ca_rotation'): Promise<IssuedSvid> => {
    if (e.pending) return e.pending;
    const id = e.identity.spiffeId;
    const p = (async () => {
      if (blocked.has(id)) throw new CaError('PERMISSION_DENIED', `identity ${id} is blocked: its certificate was revoked`);
      const previous = e.svid;
      let svid: IssuedSvid;
      try {
        svid = await authority.issue(e.identity, e.serverNames ? { serverNames: e.serverNames } : {});
      } catch (err) {
        metrics.failed();
        log('error', `issuing a certificate for ${id} failed: ${(err as Error).message}`);
        if (previous && !closed && live(e)) {
          // Retry well before expiry: a tenth of the remaining lifetime, between 1 s and 60 s.
          const retryIn = Math.min(60_000, Math.max(1000, (previous.notAfterMs - clock.now()) / 10));
          e.timer = clock.setTimer(() => track(renewEntry(e, kind).then(() => {}, () => {})), retryIn);
        }
        throw err;
      }
      if (!live(e) || (blocked.has(id) && !e.serverNames)) {
        // Deactivated or revoked while issuing: do not hand this certificate out.
        await authority.supersede(svid.serialNumber);
        throw new CaError('PERMISSION_DENIED', `identity ${id} is no longer active`);
      }
      e.svid = svid;
      metrics.issued(kind);
      if (previous) await authority.supersede(previous.serialNumber);
      scheduleRenewal(e);
      if (e.onRenewed) e.onRenewed();
      else if (previous) emit([id]);
      return svid;
    })();
    e.pending = p;
    try {
      return await p;
    } finally {
      e.pending = undefined;
    }
  };

  // ---- CA rotation driver ----
  const pendingForRotation = (toId: string): Entry[] =>
    [...entries.values(), ...serving].filter((e) => !e.svid || e.svid.issuerKeyId !== toId);

  const statusOf = (r: StoredRotation): CaRotationStatus => ({ ...r, pendingIdentities: pendingForRotation(r.toId).length });

  const armPhase = (r: StoredRotation): void => {
    if (rotationTimer) clock.clearTimer(rotationTimer);
    rotationTimer = undefined;
    if (closed) return;
    const runPhase = (): Promise<void> =>
      track(
        advanceRotation().catch((err: unknown) => {
          log('error', `CA rotation (${r.phase}) failed: ${(err as Error).message}; retrying in 60 s`);
          if (!closed) rotationTimer = clock.setTimer(runPhase, 60_000);
        }),
      );
    if (r.phase === 'reissue') {
      rotationTimer = clock.setTimer(runPhase, 0);
    } else {
      rotationTimer = clock.setTimer(runPhase, Date.parse(r.phaseDeadline) - clock.now());
    }
  };

  const advanceRotation = async (): Promise<void> => {
    const r = authority.rotation();
    if (!r) return;
    const now = clock.now();
    if (r.phase === 'publish') {
      await authority.promoteIncoming();
      const next: StoredRotation = { ...r, phase: 'reissue', phaseDeadline: new Date(now).toISOString() };
      await authority.setRotation(next);
      await reissueAll(r.toId);
      return advanceRotation();
    }
    if (r.phase === 'reissue') {
      await reissueAll(r.toId);
      const next: StoredRotation = { ...r, phase: 'retire', phaseDeadline: new Date(clock.now() + propagationDelayMs).toISOString() };
      await authority.setRotation(next);
      armPhase(next);
      return;
    }
    // retire: any identity activated meanwhile got a new-CA certificate (only the new CA signs).
    if (pendingForRotation(r.toId).some((e) => e.svid !== undefined)) {
      await reissueAll(r.toId);
    }
    await authority.retireOutgoing();
    await authority.setRotation(undefined);
    log('info', `CA rotation to ${r.toId} complete`);
  };

  /** Re-issues, from the new CA, every active identity that does not yet hold one of its certificates. */
  const reissueAll = async (toId: string): Promise<void> => {
    for (;;) {
      const todo = pendingForRotation(toId).filter((e) => e.svid !== undefined && !blocked.has(e.identity.spiffeId));
      if (todo.length === 0) return;
      let next = 0;
      let failures = 0;
      const worker = async (): Promise<void> => {
        while (next < todo.length) {
          const e = todo[next++]!;
          try {
            await renewEntry(e, 'ca_rotation');
          } catch {
            failures++;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
      if (failures > 0) throw new CaError('ISSUANCE_FAILED', `${failures} identities could not be re-issued from the new CA`);
    }
  };

  const meshCa: MeshCa = {
    trustDomain: authority.trustDomain,
    clock,
    authority,
    joinTokens,
    metrics,
    parseIdentity: (spiffeId, field) => authority.parseIdentity(spiffeId, field),

    async currentCertificate(identity) {
      if (closed) throw new CaError('CONFLICT', 'the CA is closed');
      const id = identity.spiffeId;
      if (blocked.has(id)) throw new CaError('PERMISSION_DENIED', `identity ${id} is blocked: its certificate was revoked`);
      let e = entries.get(id);
      if (!e) {
        e = { identity, svid: undefined, pending: undefined, timer: undefined };
        entries.set(id, e);
      }
      // A certificate past its renewal point (e.g. the scheduler was starved) is renewed first.
      const now = clock.now();
      if (e.svid && now < e.svid.notAfterMs - 60_000) return e.svid;
      try {
        return await track(renewEntry(e, e.svid ? 'renewal' : 'initial'));
      } catch (err) {
        if (!e.svid && entries.get(id) === e) entries.delete(id);
        throw err;
      }
    },

    bundle: () => authority.bundle(),

    deactivate(spiffeId) {
      const e = entries.get(spiffeId);
      if (!e) return;
      if (e.timer) clock.clearTimer(e.timer);
      entries.delete(spiffeId);
    },

    activeIdentities: () => [...entries.keys()],
    isBlocked: (spiffeId) => blocked.has(spiffeId),

    async verifyPeerCertificate(der) {
      const peer = await authority.verifyPeerCertificate(der);
      if (blocked.has(peer.identity.spiffeId)) {
        throw new CaError('PERMISSION_DENIED', `identity ${peer.identity.spiffeId} is blocked: its certificate was revoked`);
      }
      return peer;
    },

    onSecretsChanged(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    listCertificates: (query) => authority.listCertificates(query),
    getCertificate: (serial) => authority.getCertificate(serial),

    async revokeCertificate(serialNumber, reason) {
      const record = await authority.revoke(serialNumber, reason);
      metrics.revoked();
      const id = record.spiffeId;
      const e = entries.get(id);
      // Block the identity when the revoked certificate is (or was) its current one: no renewal.
      if (!e || !e.svid || e.svid.serialNumber === record.serialNumber) {
        blocked.add(id);
        await joinTokens.revokeAllFor(id);
        if (e) {
          if (e.timer) clock.clearTimer(e.timer);
          entries.delete(id);
        }
        emit([id]);
      }
      return record;
    },

    async renew(spiffeId) {
      const e = entries.get(spiffeId);
      if (!e) throw new CaError('NOT_FOUND', `spiffeId: '${spiffeId}' has no active certificate`);
      return track(renewEntry(e, 'renewal'));
    },

    authorities: () => authority.authorities(),

    async rotateCa(rotateOptions = {}) {
      if (authority.rotation()) throw new CaError('CONFLICT', 'a CA rotation is already in progress');
      const from = authority.active();
      const to = await authority.addIncoming(rotateOptions);
      const now = clock.now();
      const r: StoredRotation = {
        phase: 'publish',
        fromId: from.id,
        toId: to.id,
        startedAt: new Date(now).toISOString(),
        phaseDeadline: new Date(now + propagationDelayMs).toISOString(),
      };
      await authority.setRotation(r);
      armPhase(r);
      return statusOf(r);
    },

    rotationStatus() {
      const r = authority.rotation();
      return r ? statusOf(r) : undefined;
    },

    async issueJoinToken(spiffeId, tokenOptions) {
      const identity = authority.parseIdentity(spiffeId);
      const issued = await joinTokens.issue(identity, tokenOptions);
      blocked.delete(identity.spiffeId);
      return issued;
    },
    revokeJoinToken: (tokenId) => joinTokens.revoke(tokenId),
    listJoinTokens: (filter) => joinTokens.list(filter),

    async servingCertificate(servingOptions = {}) {
      const identity = workloadIdentity(
        authority.trustDomain,
        servingOptions.namespace ?? 'meshward-system',
        servingOptions.serviceAccount ?? 'control-plane',
      );
      const listeners = new Set<(m: ServingMaterial) => void>();
      const material = (): ServingMaterial => {
        const svid = e.svid!;
        return {
          spiffeId: svid.identity.spiffeId,
          certificateChain: svid.certificateChainPem,
          privateKey: svid.privateKeyPem,
          clientCa: authority.bundle().rootsPem,
          notAfterMs: svid.notAfterMs,
        };
      };
      const announce = (): void => {
        if (!e.svid) return;
        const m = material();
        for (const l of listeners) {
          try {
            l(m);
          } catch (err) {
            log('error', `serving certificate listener failed: ${(err as Error).message}`);
          }
        }
      };
      const e: Entry = {
        identity,
        svid: undefined,
        pending: undefined,
        timer: undefined,
        serverNames: { dnsNames: servingOptions.dnsNames ?? [], ipAddresses: servingOptions.ipAddresses ?? [] },
        onRenewed: announce,
      };
      serving.add(e);
      try {
        await track(renewEntry(e, 'initial'));
      } catch (err) {
        serving.delete(e);
        throw err;
      }
      const unsubscribe = authority.onBundleChanged(announce);
      return {
        current: material,
        onChange(listener) {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
        close() {
          unsubscribe();
          if (e.timer) clock.clearTimer(e.timer);
          serving.delete(e);
        },
      };
    },

    async idle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },

    close() {
      closed = true;
      for (const e of [...entries.values(), ...serving]) if (e.timer) clock.clearTimer(e.timer);
      if (rotationTimer) clock.clearTimer(rotationTimer);
      if (housekeepingTimer) clock.clearTimer(housekeepingTimer);
      authority.close();
    },
  };

  const housekeeping = async (): Promise<void> => {
    housekeepingTimer = undefined;
    if (closed) return;
    try {
      const before = clock.now() - retentionMs;
      const certs = await authority.pruneRecords(before);
      const tokens = await joinTokens.pruneExpired(before);
      if (certs + tokens > 0) log('info', `housekeeping: forgot ${certs} expired certificate records and ${tokens} expired join tokens`);
    } catch (err) {
      log('error', `housekeeping failed: ${(err as Error).message}`);
    }
    if (!closed) housekeepingTimer = clock.setTimer(housekeeping, 6 * 3600_000);
  };
  housekeepingTimer = clock.setTimer(housekeeping, 6 * 3600_000);

  // Resume a rotation interrupted by a restart, or start one to changed operator CA files.
  const saved = authority.rotation();
  if (saved) armPhase(saved);
  else if (authority.operatorCaChanged) await meshCa.rotateCa({ operatorCa: authority.operatorCaChanged });
  return meshCa;
}
