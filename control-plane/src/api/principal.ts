import type { ApiRole } from '../store/store.js';

/**
 * Who is calling, once authenticated. `name` is the API token's name: it is what the audit trail
 * records as the actor. `clientIdentity` is the SPIFFE ID of the client certificate when the API
 * is served with mTLS (recorded for information; authorization is by the token's role).
 */
export interface Principal {
  readonly tokenId: string;
  readonly name: string;
  readonly role: ApiRole;
  readonly clientIdentity: string | undefined;
}

/**
 * Who may call a route. Routes declare it in `config.access`:
 * - `public`: no token (only /healthz and /readyz);
 * - `viewer`: an `admin` or `viewer` token (reads, and the read-only POSTs like /v1/explain);
 * - `proxy`: a `proxy` or `admin` token: what proxies call (POST /v1/budget-leases). Not viewers:
 *   leasing budget changes state (the fleet's spend);
 * - `admin`: an `admin` token.
 * A `proxy` token reaches only `proxy` routes (and public ones): it travels in every Envoy's
 * config, so whoever reads one must not be able to read the rest of the API.
 * When `config.access` is absent it defaults to `viewer` for GET/HEAD and `admin` for everything
 * else, so a new write route is admin-only unless it says otherwise.
 */
export type Access = 'public' | 'viewer' | 'proxy' | 'admin';

/** The roles whose tokens may call a route of each access level (`public` needs no token). */
export const ROLES_FOR_ACCESS: Readonly<Record<Exclude<Access, 'public'>, readonly ApiRole[]>> = {
  viewer: ['admin', 'viewer'],
  proxy: ['admin', 'proxy'],
  admin: ['admin'],
};

/** True when a token of `role` may call a route of `access`. Pure; the API's auth hook decides by it. */
export function roleMayCall(role: ApiRole, access: Access): boolean {
  return access === 'public' || ROLES_FOR_ACCESS[access].includes(role);
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

export function defaultAccess(method: string | readonly string[]): Access {
  const methods = typeof method === 'string' ? [method] : method;
  return methods.every((m) => m === 'GET' || m === 'HEAD') ? 'viewer' : 'admin';
}
