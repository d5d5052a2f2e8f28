/**
 * Where proxies reach the lease service (`POST /v1/budget-leases` on the REST API), as translate
 * needs it ({@link BudgetLeaseEndpoint}), from the `budgets.leaseEndpoint` setting and the bound
 * REST API. Pure.
 *
 * - `url`: the operator's base URL. `http` = plaintext; `https` = mesh mTLS (the proxies present
 *   their workload certificate and check the server against the mesh trust bundle: exactly the
 *   control plane's serving identity when the API serves TLS itself, else any identity of the
 *   trust domain). Without a port: 80 / 443.
 * - `derived`: `api.host` and the bound API port, plaintext when `api.tls` is `off`, else mesh mTLS
 *   to the serving identity. A wildcard `api.host` (0.0.0.0, ::) names no address a proxy can dial:
 *   then there is no endpoint and `reason` says which setting to set.
 * - `off`: no endpoint (each proxy enforces every budget alone).
 */
import type { Settings } from '../config/settings.js';
import type { BudgetLeaseEndpoint } from '../translate/budget-config.js';

export interface BudgetLeaseEndpointInput {
  readonly leaseEndpoint: Settings['budgets']['leaseEndpoint'];
  readonly api: Pick<Settings['api'], 'host' | 'tls'>;
  /** The port the REST API is bound to (the real one when `api.port` is 0). */
  readonly apiPort: number;
  /** The bearer token proxies send (a `proxy`-role token: it reaches only the lease endpoint). */
  readonly token: string;
  /** SPIFFE ID of the API's serving certificate, when it serves TLS. */
  readonly servingIdentity: string | undefined;
}

export interface BudgetLeaseEndpointResult {
  /** Undefined: proxies get no lease endpoint. */
  readonly endpoint: BudgetLeaseEndpoint | undefined;
  /** The URL proxies call (base, without `/v1/budget-leases`), when there is an endpoint. */
  readonly url: string | undefined;
  /** Why there is no endpoint, or what looks wrong about it (for the log). */
  readonly reason: string | undefined;
}

const bare = (h: string): string => (h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h);
const forUrl = (h: string): string => (h.includes(':') ? `[${h}]` : h);

export function budgetLeaseEndpointOf(input: BudgetLeaseEndpointInput): BudgetLeaseEndpointResult {
  const { leaseEndpoint: setting, api } = input;
  const authorization = `Bearer ${input.token}`;
  const identity = api.tls !== 'off' && input.servingIdentity !== undefined ? { identity: input.servingIdentity } : {};
  if (setting.kind === 'off') return { endpoint: undefined, url: undefined, reason: 'budgets.leaseEndpoint is off: each proxy enforces every budget alone' };
  if (setting.kind === 'derived') {
    const host = bare(api.host);
    if (host === '0.0.0.0' || host === '::') {
      return {
        endpoint: undefined,
        url: undefined,
        reason: `api.host is the wildcard ${host}, which names no address proxies can dial: set budgets.leaseEndpoint (MESHWARD_BUDGET_LEASE_URL) for the fleet budget bound; until then each proxy enforces every budget alone`,
      };
    }
    const tls = api.tls === 'off' ? 'plaintext' : 'mtls';
    return {
      endpoint: { address: host, port: input.apiPort, tls, ...identity, authorization },
      url: `${tls === 'mtls' ? 'https' : 'http'}://${forUrl(host)}:${input.apiPort}`,
      reason: undefined,
    };
  }
  const url = new URL(setting.url);
  const https = url.protocol === 'https:';
  const port = url.port === '' ? (https ? 443 : 80) : Number(url.port);
  const mismatch =
    https && api.tls === 'off'
      ? 'budgets.leaseEndpoint is https but api.tls is off: proxies speak mesh mTLS, so whatever answers there must present a mesh certificate'
      : !https && api.tls !== 'off'
        ? `budgets.leaseEndpoint is http but api.tls is ${api.tls}: proxies will send plaintext (and their token) to it`
        : undefined;
  return {
    endpoint: { address: bare(url.hostname), port, tls: https ? 'mtls' : 'plaintext', ...(https ? identity : {}), authorization },
    url: setting.url,
    reason: mismatch,
  };
}
