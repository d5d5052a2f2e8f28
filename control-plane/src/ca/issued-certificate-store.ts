/**
 * The register of every workload certificate the CA issued, so operators can list and revoke them
 * and CRLs can be built. Only public facts are recorded (never a private key).
 *
 * The interface is what ca/ depends on; {@link createMemoryIssuedCertificateStore} implements it
 * here, the REST API layer adds a SQLite one.
 */

/**
 * - `active`: the identity's current certificate;
 * - `superseded`: replaced by a renewal (still valid until notAfter; peers keep accepting it so
 *   connections that use it are not dropped);
 * - `revoked`: on the issuing authority's CRL until it expires.
 * Expiry is not a status: compare `notAfter` with the time.
 */
export type CertificateStatus = 'active' | 'superseded' | 'revoked';

export interface IssuedCertificateRecord {
  /** Lower-case hex, unique. */
  readonly serialNumber: string;
  readonly spiffeId: string;
  /** ISO 8601. */
  readonly notBefore: string;
  readonly notAfter: string;
  readonly issuedAt: string;
  /** Hex subject key identifier of the issuing authority (its `AuthorityInfo.id`). */
  readonly issuerKeyId: string;
  readonly keyAlgorithm: string;
  readonly status: CertificateStatus;
  readonly revokedAt?: string;
  readonly revocationReason?: string;
}

export interface CertificateQuery {
  readonly spiffeId?: string;
  readonly status?: CertificateStatus;
  readonly issuerKeyId?: string;
  /** Page size; defaults to 100, at most 1000. */
  readonly limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  readonly cursor?: string;
}

export interface CertificatePage {
  readonly items: readonly IssuedCertificateRecord[];
  readonly nextCursor?: string;
}

export interface IssuedCertificateStore {
  /** Records a new certificate. @throws if the serial number exists. */
  add(record: IssuedCertificateRecord): Promise<void>;
  get(serialNumber: string): Promise<IssuedCertificateRecord | undefined>;
  /** Replaces the record with the same serial number. @throws if there is none. */
  update(record: IssuedCertificateRecord): Promise<void>;
  /** Records in issuance order. */
  list(query?: CertificateQuery): Promise<CertificatePage>;
  /** Revoked certificates of one issuer that expire after `notAfterAfterMs` (CRL contents). */
  listRevoked(issuerKeyId: string, notAfterAfterMs: number): Promise<readonly IssuedCertificateRecord[]>;
  /** Drops records that expired before `beforeMs`. Returns how many were dropped. */
  pruneExpired(beforeMs: number): Promise<number>;
}

export function createMemoryIssuedCertificateStore(): IssuedCertificateStore {
  const bySerial = new Map<string, IssuedCertificateRecord>();
  const order: string[] = [];
  let dropped = 0; // entries removed from the front of `order` by pruning (keeps cursors stable)
  return {
    async add(record) {
      if (bySerial.has(record.serialNumber)) throw new Error(`certificate ${record.serialNumber} is already recorded`);
      bySerial.set(record.serialNumber, record);
      order.push(record.serialNumber);
    },
    async get(serial) {
      return bySerial.get(serial);
    },
    async update(record) {
      if (!bySerial.has(record.serialNumber)) throw new Error(`certificate ${record.serialNumber} is not recorded`);
      bySerial.set(record.serialNumber, record);
    },
    async list(query = {}) {
      const limit = Math.min(Math.max(1, query.limit ?? 100), 1000);
      let start = query.cursor === undefined ? 0 : Math.max(0, Number.parseInt(query.cursor, 10) - dropped);
      if (!Number.isFinite(start)) start = 0;
      const items: IssuedCertificateRecord[] = [];
      let i = start;
      for (; i < order.length && items.length < limit; i++) {
        const r = bySerial.get(order[i]!);
        if (r === undefined) continue;
        if (query.spiffeId !== undefined && r.spiffeId !== query.spiffeId) continue;
        if (query.status !== undefined && r.status !== query.status) continue;
        if (query.issuerKeyId !== undefined && r.issuerKeyId !== query.issuerKeyId) continue;
        items.push(r);
      }
      return i < order.length ? { items, nextCursor: String(i + dropped) } : { items };
    },
    async listRevoked(issuerKeyId, after) {
      const out: IssuedCertificateRecord[] = [];
      for (const r of bySerial.values()) {
        if (r.status === 'revoked' && r.issuerKeyId === issuerKeyId && Date.parse(r.notAfter) > after) out.push(r);
      }
      return out;
    },
    async pruneExpired(before) {
      let n = 0;
      for (const [serial, r] of bySerial) {
        if (Date.parse(r.notAfter) < before) {
          bySerial.delete(serial);
          n++;
        }
      }
      if (n > 0) {
        const keep = order.filter((s) => bySerial.has(s));
        dropped += order.length - keep.length;
        order.length = 0;
        order.push(...keep);
      }
      return n;
    },
  };
}
