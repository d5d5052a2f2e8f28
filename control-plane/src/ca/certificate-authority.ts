/**
 * The certificate authority: its issuing authorities (one active, plus an incoming or outgoing one
 * during a CA rotation), workload certificate issuance, the register of issued certificates,
 * revocation with CRLs, peer certificate verification, and the trust bundle.
 *
 * Lifecycle: {@link createCertificateAuthority} loads the CA from its {@link CaStore}, or creates
 * it on first start (a generated ECDSA P-256 root by default, or the operator's intermediate from
 * PEM files). State changes are serialised and persisted before they take effect; `close()` stops
 * the CRL refresh timer. The CA owns the private keys; no method returns one.
 */
import { X509Certificate as NodeX509 } from 'node:crypto';
import { isIP } from 'node:net';
import { loadAuthority, generateAuthority, type AuthorityInfo, type AuthorityMaterial, type IssuingAuthority } from './authority.js';
import { CaError } from './ca-error.js';
import type { AuthorityRole, CaStore, StoredAuthority, StoredCaState, StoredRotation } from './ca-store.js';
import { createSystemClock, type Clock, type ClockTimer } from './clock.js';
import { BACKDATE_MS, buildCrl } from './crl.js';
import {
  createMemoryIssuedCertificateStore,
  type CertificatePage,
  type CertificateQuery,
  type IssuedCertificateRecord,
  type IssuedCertificateStore,
} from './issued-certificate-store.js';
import { generateWorkloadKeyPair, KEY_ALGORITHMS, type KeyAlgorithm } from './key-material.js';
import { loadOperatorCa, readOperatorCaFiles, type OperatorCaFiles } from './operator-ca.js';
import { signSvid, type ServerNames } from './svid.js';
import type { TrustBundle } from './trust-bundle.js';
import { assertTrustDomain, parseWorkloadIdentity, type WorkloadIdentity } from './workload-identity.js';
import { x509 } from './x509-runtime.js';

/** A freshly issued X.509-SVID with its private key. Handed only to the identity's own streams. */
export interface IssuedSvid {
  readonly identity: WorkloadIdentity;
  readonly serialNumber: string;
  /** The leaf alone. */
  readonly certificatePem: string;
  /** Leaf followed by the intermediates up to (not including) the root: Envoy's `certificate_chain`. */
  readonly certificateChainPem: string;
  /** PEM: SEC1 (`EC PRIVATE KEY`) for ECDSA, PKCS#8 for RSA. */
  readonly privateKeyPem: string;
  readonly keyAlgorithm: KeyAlgorithm;
  readonly issuerKeyId: string;
  readonly issuedAtMs: number;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
}

/** The result of verifying a peer's certificate against the current bundle and register. */
export interface VerifiedPeer {
  readonly identity: WorkloadIdentity;
  readonly serialNumber: string;
  readonly issuerKeyId: string;
  readonly notAfterMs: number;
}

export interface AuthorityView extends AuthorityInfo {
  readonly role: AuthorityRole;
}

export interface CertificateAuthorityOptions {
  readonly trustDomain: string;
  readonly store: CaStore;
  /** Defaults to an in-memory register. */
  readonly certificates?: IssuedCertificateStore;
  /** Defaults to the system clock. */
  readonly clock?: Clock;
  /** Key algorithm of a generated CA. Defaults to `ECDSA_P256`. */
  readonly caKeyAlgorithm?: KeyAlgorithm;
  /** Validity of a generated CA. Defaults to 10 years. */
  readonly caValidityMs?: number;
  /**
   * Use the operator's intermediate CA instead of generating one. On first start it is imported;
   * on a later start with different files, a CA rotation to the new files begins.
   */
  readonly operatorCa?: OperatorCaFiles;
  /** Workload key algorithm. Defaults to `ECDSA_P256`; `RSA_2048` is the other choice. */
  readonly workloadKeyAlgorithm?: KeyAlgorithm;
  /** Default workload certificate lifetime. Defaults to 24 h; at least 1 minute. */
  readonly workloadCertTtlMs?: number;
  /** CRL validity (nextUpdate - now); CRLs are re-signed at half of it. Defaults to 24 h. */
  readonly crlValidityMs?: number;
  /** Called after the bundle changed (new roots, CRLs). */
  readonly onBundleChanged?: (bundle: TrustBundle) => void;
  /** Sink for operational messages; never receives key material. */
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface IssueOptions {
  readonly ttlMs?: number;
  readonly keyAlgorithm?: KeyAlgorithm;
  /** Only for the control plane's serving certificate: DNS names / IP addresses it is reached by. */
  readonly serverNames?: ServerNames;
}

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function checkServerNames(names: ServerNames | undefined): ServerNames {
  if (names === undefined) return {};
  (names.dnsNames ?? []).forEach((n, i) => {
    if (typeof n !== 'string' || !DNS_NAME.test(n)) throw new CaError('INVALID_ARGUMENT', `serverNames.dnsNames[${i}]: '${String(n)}' is not a lower-case DNS name`);
  });
  (names.ipAddresses ?? []).forEach((n, i) => {
    if (typeof n !== 'string' || isIP(n) === 0) throw new CaError('INVALID_ARGUMENT', `serverNames.ipAddresses[${i}]: '${String(n)}' is not an IP address`);
  });
  return names;
}

export interface CertificateAuthority {
  readonly trustDomain: string;
  /** Default lifetime of workload certificates. */
  readonly workloadCertTtlMs: number;
  /** The current trust bundle (immutable snapshot). */
  bundle(): TrustBundle;
  /** Authorities in the bundle with their role: active first. */
  authorities(): readonly AuthorityView[];
  active(): AuthorityView;
  /** Issues and records a certificate from the active authority. */
  issue(identity: WorkloadIdentity, options?: IssueOptions): Promise<IssuedSvid>;
  /** Parses + validates a SPIFFE ID of this trust domain. @throws CaError INVALID_SPIFFE_ID */
  parseIdentity(spiffeId: unknown, field?: string): WorkloadIdentity;
  getCertificate(serialNumber: string): Promise<IssuedCertificateRecord | undefined>;
  listCertificates(query?: CertificateQuery): Promise<CertificatePage>;
  /** Marks an `active` record superseded (after its renewal was delivered). No-op otherwise. */
  supersede(serialNumber: string): Promise<void>;
  /**
   * Revokes a certificate: recorded, then every authority's CRL is re-signed and the bundle
   * version bumps (peers refuse it at the next push).
   * @throws CaError NOT_FOUND
   */
  revoke(serialNumber: string, reason?: string): Promise<IssuedCertificateRecord>;
  /**
   * Verifies a peer's leaf certificate (DER): signed by an authority of the current bundle, valid
   * now (by the CA's clock), exactly one URI SAN that is a workload identity of this trust domain,
   * issued by this CA (in the register, same identity) and not revoked.
   * @throws CaError UNAUTHENTICATED naming the reason.
   */
  verifyPeerCertificate(der: Uint8Array): Promise<VerifiedPeer>;
  /** CA rotation primitives (driven by the mesh CA's rotation scheduler). */
  rotation(): StoredRotation | undefined;
  addIncoming(source: { readonly keyAlgorithm?: KeyAlgorithm } | { readonly operatorCa: OperatorCaFiles }): Promise<AuthorityView>;
  promoteIncoming(): Promise<void>;
  retireOutgoing(): Promise<void>;
  setRotation(rotation: StoredRotation | undefined): Promise<void>;
  /** Forgets register records that expired before `beforeMs` (they can no longer be used or listed on a CRL). */
  pruneRecords(beforeMs: number): Promise<number>;
  /** Re-signs the CRLs now and publishes a new bundle version. */
  refreshBundle(): Promise<TrustBundle>;
  onBundleChanged(listener: (bundle: TrustBundle) => void): () => void;
  /**
   * Set when `operatorCa` files given at start-up differ from every stored authority: the caller
   * (the mesh CA) starts a rotation to them.
   */
  readonly operatorCaChanged: OperatorCaFiles | undefined;
  close(): void;
}

interface Slot {
  stored: StoredAuthority;
  authority: IssuingAuthority;
}

const DAY = 24 * 3600 * 1000;

function checkKeyAlgorithm(value: unknown, field: string, allowed: readonly KeyAlgorithm[]): KeyAlgorithm {
  if (typeof value !== 'string' || !allowed.includes(value as KeyAlgorithm)) {
    throw new CaError('INVALID_ARGUMENT', `${field}: '${String(value)}' is not one of ${allowed.join(', ')}`);
  }
  return value as KeyAlgorithm;
}

function checkDuration(value: unknown, field: string, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new CaError('INVALID_ARGUMENT', `${field}: must be a number of milliseconds >= ${min}`);
  }
  return value;
}

/** A stored CRL can be re-published when it lists exactly `revoked` and is less than half-way to nextUpdate. */
function crlStillMatches(crlPem: string, revoked: readonly IssuedCertificateRecord[], nowMs: number): boolean {
  try {
    const crl = new x509.X509Crl(crlPem);
    const next = crl.nextUpdate?.getTime();
    if (next === undefined) return false;
    const issued = crl.thisUpdate.getTime() + BACKDATE_MS;
    if (nowMs < issued || nowMs > issued + (next - issued) / 2) return false;
    const listed = new Set(crl.entries.map((e) => e.serialNumber.toLowerCase()));
    return listed.size === revoked.length && revoked.every((r) => listed.has(r.serialNumber));
  } catch {
    return false;
  }
}

function fingerprintOf(pem: string): string {
  return new NodeX509(pem).fingerprint256;
}

export async function createCertificateAuthority(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
  const trustDomain = assertTrustDomain(options.trustDomain);
  const clock = options.clock ?? createSystemClock();
  const store = options.store;
  const certificates = options.certificates ?? createMemoryIssuedCertificateStore();
  const log = options.log ?? (() => {});
  const caKeyAlgorithm = checkKeyAlgorithm(options.caKeyAlgorithm ?? 'ECDSA_P256', 'caKeyAlgorithm', KEY_ALGORITHMS);
  const workloadKeyAlgorithm = checkKeyAlgorithm(options.workloadKeyAlgorithm ?? 'ECDSA_P256', 'workloadKeyAlgorithm', ['ECDSA_P256', 'RSA_2048']);
  const workloadCertTtlMs = checkDuration(options.workloadCertTtlMs ?? DAY, 'workloadCertTtlMs', 60_000);
  const crlValidityMs = checkDuration(options.crlValidityMs ?? DAY, 'crlValidityMs', 60_000);
  const caValidityMs = checkDuration(options.caValidityMs ?? 10 * 365 * DAY, 'caValidityMs', DAY);

  let slots: Slot[] = [];
  let rotationState: StoredRotation | undefined;
  let bundleVersion = 0;
  let current: TrustBundle | undefined;
  const listeners = new Set<(b: TrustBundle) => void>();
  if (options.onBundleChanged) listeners.add(options.onBundleChanged);
  let queue: Promise<unknown> = Promise.resolve();
  let crlTimer: ClockTimer | undefined;
  let closed = false;

  /** Runs state mutations one at a time. */
  const serialised = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => {});
    return next;
  };

  const roleOrder: Record<AuthorityRole, number> = { active: 0, incoming: 1, outgoing: 2 };
  const sortSlots = (): void => {
    slots.sort((a, b) => roleOrder[a.stored.role] - roleOrder[b.stored.role]);
  };
  const activeSlot = (): Slot => {
    const s = slots.find((x) => x.stored.role === 'active');
    if (!s) throw new CaError('CA_STATE_CORRUPT', 'no active authority');
    return s;
  };

  const persist = async (): Promise<void> => {
    const state: StoredCaState = {
      formatVersion: 1,
      trustDomain,
      authorities: slots.map((s) => s.stored),
      ...(rotationState ? { rotation: rotationState } : {}),
      bundleVersion,
    };
    await store.save(state);
  };

  const addSlot = async (authority: IssuingAuthority, role: AuthorityRole): Promise<Slot> => {
    if (slots.some((s) => s.authority.info.id === authority.info.id)) {
      throw new CaError('CONFLICT', `authority ${authority.info.id} is already in the trust bundle`);
    }
    // Key first: a crash between the two leaves an orphan key file, never a state without its key.
    await store.saveKey(authority.info.id, authority.material.privateKeyPem);
    const slot: Slot = {
      authority,
      stored: {
        id: authority.info.id,
        role,
        source: authority.material.source,
        certificatePem: authority.material.certificatePem,
        intermediatesPem: authority.material.intermediatesPem,
        rootPem: authority.material.rootPem,
        createdAt: new Date(clock.now()).toISOString(),
        crlNumber: 0,
      },
    };
    slots.push(slot);
    sortSlots();
    return slot;
  };

  /**
   * Re-signs all CRLs, bumps the version, persists, publishes. Call inside `serialised`.
   * With `reuseFresh` (start-up), a stored CRL that lists exactly the currently revoked serials and
   * is younger than half its validity is kept, and when every CRL is kept the bundle keeps its
   * version: a restart pushes nothing new.
   */
  const rebuildBundle = async (reuseFresh = false): Promise<TrustBundle> => {
    const now = clock.now();
    const crls: string[] = [];
    let changed = !reuseFresh;
    for (const s of slots) {
      const revoked = await certificates.listRevoked(s.authority.info.id, now - BACKDATE_MS);
      if (reuseFresh && s.stored.crlPem !== undefined && crlStillMatches(s.stored.crlPem, revoked, now)) {
        crls.push(s.stored.crlPem);
        continue;
      }
      changed = true;
      const crlNumber = s.stored.crlNumber + 1;
      const crlPem = await buildCrl(s.authority, revoked, crlNumber, now, crlValidityMs);
      crls.push(crlPem);
      s.stored = { ...s.stored, crlNumber, crlPem };
    }
    const roots: string[] = [];
    const seen = new Set<string>();
    for (const s of slots) {
      const fp = fingerprintOf(s.authority.rootPem);
      if (!seen.has(fp)) {
        seen.add(fp);
        roots.push(s.authority.rootPem);
      }
    }
    if (changed || current === undefined) {
      if (changed) bundleVersion += 1;
      await persist();
    }
    current = Object.freeze({
      trustDomain,
      version: String(bundleVersion),
      roots: Object.freeze(roots),
      rootsPem: roots.join(''),
      crlsPem: crls.join(''),
      authorities: Object.freeze(slots.map((s) => Object.freeze({ id: s.authority.info.id, role: s.stored.role }))),
      builtAt: new Date(now).toISOString(),
    });
    for (const l of listeners) {
      try {
        l(current);
      } catch (err) {
        log('error', `bundle listener failed: ${(err as Error).message}`);
      }
    }
    return current;
  };

  const scheduleCrlRefresh = (): void => {
    if (closed) return;
    if (crlTimer) clock.clearTimer(crlTimer);
    crlTimer = clock.setTimer(async () => {
      crlTimer = undefined;
      try {
        await serialised(() => rebuildBundle());
      } catch (err) {
        log('error', `CRL refresh failed: ${(err as Error).message}`);
      }
      scheduleCrlRefresh();
    }, crlValidityMs / 2);
  };

  // ---- start-up: load or create ----
  const saved = await store.load();
  if (saved === undefined) {
    const now = clock.now();
    const authority = options.operatorCa
      ? await loadOperatorCa(options.operatorCa, now)
      : await generateAuthority({ trustDomain, keyAlgorithm: caKeyAlgorithm, validityMs: caValidityMs, nowMs: now });
    await addSlot(authority, 'active');
    log('info', `created CA ${authority.info.id} (${authority.info.source}, ${authority.info.keyAlgorithm}) for trust domain ${trustDomain}`);
  } else {
    if (saved.trustDomain !== trustDomain) {
      throw new CaError(
        'CA_STATE_CORRUPT',
        `the stored CA belongs to trust domain '${saved.trustDomain}', not '${trustDomain}'; changing the trust domain needs a new CA state directory`,
      );
    }
    bundleVersion = saved.bundleVersion;
    rotationState = saved.rotation;
    for (const st of saved.authorities) {
      const privateKeyPem = await store.loadKey(st.id);
      const material: AuthorityMaterial = {
        source: st.source,
        certificatePem: st.certificatePem,
        intermediatesPem: st.intermediatesPem,
        rootPem: st.rootPem,
        privateKeyPem,
      };
      const authority = loadAuthority(material, clock.now());
      if (authority.info.id !== st.id) throw new CaError('CA_STATE_CORRUPT', `stored authority ${st.id} has key id ${authority.info.id}`);
      slots.push({ stored: st, authority });
    }
    sortSlots();
    activeSlot();
  }
  await serialised(() => rebuildBundle(true));
  scheduleCrlRefresh();
  {
    const a = activeSlot().authority;
    const left = a.notAfterMs - clock.now();
    if (left < 30 * DAY) {
      log('warn', `the active CA ${a.info.id} expires on ${a.info.notAfter}; rotate it (workload certificates are cut short at its expiry)`);
    }
  }

  // Operator CA files changed since the last start: the mesh CA rotates to them.
  let operatorCaChanged: OperatorCaFiles | undefined;
  if (saved !== undefined && options.operatorCa) {
    const material = await readOperatorCaFiles(options.operatorCa);
    const fp = fingerprintOf(material.certificatePem);
    if (!slots.some((s) => fingerprintOf(s.stored.certificatePem) === fp)) operatorCaChanged = options.operatorCa;
  }

  const view = (s: Slot): AuthorityView => ({ ...s.authority.info, role: s.stored.role });

  const ca: CertificateAuthority = {
    trustDomain,
    workloadCertTtlMs,
    operatorCaChanged,
    bundle() {
      if (!current) throw new CaError('CA_STATE_CORRUPT', 'bundle not built');
      return current;
    },
    authorities: () => slots.map(view),
    active: () => view(activeSlot()),
    parseIdentity: (spiffeId, field) => parseWorkloadIdentity(spiffeId, trustDomain, field),

    async issue(identity, issueOptions = {}) {
      if (identity.trustDomain !== trustDomain) {
        throw new CaError('INVALID_SPIFFE_ID', `spiffeId: '${identity.spiffeId}' is not in trust domain '${trustDomain}'`);
      }
      const ttl = checkDuration(issueOptions.ttlMs ?? workloadCertTtlMs, 'ttlMs', 60_000);
      const keyAlgorithm = checkKeyAlgorithm(issueOptions.keyAlgorithm ?? workloadKeyAlgorithm, 'keyAlgorithm', ['ECDSA_P256', 'RSA_2048']);
      const serverNames = checkServerNames(issueOptions.serverNames);
      const key = await generateWorkloadKeyPair(keyAlgorithm);
      // Pick the authority after key generation: a rotation switch meanwhile is honoured.
      const slot = activeSlot();
      const a = slot.authority;
      const now = clock.now();
      const notBeforeMs = Math.max(now - BACKDATE_MS, a.notBeforeMs);
      const notAfterMs = Math.min(now + ttl, a.notAfterMs);
      if (notAfterMs <= now) throw new CaError('ISSUANCE_FAILED', `the active CA ${a.info.id} expired on ${a.info.notAfter}`);
      let leaf;
      try {
        leaf = signSvid(a.template, identity, key, { notBefore: new Date(notBeforeMs), notAfter: new Date(notAfterMs) }, undefined, serverNames);
      } catch (err) {
        throw new CaError('ISSUANCE_FAILED', `signing a certificate for ${identity.spiffeId} failed: ${(err as Error).message}`, { cause: err });
      }
      // Second precision, as encoded in the certificate.
      const nb = Math.floor(notBeforeMs / 1000) * 1000;
      const na = Math.floor(notAfterMs / 1000) * 1000;
      await certificates.add({
        serialNumber: leaf.serialNumber,
        spiffeId: identity.spiffeId,
        notBefore: new Date(nb).toISOString(),
        notAfter: new Date(na).toISOString(),
        issuedAt: new Date(now).toISOString(),
        issuerKeyId: a.info.id,
        keyAlgorithm,
        status: 'active',
      });
      return {
        identity,
        serialNumber: leaf.serialNumber,
        certificatePem: leaf.certificatePem,
        certificateChainPem: leaf.certificatePem + a.chainPem,
        privateKeyPem: key.privateKeyPem,
        keyAlgorithm,
        issuerKeyId: a.info.id,
        issuedAtMs: now,
        notBeforeMs: nb,
        notAfterMs: na,
      };
    },

    getCertificate: (serial) => certificates.get(serial.toLowerCase()),
    listCertificates: (query) => certificates.list(query),

    async supersede(serial) {
      const r = await certificates.get(serial);
      if (r && r.status === 'active') await certificates.update({ ...r, status: 'superseded' });
    },

    revoke(serialNumber, reason) {
      return serialised(async () => {
        const serial = typeof serialNumber === 'string' ? serialNumber.toLowerCase() : '';
        const r = await certificates.get(serial);
        if (!r) throw new CaError('NOT_FOUND', `serialNumber: no certificate '${String(serialNumber)}' was issued by this CA`);
        if (r.status === 'revoked') return r;
        const revoked: IssuedCertificateRecord = {
          ...r,
          status: 'revoked',
          revokedAt: new Date(clock.now()).toISOString(),
          ...(reason !== undefined ? { revocationReason: reason } : {}),
        };
        await certificates.update(revoked);
        await rebuildBundle();
        log('info', `revoked certificate ${serial} of ${r.spiffeId}`);
        return revoked;
      });
    },

    async verifyPeerCertificate(der) {
      let cert: NodeX509;
      try {
        cert = new NodeX509(Buffer.from(der));
      } catch {
        throw new CaError('UNAUTHENTICATED', 'the client certificate is not a valid X.509 certificate');
      }
      const issuer = slots.find((s) => cert.checkIssued(s.authority.certificate) && cert.verify(s.authority.certificate.publicKey));
      if (!issuer) throw new CaError('UNAUTHENTICATED', 'the client certificate was not issued by a CA in the current trust bundle');
      const now = clock.now();
      if (now < Date.parse(cert.validFrom)) throw new CaError('UNAUTHENTICATED', `the client certificate is not valid before ${new Date(cert.validFrom).toISOString()}`);
      if (now > Date.parse(cert.validTo)) throw new CaError('UNAUTHENTICATED', `the client certificate expired on ${new Date(cert.validTo).toISOString()}`);
      const san = new x509.X509Certificate(cert.raw).getExtension(x509.SubjectAlternativeNameExtension);
      const names = san ? san.names.items : [];
      const uris = names.filter((n) => n.type === 'url').map((n) => n.value);
      if (uris.length !== 1 || names.length !== 1) {
        throw new CaError('UNAUTHENTICATED', `the client certificate must carry exactly one SAN, a SPIFFE ID URI; found ${names.length} (${uris.length} URI)`);
      }
      let identity: WorkloadIdentity;
      try {
        identity = parseWorkloadIdentity(uris[0], trustDomain, 'client certificate URI SAN');
      } catch (err) {
        throw new CaError('UNAUTHENTICATED', (err as Error).message);
      }
      const serial = cert.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
      const record = (await certificates.get(serial)) ?? (await certificates.get(cert.serialNumber.toLowerCase()));
      if (!record || record.spiffeId !== identity.spiffeId) {
        throw new CaError('UNAUTHENTICATED', `the client certificate (serial ${serial}) was not issued by this control plane`);
      }
      if (record.status === 'revoked') throw new CaError('UNAUTHENTICATED', `the client certificate (serial ${serial}) was revoked`);
      return { identity, serialNumber: record.serialNumber, issuerKeyId: issuer.authority.info.id, notAfterMs: Date.parse(cert.validTo) };
    },

    rotation: () => rotationState,

    addIncoming(source) {
      return serialised(async () => {
        if (slots.some((s) => s.stored.role === 'incoming')) throw new CaError('CONFLICT', 'a CA rotation is already in progress (an incoming CA exists)');
        if (slots.some((s) => s.stored.role === 'outgoing')) throw new CaError('CONFLICT', 'the previous CA rotation has not finished (an outgoing CA is still trusted)');
        const now = clock.now();
        let authority: IssuingAuthority;
        if ('operatorCa' in source) {
          authority = await loadOperatorCa(source.operatorCa, now);
        } else {
          const alg = checkKeyAlgorithm(source.keyAlgorithm ?? activeSlot().authority.info.keyAlgorithm, 'keyAlgorithm', KEY_ALGORITHMS);
          authority = await generateAuthority({ trustDomain, keyAlgorithm: alg, validityMs: caValidityMs, nowMs: now });
        }
        const slot = await addSlot(authority, 'incoming');
        await rebuildBundle();
        log('info', `CA rotation: published incoming CA ${authority.info.id} in the trust bundle`);
        return view(slot);
      });
    },

    promoteIncoming() {
      return serialised(async () => {
        const incoming = slots.find((s) => s.stored.role === 'incoming');
        if (!incoming) throw new CaError('CONFLICT', 'there is no incoming CA to promote');
        const old = activeSlot();
        old.stored = { ...old.stored, role: 'outgoing' };
        incoming.stored = { ...incoming.stored, role: 'active' };
        sortSlots();
        await rebuildBundle();
        log('info', `CA rotation: ${incoming.authority.info.id} now signs new certificates; ${old.authority.info.id} is outgoing`);
      });
    },

    retireOutgoing() {
      return serialised(async () => {
        const outgoing = slots.filter((s) => s.stored.role === 'outgoing');
        if (outgoing.length === 0) return;
        slots = slots.filter((s) => s.stored.role !== 'outgoing');
        await rebuildBundle();
        for (const s of outgoing) {
          await store.deleteKey(s.authority.info.id);
          log('info', `CA rotation: retired CA ${s.authority.info.id} from the trust bundle`);
        }
      });
    },

    setRotation(rotation) {
      return serialised(async () => {
        rotationState = rotation;
        await persist();
      });
    },

    refreshBundle: () => serialised(() => rebuildBundle()),
    pruneRecords: (before) => certificates.pruneExpired(Math.min(before, clock.now() - BACKDATE_MS)),

    onBundleChanged(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    close() {
      closed = true;
      if (crlTimer) clock.clearTimer(crlTimer);
      crlTimer = undefined;
    },
  };

  return ca;
}

