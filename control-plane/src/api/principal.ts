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
 * Who may call a route: `public` (no token: only /healthz and /readyz), `viewer` (any valid token),
 * `admin` (a token with the admin role). Routes declare it in `config.access`; when absent it
 * defaults to `viewer` for GET/HEAD and `admin` for everything else, so a new write route is
 * admin-only unless it says otherwise.
 */
export type Access = 'public' | 'viewer' | 'admin';

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
