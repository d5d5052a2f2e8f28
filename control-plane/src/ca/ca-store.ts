/**
 * Persistence of the CA's own state: its authorities (certificates) and their private keys.
 *
 * The interface is what ca/ depends on; {@link createMemoryCaStore} (tests) and
 * {@link createFileCaStore} (file-based, see file-ca-store.ts) implement it. Keys are handed over as
 * PKCS#8 PEM; whether and how they are encrypted at rest is the store's business.
 */
import type { AuthoritySource } from './authority.js';
import { CaError } from './ca-error.js';

/**
 * An authority's role in the trust bundle:
 * - `active`: signs every new workload certificate (exactly one);
 * - `incoming`: published in the bundle ahead of a CA rotation, not yet signing;
 * - `outgoing`: replaced by a rotation; still in the bundle until every active workload holds a
 *   certificate from the new authority (then it is removed from the state and its key deleted).
 */
export type AuthorityRole = 'active' | 'incoming' | 'outgoing';

export interface StoredAuthority {
  readonly id: string;
  readonly role: AuthorityRole;
  readonly source: AuthoritySource;
  readonly certificatePem: string;
  readonly intermediatesPem: readonly string[];
  readonly rootPem: string;
  /** ISO time the authority was created or imported. */
  readonly createdAt: string;
  /** Monotonic number of the last CRL this authority signed (RFC 5280 cRLNumber). */
  readonly crlNumber: number;
  /** The last CRL it signed (re-published after a restart while still fresh). */
  readonly crlPem?: string;
}

/** A CA rotation in progress (see certificate-authority.ts for the phases). */
export interface StoredRotation {
  readonly phase: 'publish' | 'reissue' | 'retire';
  readonly fromId: string;
  readonly toId: string;
  readonly startedAt: string;
  /** ISO time the current phase may end (publish/retire wait for propagation). */
  readonly phaseDeadline: string;
}

export interface StoredCaState {
  readonly formatVersion: 1;
  readonly trustDomain: string;
  readonly authorities: readonly StoredAuthority[];
  readonly rotation?: StoredRotation;
  /** Bumped on every change of the trust bundle (roots or CRLs); survives restarts. */
  readonly bundleVersion: number;
}

export interface CaStore {
  /** The saved state, or undefined before the first start. */
  load(): Promise<StoredCaState | undefined>;
  /** Replaces the state atomically (a crash leaves the old or the new state, never a mix). */
  save(state: StoredCaState): Promise<void>;
  /** Stores an authority's private key (PKCS#8 PEM). */
  saveKey(authorityId: string, pkcs8Pem: string): Promise<void>;
  /**
   * Returns the key saved for `authorityId`.
   * @throws CaError CA_STATE_CORRUPT when missing, CA_KEY_LOCKED when it cannot be decrypted.
   */
  loadKey(authorityId: string): Promise<string>;
  deleteKey(authorityId: string): Promise<void>;
}

/** In-memory CaStore (tests, ephemeral control planes). State is deep-copied on save and load. */
export function createMemoryCaStore(): CaStore {
  let state: string | undefined;
  const keys = new Map<string, string>();
  return {
    async load() {
      return state === undefined ? undefined : (JSON.parse(state) as StoredCaState);
    },
    async save(next) {
      state = JSON.stringify(next);
    },
    async saveKey(id, pem) {
      keys.set(id, pem);
    },
    async loadKey(id) {
      const pem = keys.get(id);
      if (pem === undefined) throw new CaError('CA_STATE_CORRUPT', `no private key stored for authority ${id}`);
      return pem;
    },
    async deleteKey(id) {
      keys.delete(id);
    },
  };
}
