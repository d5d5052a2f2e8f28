/**
 * Persistence of join tokens. Only the SHA-256 of a token is ever stored (never the token).
 * The interface is what ca/ depends on; the REST API layer adds a SQLite implementation.
 */

export interface JoinTokenRecord {
  /** Public handle for listing and revoking: the first 16 hex chars of the token hash. */
  readonly tokenId: string;
  /** Lower-case hex SHA-256 of the full token string. */
  readonly tokenHash: string;
  /** The one identity this token admits. */
  readonly spiffeId: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly revokedAt?: string;
  readonly lastUsedAt?: string;
  readonly description?: string;
}

export interface JoinTokenStore {
  add(record: JoinTokenRecord): Promise<void>;
  getByHash(tokenHash: string): Promise<JoinTokenRecord | undefined>;
  get(tokenId: string): Promise<JoinTokenRecord | undefined>;
  update(record: JoinTokenRecord): Promise<void>;
  /** All tokens (optionally of one identity), oldest first. */
  list(filter?: { readonly spiffeId?: string }): Promise<readonly JoinTokenRecord[]>;
  /** Removes tokens that expired before `beforeMs`; returns how many. */
  pruneExpired(beforeMs: number): Promise<number>;
}

export function createMemoryJoinTokenStore(): JoinTokenStore {
  const byId = new Map<string, JoinTokenRecord>();
  const idByHash = new Map<string, string>();
  return {
    async add(r) {
      if (byId.has(r.tokenId) || idByHash.has(r.tokenHash)) throw new Error(`join token ${r.tokenId} already exists`);
      byId.set(r.tokenId, r);
      idByHash.set(r.tokenHash, r.tokenId);
    },
    async getByHash(hash) {
      const id = idByHash.get(hash);
      return id === undefined ? undefined : byId.get(id);
    },
    async get(id) {
      return byId.get(id);
    },
    async update(r) {
      if (!byId.has(r.tokenId)) throw new Error(`join token ${r.tokenId} does not exist`);
      byId.set(r.tokenId, r);
    },
    async list(filter = {}) {
      return [...byId.values()].filter((r) => filter.spiffeId === undefined || r.spiffeId === filter.spiffeId);
    },
    async pruneExpired(before) {
      let n = 0;
      for (const [id, r] of byId) {
        if (Date.parse(r.expiresAt) < before) {
          byId.delete(id);
          idByHash.delete(r.tokenHash);
          n++;
        }
      }
      return n;
    },
  };
}
